"""The rule catalogue and each rule on a tiny input: its id, its severity, French and Arabic messages."""
import datetime as dt
import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import reference
from etl.config import EXPECTATIONS_DIR
from etl.examine import Examination
from etl.findings import Finding
from etl.normalise import ProjectSheet
from etl.quality_checks import MIN_LOG_MAD, check_file, cross_province_findings, outlier_findings, usual_range
from etl.validate import policy_for_year, validate_rows

pytestmark = pytest.mark.unit
ARABIC = re.compile(r"[\u0600-\u06ff]")
HEADERS = {"project_code": "Code projet", "total_cost_mad": "Coût global (DH)",
           "indh_contribution_mad": "Contribution INDH", "promoter_contribution_mad": "Contribution porteur",
           "partner_contribution_mad": "Autres partenaires", "beneficiaries": "Nombre de bénéficiaires",
           "women": "Dont femmes", "youth": "Dont jeunes", "jobs_created": "Emplois créés",
           "approval_year": "Année d'approbation", "province_code": "Province", "sector": "Secteur"}


def placeholders(message: str) -> set[str]:
    """The facts a message names (``sector_fr`` and ``sector_ar`` are the same fact)."""
    return {re.sub(r"_(fr|ar)$", "", name) for _, name, _, _ in string.Formatter().parse(message) if name}


def test_catalogue_has_a_severity_and_both_languages_for_every_rule():
    rules = reference.rules()
    assert len(rules) == len(reference.read_csv("rules.csv"))  # ids are unique
    for rule in rules.values():
        assert rule.severity in {"error", "warning", "info"}, rule.rule_id
        assert rule.scope in {"file", "row", "cell"}, rule.rule_id
        assert rule.message_fr.strip() and not ARABIC.search(rule.message_fr), rule.rule_id
        assert ARABIC.search(rule.message_ar), rule.rule_id
        # Both languages take the same facts, so neither can fail to format where the other works.
        assert placeholders(rule.message_fr) == placeholders(rule.message_ar), rule.rule_id
    # The DESIGN's split: refused rows are errors, policy thresholds and outliers are warnings.
    for rule_id in ("E_CODE_MISSING", "E_CODE_DUPLICATE", "E_AMOUNT_NEGATIVE", "E_INDH_ABOVE_TOTAL",
                    "E_WOMEN_ABOVE_BENEFICIARIES", "E_YOUTH_ABOVE_BENEFICIARIES", "E_YEAR_OUT_OF_RANGE",
                    "E_PROVINCE_UNKNOWN", "FILE_PROVINCE_MISMATCH", "FILE_PERIOD_FUTURE"):
        assert rules[rule_id].severity == "error", rule_id
    for rule_id in ("W_PROMOTER_SHARE_LOW", "W_INDH_SHARE_HIGH", "W_COST_PER_BENEFICIARY_OUTLIER",
                    "W_COST_PER_JOB_OUTLIER", "W_PARTS_SUM_MISMATCH", "W_CODE_OTHER_PROVINCE"):
        assert rules[rule_id].severity == "warning", rule_id


