"""Loading semantics against a real PostgreSQL: one transaction per submission, nothing twice."""
import decimal

import pytest
from sqlalchemy import create_engine, text

from etl import load as load_module
from etl.examine import examine
from etl.load import load_submission
from etl.matching import match_header
from etl.read import sha256_of
from etl.sample import generate

pytestmark = pytest.mark.integration


def load_file(url, path, landing, archive):
    exam = examine(path, path.parent.parent.name, path.parent.name)
    return load_submission(create_engine(url), exam, path.relative_to(landing).as_posix(),
                           sha256_of(path), path.stat().st_size, archive)


def scalar(url, sql, **params):
    with create_engine(url).connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_same_file_twice_changes_nothing(warehouse_url, tmp_path):
    expected = generate(tmp_path / "landing", provinces=["MA-TAO"])
    path = expected.files[0]
    first = load_file(warehouse_url, path, tmp_path / "landing", tmp_path / "archive")
    again = load_file(warehouse_url, path, tmp_path / "landing", tmp_path / "archive")
    assert first["status"] == "partial" and first["new"]
    assert again == {"submission_id": first["submission_id"], "status": "partial", "new": False}
    assert scalar(warehouse_url, "SELECT count(*) FROM core.submission") == 1
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project") == expected.provinces["MA-TAO"].projects
    cost = scalar(warehouse_url, "SELECT sum(total_cost_mad) FROM core.project")
    assert cost == decimal.Decimal(expected.provinces["MA-TAO"].total_cost_cents) / 100


