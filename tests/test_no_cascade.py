"""One root cause, one finding: variant headers, a missing approval year, doubles and whole columns."""
import pytest
from openpyxl import Workbook

from etl.examine import examine
from etl.findings import Finding
from etl.matching import match_header, resolve_label
from etl.quality_checks import collapse_columns, one_finding_per_cause
from etl.sample import UNSEEN_HEADERS, UNSEEN_LABELS

pytestmark = pytest.mark.unit


def workbook(path, header, rows):
    book = Workbook()
    sheet = book.active
    sheet.title = "AGR"
    sheet.append(["INDH — Province de Taounate"])
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


HEADER = ["Code projet", "Intitulé du projet", "Coût global (DH)", "Contribution INDH", "Contribution porteur",
          "Autres partenaires", "Programme", "{year}"]


def header_with(year_header):
    return [year_header if h == "{year}" else h for h in HEADER]


def test_a_variant_approval_year_header_loads_with_each_rows_phase(tmp_path):
    """« Année d'approb. » is no synonym: it is read as the approval year, said once, and every row
    is judged by its own phase; a year outside 2005..now is an error at its Excel row."""
    path = workbook(tmp_path / "agr.xlsx", header_with("Année d'approb."), [
        ["T-1", "Rucher", 100_000, 75_000, 25_000, 0, "Programme transversal", 2008],  # phase 1, share 25 %
        ["T-2", "Couture", 100_000, 70_000, 30_000, 0, "Programme transversal", 2003],  # out of range
        ["T-3", "Gîte", 100_000, 75_000, 25_000, 0, "Programme transversal", None],  # no year: the period's
        ["T-4", "Poterie", 100_000, 70_000, 30_000, 0, "Mise à niveau territoriale", 2012],
    ])
    exam = examine(path, "MA-TAO", "2013")
    found = [(f.rule_id, f.excel_row, f.column_header, f.value) for f in exam.findings]
    assert ("COLUMN_GUESSED", 3, "Année d'approb.", "Année d'approb.") in found
    assert ("E_YEAR_OUT_OF_RANGE", 5, "Année d'approb.", 2003) in found
    guessed = next(f for f in exam.findings if f.rule_id == "COLUMN_GUESSED")
    fr, ar = guessed.messages()
    assert "lue comme « Année d'approbation »" in fr and "سنة المصادقة" in ar
    rows = {row["project_code"]: row for _, row in exam.rows}
    assert rows["T-1"]["approval_year"] == 2008 and rows["T-1"]["programme_code"] == "P1_TRANSVERSAL"
    assert rows["T-3"]["programme_code"] == "P2_TRANSVERSAL"  # the 2013 period's phase
    assert rows["T-4"]["programme_code"] == "P2_TERRITORIAL"
    assert "T-2" in {row["project_code"] for _, row in exam.rejected}
    shares = {f.excel_row: f for f in exam.findings if f.rule_id == "W_SHARES_OFF_POLICY"}
    assert sorted(shares) == [4, 6]  # one finding per deviating row, not two
    assert "phase 1" in shares[4].messages()[0] and "retenue" not in shares[4].messages()[0]
    fr, ar = shares[6].messages()
    assert "phase 2, retenue d'après la période 2013 faute d'année d'approbation lisible" in fr
    assert "30 %" in fr and "70 %" in fr and "المرحلة 2" in ar and "2013" in ar
    assert not [f for f in exam.findings if f.rule_id == "W_LABEL_UNKNOWN"]


def test_an_unmapped_year_column_does_not_cascade(tmp_path):
    """A year column no one could read: the period's phase judges every row, said in the finding;
    no programme label is called unknown because of it."""
    rows = [[f"T-{i}", "Rucher", 100_000, 70_000, 30_000, 0, "Programme transversal", 2008] for i in range(20)]
    rows[3][4], rows[3][3] = 20_000, 80_000
    path = workbook(tmp_path / "agr.xlsx", header_with("Exercice budgétaire"), rows)
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "loaded"
    by_rule = {}
    for f in exam.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    assert set(by_rule) == {"COLUMN_UNMAPPED", "W_SHARES_OFF_POLICY"}, by_rule
    assert {row["programme_code"] for _, row in exam.rows} == {"P2_TRANSVERSAL"}
    (share,) = by_rule["W_SHARES_OFF_POLICY"]
    assert share.excel_row == 7 and "retenue d'après la période 2013" in share.messages()[0]