def test_every_expectation_names_a_rule_of_the_catalogue():
    for path in EXPECTATIONS_DIR.glob("*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for expectation in suite["expectations"]:
            assert expectation["meta"]["rule_id"] in reference.rules(), (path.name, expectation)


def test_policy_covers_every_year_since_2005_once():
    years = {}
    for row in reference.read_csv("policy.csv"):
        last = int(row["last_year"]) if row["last_year"] else dt.date.today().year
        for year in range(int(row["first_year"]), last + 1):
            assert year not in years, year
            years[year] = int(row["phase"])
    assert set(years) == set(range(2005, dt.date.today().year + 1))
    assert (years[2005], years[2010], years[2011], years[2018], years[2019]) == (1, 1, 2, 2, 3)


def project(code="P-1", excel_row=5, **values):
    row = {"excel_row": excel_row, "project_code": code, "province_code": "MA-TAO", "approval_year": 2012,
           "total_cost_mad": 10_000_000, "indh_contribution_mad": 6_000_000,
           "promoter_contribution_mad": 3_000_000, "partner_contribution_mad": 1_000_000,
           "beneficiaries": 20, "women": 8, "youth": 5, "jobs_created": 4, "sector_code": "BEEKEEPING"}
    row.update(values)
    return row


def sheet_of(*rows):
    return ProjectSheet("AGR", 4, dict(HEADERS), rows=list(rows))


def assert_explained(finding: Finding):
    fr, ar = finding.messages()
    assert "{" not in fr and "{" not in ar
    assert ARABIC.search(ar) and fr != ar
    return fr, ar


ROW_RULES = [
    # rule, values that break it, column the finding points at, severity
    ("E_CODE_MISSING", {"code": None}, "Code projet", "error"),
    ("E_AMOUNT_NEGATIVE", {"promoter_contribution_mad": -100}, "Contribution porteur", "error"),
    ("E_INDH_ABOVE_TOTAL", {"indh_contribution_mad": 12_000_000}, "Contribution INDH", "error"),
    ("E_WOMEN_ABOVE_BENEFICIARIES", {"women": 21}, "Dont femmes", "error"),
    ("E_YOUTH_ABOVE_BENEFICIARIES", {"youth": 25}, "Dont jeunes", "error"),
    ("E_YEAR_OUT_OF_RANGE", {"approval_year": 2003}, "Année d'approbation", "error"),
    ("E_PROVINCE_UNKNOWN", {"province_code": "MA-XXX"}, "Province", "error"),
    ("W_PROMOTER_SHARE_LOW", {"promoter_contribution_mad": 2_999_999, "partner_contribution_mad": 1_000_001},
     "Contribution porteur", "warning"),
    ("W_INDH_SHARE_HIGH", {"indh_contribution_mad": 7_000_001, "promoter_contribution_mad": None,
                           "partner_contribution_mad": None}, "Contribution INDH", "warning"),
    # Both shares off by the same amount (no partner): one deviation, said once.
    ("W_SHARES_OFF_POLICY", {"indh_contribution_mad": 7_000_001, "promoter_contribution_mad": 2_999_999,
                             "partner_contribution_mad": 0}, "Contribution INDH", "warning"),
    ("W_PARTS_SUM_MISMATCH", {"partner_contribution_mad": 1_000_201}, "Coût global (DH)", "warning"),
]


@pytest.mark.parametrize("rule_id, values, column, severity", ROW_RULES, ids=[r[0] for r in ROW_RULES])
def test_each_row_rule_flags_the_wrong_row_only(rule_id, values, column, severity):
    values = dict(values)
    code = values.pop("code", "P-2")
    good = project("P-1", 5)
    wrong = project(code, 6, **values)
    findings = [f for f in validate_rows([sheet_of(good, wrong)]) if f.rule_id == rule_id]
    assert [(f.excel_row, f.column_header) for f in findings] == [(6, column)]
    assert findings[0].severity == severity
    assert_explained(findings[0])


def test_a_duplicate_code_is_flagged_on_both_rows():
    findings = validate_rows([sheet_of(project("P-1", 5), project("P-1", 6), project("P-3", 7))])
    assert sorted(f.excel_row for f in findings if f.rule_id == "E_CODE_DUPLICATE") == [5, 6]


def test_shares_exactly_at_the_thresholds_are_not_flagged():
    at_limits = project(indh_contribution_mad=7_000_000, promoter_contribution_mad=3_000_000,
                        partner_contribution_mad=0)
    assert validate_rows([sheet_of(at_limits)]) == []


def test_policy_thresholds_follow_the_phase_and_the_policy_file(tmp_path, monkeypatch):
    share_25 = {"promoter_contribution_mad": 2_500_000, "partner_contribution_mad": 1_500_000}
    rows = [project("P-1", 5, approval_year=2008, **share_25), project("P-2", 6, approval_year=2020, **share_25)]
    findings = [f for f in validate_rows([sheet_of(*rows)]) if f.rule_id == "W_PROMOTER_SHARE_LOW"]
    assert [f.excel_row for f in findings] == [5, 6]
    fr, ar = assert_explained(findings[0])
    assert "30 %" in fr and "phase 1" in fr and "30٪" in ar and "المرحلة 1" in ar
    assert "phase 3" in findings[1].messages()[0]

    policy = tmp_path / "policy.csv"
    policy.write_text("phase,first_year,last_year,min_promoter_share,max_indh_share,outlier_robust_z,"
                      "outlier_min_projects\n1,2005,2010,0.20,0.80,3.5,8\n2,2011,2018,0.30,0.70,3.5,8\n"
                      "3,2019,,0.25,0.70,3.5,8\n")
    monkeypatch.setenv("IGA_POLICY_FILE", str(policy))
    assert policy_for_year(2008).min_promoter_share == 0.20
    assert [f for f in validate_rows([sheet_of(*rows)]) if f.rule_id == "W_PROMOTER_SHARE_LOW"] == []
    rows[1]["promoter_contribution_mad"] = 2_400_000
    (finding,) = [f for f in validate_rows([sheet_of(*rows)]) if f.rule_id == "W_PROMOTER_SHARE_LOW"]
    assert finding.excel_row == 6 and "25 %" in finding.messages()[0]


def examination(rows, province="MA-TAO", period="2013"):
    from etl.periods import period_end

    sheet = sheet_of(*rows)
    return Examination(Path("agr.xlsx"), province, period, period_end(period), sheets=[sheet],
                       rows=[(sheet, row) for row in rows])


def test_cost_per_beneficiary_far_from_the_sector_is_a_warning_with_the_usual_range():
    rows = [project(f"P-{i}", 5 + i, total_cost_mad=(200_000 + 10_000 * i) * 100, beneficiaries=20,
                    jobs_created=4 + i % 3) for i in range(12)]
    rows.append(project("P-BIG", 30, total_cost_mad=300_000 * 100, beneficiaries=1, jobs_created=5))
    findings = outlier_findings(examination(rows))
    assert [(f.rule_id, f.excel_row, f.column_header) for f in findings] == [
        ("W_COST_PER_BENEFICIARY_OUTLIER", 30, "Nombre de bénéficiaires")]
    (finding,) = findings
    assert finding.severity == "warning" and finding.value == "300 000"
    fr, ar = assert_explained(finding)
    assert "Apiculture" in fr and "تربية النحل" in ar and "dans la province" in fr
    low, high = finding.params["low"], finding.params["high"]
    assert int(low.replace(" ", "")) < 10_000 < 15_500 < int(high.replace(" ", "")) < 300_000


def test_the_national_range_comes_from_the_warehouse_history():
    rows = [project(f"P-{i}", 5 + i, total_cost_mad=30_000_000, beneficiaries=20, jobs_created=3)
            for i in range(3)]
    rows.append(project("P-9", 9, total_cost_mad=30_000_000, beneficiaries=20, jobs_created=300))
    assert outlier_findings(examination(rows)) == []  # too few projects in the file alone
    history = [{"province_code": "MA-BER", "project_code": f"B-{i}", "sector_code": "BEEKEEPING",
                "approval_year": 2012, "total_cost_mad": 30_000_000 + 100_000 * i, "beneficiaries": 20,
                "jobs_created": 3 + i % 2} for i in range(20)]
    findings = outlier_findings(examination(rows), history)
    assert [(f.rule_id, f.excel_row, f.column_header) for f in findings] == [
        ("W_COST_PER_JOB_OUTLIER", 9, "Emplois créés")]
    assert "au niveau national" in findings[0].messages()[0]


def test_usual_range_is_never_narrower_than_a_floor():
    same = usual_range([100.0] * 10)
    low, high = same.bounds(3.5)
    assert 40 < low < 50 and 200 < high < 250  # 40 % off is not "far" even when all projects agree
    assert usual_range([1.0]) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-10, max_value=1e12, allow_nan=False) | st.sampled_from([0.5, 2.0, 1e-300]),
                max_size=40))
