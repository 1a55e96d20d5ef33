"""End to end through the real DAGs (dag.test) against a real PostgreSQL."""
import decimal

import pytest
from sqlalchemy import create_engine, text

from etl.config import settings
from etl.pipeline import configure_airflow, run_pipeline
from etl.sample import generate

pytestmark = pytest.mark.dag

MART_COLUMNS = {
    "projects": "projects", "total_cost_mad": "total_cost_cents",
    "indh_contribution_mad": "indh_contribution_cents",
    "promoter_contribution_mad": "promoter_contribution_cents",
    "partner_contribution_mad": "partner_contribution_cents", "beneficiaries": "beneficiaries",
    "women": "women", "youth": "youth", "jobs_created": "jobs_created",
}


def expected_value(totals, key):
    value = getattr(totals, MART_COLUMNS[key])
    return decimal.Decimal(value) / 100 if key.endswith("_mad") else value


def snapshot(url):
    with create_engine(url).connect() as conn:
        return {
            "province_summary": conn.execute(text(
                "SELECT * FROM mart.province_summary ORDER BY province_code")).mappings().all(),
            "national": conn.execute(text("SELECT * FROM mart.national_summary")).mappings().one(),
            "submissions": conn.execute(text("SELECT count(*) FROM core.submission")).scalar_one(),
            "versions": conn.execute(text("SELECT count(*) FROM core.project_version")).scalar_one(),
        }


def without_time(rows):
    return [{k: v for k, v in row.items() if k != "refreshed_at"} for row in rows]


def test_national_cycle_reconciles_to_the_dirham_and_runs_again_as_a_no_op(warehouse_url, iga_home):
    current = settings()
    expected = generate(current.landing)
    # A broken file beside the good ones: refused, and the others still load.
    broken = current.landing / "MA-TAO" / "2013-Q4" / "export.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PK\x03\x04 truncated download")
    configure_airflow(current, warehouse_url)

    run_pipeline()
    first = snapshot(warehouse_url)
    by_province = {row["province_code"]: row for row in first["province_summary"]}
    assert len(by_province) == 75
    for code, totals in expected.provinces.items():
        for column in MART_COLUMNS:
            assert by_province[code][column] == expected_value(totals, column), (code, column)
    for column in MART_COLUMNS:
        assert first["national"][column] == expected_value(expected.national, column), column
    assert first["national"]["provinces_reporting"] == 75

    with create_engine(warehouse_url).connect() as conn:
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM core.submission GROUP BY status")).all())
        refused = conn.execute(text(
            "SELECT reason, reported_at FROM core.submission WHERE status = 'refused'")).one()
    assert statuses == {"partial": 75, "refused": 1}
    assert "endommagé" in refused.reason and refused.reported_at is not None

    # Headers and labels written as no reference list gives them were read, and each is reported
    # (info, French and Arabic) so the clerk and the national team can confirm it.
    with create_engine(warehouse_url).connect() as conn:
        guessed = conn.execute(text(
            "SELECT s.file_name, f.rule_id, f.value, f.message_fr, f.message_ar FROM quality.finding f "
            "JOIN core.submission s USING (submission_id) WHERE f.rule_id IN ('COLUMN_GUESSED', 'LABEL_GUESSED')"
        )).all()
    reported = {(row.file_name, row.rule_id, row.value) for row in guessed}
    assert all(" lue comme " in row.message_fr and "قُرئ" in row.message_ar for row in guessed)
    assert sum(len(headers) for headers in expected.unseen_headers.values()) >= 75 * 5
    for path, headers in expected.unseen_headers.items():
        name = path.rsplit("/", 1)[1]
        assert {(name, "COLUMN_GUESSED", header) for header in headers} <= reported, name
        assert {(name, "LABEL_GUESSED", label) for label in expected.unseen_labels[path]} <= reported, name

    # What the people downstream get: exports, one report per submission, mails in the outbox.
    published = current.published / "latest"
    assert {p.name for p in published.iterdir()} >= {"province_summary.csv", "national_summary.csv",
                                                     "region_summary.csv", "manifest.json"}
    assert len(list((current.reports).glob("MA-*/submission-*.html"))) == 76
    assert (current.reports / "completeness.html").exists()
    assert len(list(current.outbox.glob("*.eml"))) == 77  # 76 reports + the completeness digest

    run_pipeline()  # nothing new: nothing changes
    second = snapshot(warehouse_url)
    assert second["submissions"] == first["submissions"]
    assert second["versions"] == first["versions"]
    assert without_time(second["province_summary"]) == without_time(first["province_summary"])