def test_same_bytes_under_another_name_is_a_duplicate(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-BER"])
    copy = landing / "MA-BER" / "2013" / "copie.xlsx"
    copy.write_bytes(expected.files[0].read_bytes())
    first = load_file(warehouse_url, expected.files[0], landing, tmp_path / "archive")
    second = load_file(warehouse_url, copy, landing, tmp_path / "archive")
    assert second["status"] == "duplicate"
    assert scalar(warehouse_url, "SELECT duplicate_of FROM core.submission WHERE submission_id = :i",
                  i=second["submission_id"]) == first["submission_id"]
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project_version") == expected.provinces["MA-BER"].projects


def test_later_period_wins_and_late_earlier_period_does_not_overwrite(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    q4 = generate(landing, provinces=["MA-ERR"], period="2013-Q4", seed=1, rows=(10, 11), errors_per_file=0)
    q2 = generate(landing, provinces=["MA-ERR"], period="2013-Q2", seed=2, rows=(10, 11), errors_per_file=0)
    load_file(warehouse_url, q4.files[0], landing, tmp_path / "archive")
    load_file(warehouse_url, q2.files[0], landing, tmp_path / "archive")  # arrives late
    # Both files use the same codes (ERR-2013-0001..): the Q4 figures must stay current.
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project") == 10
    current = scalar(warehouse_url, "SELECT sum(total_cost_mad) FROM core.project")
    assert current == decimal.Decimal(q4.provinces["MA-ERR"].total_cost_cents) / 100
    # History keeps both versions.
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project_version") == 20


def test_a_crash_midway_leaves_the_warehouse_as_it_was(warehouse_url, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-CHE"])
    real_sql = load_module.sql

    def failing_sql(name):
        if name == "load/merge_projects.sql":  # the versions and findings are already copied
            return "SELECT 1/0"
        return real_sql(name)

    monkeypatch.setattr(load_module, "sql", failing_sql)
    with pytest.raises(Exception, match="division by zero"):
        load_file(warehouse_url, expected.files[0], landing, tmp_path / "archive")
    for table in ("core.submission", "core.project_version", "core.project", "quality.finding",
                  "quality.rejected_row"):
        assert scalar(warehouse_url, "SELECT count(*) FROM " + table) == 0, table
    monkeypatch.setattr(load_module, "sql", real_sql)
    done = load_file(warehouse_url, expected.files[0], landing, tmp_path / "archive")
    assert done["status"] == "partial"
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project") == expected.provinces["MA-CHE"].projects


def test_refused_rows_and_findings_are_kept(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-TAO"], errors_per_file=6)
    summary = load_file(warehouse_url, expected.files[0], landing, tmp_path / "archive")
    wrong = expected.wrong_rows[str(expected.files[0])]
    assert summary["rows_rejected"] == len(wrong)
    with create_engine(warehouse_url).connect() as conn:
        rows = conn.execute(text("SELECT excel_row FROM quality.rejected_row ORDER BY excel_row")).scalars().all()
        error_rows = conn.execute(text(
            "SELECT DISTINCT excel_row FROM quality.finding WHERE severity = 'error' ORDER BY 1")).scalars().all()
        archive = conn.execute(text("SELECT archive_path, sha256 FROM core.submission")).one()
    assert rows == wrong and error_rows == wrong
    # A refused row keeps every mapped cell as the clerk typed it, under the file's own headers.
    raw = scalar(warehouse_url, "SELECT raw FROM quality.rejected_row ORDER BY excel_row LIMIT 1")
    assert len(raw) == 18 and any(match_header(header).target == "project_code" for header in raw)
    from pathlib import Path

    assert sha256_of(Path(archive.archive_path)) == archive.sha256


def damaged_file(landing, name="projets.xlsx"):
    path = landing / "MA-TAO" / "2013" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 broken")
    return path


def test_refused_file_is_recorded_with_its_reason(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    summary = load_file(warehouse_url, damaged_file(landing), landing, tmp_path / "archive")
    assert summary["status"] == "refused"
    reason = scalar(warehouse_url, "SELECT reason FROM core.submission")
    assert "endommagé" in reason
    assert "تالف" in scalar(warehouse_url, "SELECT reason_ar FROM core.submission")
    assert scalar(warehouse_url, "SELECT rule_id FROM quality.finding") == "FILE_CORRUPT"


def test_the_migration_gives_refusals_recorded_before_it_their_arabic_reason(warehouse_url, tmp_path):
    from etl.migrate import migrate

    landing = tmp_path / "landing"
    refused = load_file(warehouse_url, damaged_file(landing), landing, tmp_path / "archive")
    duplicate = load_file(warehouse_url, damaged_file(landing, "copie.xlsx"), landing, tmp_path / "archive")
    engine = create_engine(warehouse_url)
    with engine.begin() as conn:  # the warehouse as it was before 005_reason_ar
        conn.execute(text("ALTER TABLE core.submission DROP COLUMN reason_ar"))
        conn.execute(text("ALTER TABLE portal.upload DROP COLUMN reason_ar"))
        conn.execute(text("DELETE FROM meta.schema_migration WHERE version = '005_reason_ar'"))
    assert migrate(engine) == ["005_reason_ar"]
    with engine.connect() as conn:
        reasons = dict(conn.execute(text("SELECT submission_id, reason_ar FROM core.submission")).all())
    assert "تالف" in reasons[refused["submission_id"]]  # from its finding's Arabic message
    assert reasons[duplicate["submission_id"]] is None  # no finding to take it from: the French one is shown


def test_a_code_unknown_to_the_reference_tables_rolls_the_submission_back(warehouse_url, tmp_path):
    from etl.load import UnknownReferenceCode

    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-TAO"])
    path = expected.files[0]
    exam = examine(path, "MA-TAO", "2013")
    exam.rows[3][1]["sector_code"] = "SPACE_TOURISM"  # what an out-of-sync reference file would do
    with pytest.raises(UnknownReferenceCode, match="SPACE_TOURISM"):
        load_submission(create_engine(warehouse_url), exam, path.relative_to(landing).as_posix(),
                        sha256_of(path), path.stat().st_size, tmp_path / "archive")
    for table in ("core.submission", "core.project_version", "core.project", "quality.finding"):
        assert scalar(warehouse_url, "SELECT count(*) FROM " + table) == 0, table


def test_amounts_are_written_for_copy_to_the_centime():
    assert load_module.cents_texts([0, 5, -5, 100, -305, 125_000_050, None, 10**12]).to_pylist() == [
        "0.00", "0.05", "-0.05", "1.00", "-3.05", "1250000.50", None, "10000000000.00"]


def test_the_copy_input_quotes_every_text_and_writes_null_only_for_none():
    import datetime as dt
    from pathlib import Path

    from etl.examine import Examination
    from etl.normalise import ProjectSheet

    sheet = ProjectSheet('Projets "AGR"', 1, {})
    row = {"excel_row": 7, "project_code": "\\N", "commune": "", "title": "nul\x00 and lone \udc80",
           "programme_code": None, "sector_code": "nan", "promoter_type_code": None, "promoter_name": "a,b\nc",
           "approval_year": 2013, "start_date": dt.date(2013, 3, 12), "status_code": None,
           "total_cost_mad": -305, "indh_contribution_mad": 0, "promoter_contribution_mad": None,
           "partner_contribution_mad": 125_000_050, "beneficiaries": 3, "women": None, "youth": 0, "jobs_created": 2}
    exam = Examination(Path("x.xlsx"), "MA-TAO", "2013", None, rows=[(sheet, row)])
    written = load_module.version_csv(41, exam).read().decode("utf-8")
    assert written == ('41,"MA-TAO","\\N","","nul\ufffd and lone ?",,"nan",,"a,b\nc",2013,2013-03-12,,'
                       '"-3.05","0.00",,"1250000.50",3,,0,2,"Projets ""AGR""",7\n')


def test_the_version_csv_made_batch_by_batch_is_the_csv_of_all_rows_at_once(monkeypatch):
    from pathlib import Path

    from etl.examine import Examination
    from etl.normalise import ProjectSheet

    sheets = [ProjectSheet("A", 1, {}), ProjectSheet("B", 1, {})]
    rows = [(sheets[index % 2], {
        "excel_row": index + 2, "project_code": f"P-{index}", "commune": "C", "title": f"t{index}",
        "programme_code": None, "sector_code": None, "promoter_type_code": None, "promoter_name": None,
        "approval_year": 2013, "start_date": None, "status_code": None, "total_cost_mad": index * 101,
        "indh_contribution_mad": None, "promoter_contribution_mad": None, "partner_contribution_mad": None,
        "beneficiaries": index, "women": None, "youth": None, "jobs_created": None}) for index in range(7)]
    exam = Examination(Path("x.xlsx"), "MA-TAO", "2013", None, rows=rows)

    def everything(stream) -> bytes:
        return b"".join(iter(lambda: stream.read(5), b""))
    whole = everything(load_module.version_csv(9, exam))
    monkeypatch.setattr(load_module.BatchedCsv, "BATCH_ROWS", 2)
    assert everything(load_module.version_csv(9, exam)) == whole
    assert whole.count(b"\n") == 7 and b'"P-6"' in whole


# The per-project history the outlier check used to fetch for every file: the oracle for the
# grouped figures of sql/quality/outlier_figures.sql.
PROJECT_HISTORY = ("SELECT province_code, project_code, sector_code, (total_cost_mad * 100)::bigint AS total_cost_mad, "
                   "beneficiaries, jobs_created FROM core.project")


def test_the_outlier_figures_grouped_in_the_warehouse_give_the_findings_of_the_whole_history(warehouse_url, tmp_path):
    from etl.quality_checks import outlier_findings, warehouse_checks

    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-BER", "MA-CHE", "MA-TAO", "MA-ERR"], rows=(30, 60))
    for path in expected.files[:3]:
        load_file(warehouse_url, path, landing, tmp_path / "archive")
    # Taounate again (its codes replace its own history) with a few rows far off, and Errachidia new.
    for path in (expected.files[2], expected.files[3]):
        exam = examine(path, path.parent.parent.name, path.parent.name)
        for _, row in exam.rows[:3]:
            row["beneficiaries"], row["jobs_created"] = 1, 500
        with create_engine(warehouse_url).connect() as conn:
            history = [dict(r) for r in conn.execute(text(PROJECT_HISTORY)).mappings()]
        oracle = outlier_findings(exam, history)
        found = [f for f in warehouse_checks(exam, create_engine(warehouse_url)) if f.rule_id.endswith("_OUTLIER")]
        assert len(oracle) >= 3 and sorted(map(repr, found)) == sorted(map(repr, oracle))


@pytest.mark.integration
def test_finding_values_are_copied_as_typed_never_taken_for_null(warehouse_url, tmp_path):
    """quality.finding is written by COPY from Arrow CSV: \\N, an empty text and a NUL stay values."""
    from bench.fuzz import good_row, project_workbook
    from etl.findings import Finding

    path = tmp_path / "f.xlsx"
    path.write_bytes(project_workbook([good_row(1)]))
    exam = examine(path, "MA-TAO", "2013")
    tricky = ["\\N", "", "nul\x00inside", 'quote " and ; comma,', "ligne\nsuivante", None, 12.5]
    exam.findings = [Finding("W_TITLE_MISSING", "Feuille", 2, "Intitulé", value, "P-1") for value in tricky]
    load_submission(create_engine(warehouse_url), exam, f"MA-TAO/2013/{path.name}", sha256_of(path),
                    path.stat().st_size, tmp_path / "archive")
    with create_engine(warehouse_url).connect() as conn:
        stored = conn.execute(text("SELECT value, sheet, excel_row, column_header, project_code, message_fr, message_ar "
                                   "FROM quality.finding ORDER BY finding_id")).all()
    assert [row.value for row in stored] == ["\\N", "", "nul\ufffdinside", 'quote " and ; comma,', "ligne\nsuivante",
                                             None, "12.5"]
    assert {(row.sheet, row.excel_row, row.column_header, row.project_code) for row in stored} == {
        ("Feuille", 2, "Intitulé", "P-1")}
    assert all(row.message_fr and row.message_ar for row in stored)