def test_usual_range_is_the_median_and_mad_of_statistics(figures):
    import math
    import statistics

    found = usual_range(figures)
    logs = [math.log(f) for f in figures if f > 0]
    if len(logs) < 2:
        assert found is None
        return
    median = statistics.median(logs)
    assert (found.median, found.count) == (median, len(logs))
    assert found.mad == max(statistics.median(abs(x - median) for x in logs), MIN_LOG_MAD)


def test_a_code_reported_by_another_province_is_a_warning():
    rows = [project("X-1", 5), project("X-2", 6)]
    findings = cross_province_findings(examination(rows), [
        {"project_code": "X-2", "province_code": "MA-BER", "name_fr": "Berkane", "name_ar": "بركان"}])
    (finding,) = findings
    assert (finding.rule_id, finding.excel_row, finding.column_header, finding.severity) == (
        "W_CODE_OTHER_PROVINCE", 6, "Code projet", "warning")
    fr, ar = assert_explained(finding)
    # The clerk of this province is told "another province", never which one (not theirs to know).
    assert "autre province" in fr and "إقليم آخر" in ar
    assert not {"Berkane", "MA-BER"} & set(re.split(r"[\s(),:]+", fr)) and "بركان" not in ar


def test_a_file_whose_rows_all_name_another_province_is_refused_whole():
    rows = [project("P-1", 5), project("P-2", 6)]
    exam = examination(rows)
    exam.findings = [Finding("E_PROVINCE_MISMATCH", "AGR", r, "Province", "Berkane") for r in (5, 6)]
    check_file(exam)
    assert exam.status == "refused" and exam.rows == [] and len(exam.rejected) == 2
    assert exam.refused_reason.rule_id == "FILE_PROVINCE_MISMATCH"
    fr, ar = assert_explained(exam.refused_reason)
    assert "Taounate (MA-TAO)" in fr and "Berkane" in fr and "تاونات" in ar