def test_a_close_header_is_suggested_and_a_guess_between_two_is_not_made(tmp_path):
    path = workbook(tmp_path / "agr.xlsx", header_with("Année d'approbation") + ["Anné", "Contribution"], [
        ["T-1", "Rucher", 100_000, 70_000, 30_000, 0, "Programme transversal", 2008, 1, 2]])
    exam = examine(path, "MA-TAO", "2013")
    unmapped = {f.value: f.messages() for f in exam.findings if f.rule_id == "COLUMN_UNMAPPED"}
    assert "Vouliez-vous dire « Année d'approbation » ?" in unmapped["Anné"][0]
    assert "هل تقصد « سنة المصادقة »؟" in unmapped["Anné"][1]
    assert "Contribution" in unmapped


def test_a_consequence_on_the_same_row_is_not_repeated():
    row = dict(sheet="AGR", excel_row=7, project_code="T-1")
    findings = [Finding("E_INDH_ABOVE_TOTAL", column_header="Contribution INDH", value="1", **row),
                Finding("W_INDH_SHARE_HIGH", column_header="Contribution INDH", value="1", **row),
                Finding("W_PARTS_SUM_MISMATCH", column_header="Coût global", value="1", **row),
                Finding("W_PARTS_SUM_MISMATCH", "AGR", 8, "Coût global", "2", "T-2"),
                Finding("W_PROMOTER_SHARE_LOW", "AGR", 8, "Contribution porteur", "2", "T-2")]
    assert [(f.rule_id, f.excel_row) for f in one_finding_per_cause(findings)] == [
        ("E_INDH_ABOVE_TOTAL", 7), ("W_PARTS_SUM_MISMATCH", 8)]


class _Sheet:
    def __init__(self, rows):
        self.name, self.header_row, self.rows = "AGR", 3, [{}] * rows


def test_a_warning_on_every_row_of_a_column_is_said_once_at_its_header():
    findings = [Finding("W_DATE_YEAR_ONLY", "AGR", 4 + i, "Date de démarrage", "2012", f"T-{i}") for i in range(10)]
    findings.append(Finding("W_LABEL_UNKNOWN", "AGR", 5, "Secteur", "Astronautique", "T-1"))
    (column, label) = collapse_columns(findings, [_Sheet(10)])
    assert (label.rule_id, label.excel_row) == ("W_LABEL_UNKNOWN", 5)
    assert (column.rule_id, column.excel_row, column.column_header) == ("COLUMN_VALUES_UNREADABLE", 3,
                                                                        "Date de démarrage")
    fr, ar = column.messages()
    assert "10 valeurs" in fr and "ligne 4" in fr and "2012" in fr and "السطر 4" in ar
    # Fewer than nearly all rows: each row keeps its own finding.
    assert len(collapse_columns(findings[:5], [_Sheet(10)])) == 5


@pytest.mark.parametrize("column", sorted(UNSEEN_HEADERS))
def test_the_generators_unseen_headers_are_read_by_resemblance(column):
    for language, headers in UNSEEN_HEADERS[column].items():
        for header in headers:
            found = match_header(header)
            assert (found.target, found.guessed) == (column, True), (header, found)


def test_the_generators_unseen_labels_are_read_by_resemblance():
    domains = {"programme": "programme_kind"}
    for domain, labels in UNSEEN_LABELS.items():
        for listed, typed in labels.items():
            want = resolve_label(domains.get(domain, domain), listed)
            found = resolve_label(domains.get(domain, domain), typed)
            assert want.how == "exact" and (found.target, found.guessed) == (want.target, True), typed