def test_a_period_that_has_not_started_refuses_the_file():
    exam = check_file(examination([project()], period="2013-Q3"), today=dt.date(2013, 6, 30))
    assert exam.status == "refused" and exam.refused_reason.rule_id == "FILE_PERIOD_FUTURE"
    assert_explained(exam.refused_reason)
    exam = check_file(examination([project()], period="2013-Q3"), today=dt.date(2013, 7, 1))
    assert exam.status == "loaded"


def test_an_approval_year_after_the_period_is_a_warning_at_its_cell():
    exam = check_file(examination([project("P-1", 5, approval_year=2012), project("P-2", 6, approval_year=2014)]))
    (finding,) = exam.findings
    assert (finding.rule_id, finding.excel_row, finding.column_header, finding.severity) == (
        "W_YEAR_AFTER_PERIOD", 6, "Année d'approbation", "warning")
    assert "2013" in assert_explained(finding)[0]
    assert exam.status == "loaded"


def test_warnings_are_summarised_by_a_heading_not_an_elided_figure():
    """The portal and the reports group warnings by rule: "… DH" would say nothing there."""
    from etl.reports import rule_heading

    assert set(reference.rule_summaries()) <= set(reference.rules())
    for rule_id, rule in reference.rules().items():
        if rule.severity == "warning":
            french, arabic = rule_heading(rule_id, "fr"), rule_heading(rule_id, "ar")
            assert "…" not in french and "…" not in arabic and "{" not in french + arabic, rule_id
            assert ARABIC.search(arabic) and not ARABIC.search(french), rule_id
    assert rule_heading("W_PARTS_SUM_MISMATCH", "fr") == "INDH + porteur + partenaires ne donnent pas le coût global"
