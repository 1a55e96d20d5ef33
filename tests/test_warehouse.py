"""What analysts rely on, against a real PostgreSQL: history, locks, crashes, roles, marts, files."""
import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from etl.config import REPO_ROOT, settings
from etl.dictionary import data_dictionary_markdown
from etl.examine import examine
from etl.ingest import ingest_file, list_new_files
from etl.load import PROVINCE_LOCK_NAMESPACE, load_submission
from etl.publish import EXPORT_QUERIES, refresh_marts, write_exports
from etl.read import sha256_of
from etl.sample import generate

pytestmark = pytest.mark.integration


def load(url, path, landing):
    exam = examine(path, path.parent.parent.name, path.parent.name)
    return load_submission(create_engine(url), exam, path.relative_to(landing).as_posix(),
                           sha256_of(path), path.stat().st_size, landing.parent / "archive")


def query(url, sql, **params):
    with create_engine(url).connect() as conn:
        return conn.execute(text(sql), params).all()


def test_projects_missing_from_a_newer_file_are_kept_and_flagged(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    old = generate(landing, provinces=["MA-TAO"], period="2013-Q2", rows=(12, 13), errors_per_file=0)
    new = generate(landing, provinces=["MA-TAO"], period="2013-Q4", rows=(12, 13), errors_per_file=0)
    load(warehouse_url, old.files[0], landing)
    # The Q4 file lists only the first 10 projects (a clerk deleted two lines).
    from openpyxl import load_workbook

    book = load_workbook(new.files[0])
    sheet = book.active
    last_project_row = sheet.max_row - 1  # the totals row is last
    sheet.delete_rows(last_project_row - 1, 2)
    book.save(new.files[0])
    load(warehouse_url, new.files[0], landing)
    rows = dict(query(warehouse_url, "SELECT project_code, absent_since_submission_id FROM core.project"))
    assert len(rows) == 157  # Taounate's 157 projects: none deleted
    absent = sorted(code for code, flag in rows.items() if flag is not None)
    assert absent == ["TAO-2013-0156", "TAO-2013-0157"]


def test_history_answers_what_we_knew_at_a_given_time(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    q2 = generate(landing, provinces=["MA-BER"], period="2013-Q2", seed=5, rows=(10, 11), errors_per_file=0)
    q4 = generate(landing, provinces=["MA-BER"], period="2013-Q4", seed=6, rows=(10, 11), errors_per_file=0)
    load(warehouse_url, q2.files[0], landing)
    (between,) = query(warehouse_url, "SELECT clock_timestamp()")[0]
    time.sleep(0.01)
    load(warehouse_url, q4.files[0], landing)

    def cost_as_of(moment):
        return query(warehouse_url, "SELECT sum(total_cost_mad) FROM core.project_as_of(:t)", t=moment)[0][0]

    assert cost_as_of(between) == Decimal(q2.provinces["MA-BER"].total_cost_cents) / 100
    assert cost_as_of(dt.datetime.now(dt.timezone.utc)) == Decimal(q4.provinces["MA-BER"].total_cost_cents) / 100
    assert cost_as_of(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)) is None


def test_two_submissions_of_one_province_are_serialised(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-ERR"])
    holder = create_engine(warehouse_url).connect()
    transaction = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext('MA-ERR'))"), {"ns": PROVINCE_LOCK_NAMESPACE})
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(load(warehouse_url, expected.files[0], landing)))
    worker.start()
    worker.join(timeout=3)
    assert worker.is_alive(), "the load did not wait for the province's lock"
    assert query(warehouse_url, "SELECT count(*) FROM core.submission")[0][0] == 0
    transaction.rollback()
    holder.close()
    worker.join(timeout=60)
    assert outcome["status"] == "partial"


KILLED_LOAD = """
import sys
from pathlib import Path
from sqlalchemy import create_engine
from etl.examine import examine
from etl.load import load_submission
from etl.read import sha256_of
url, landing, path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
exam = examine(path, path.parent.parent.name, path.parent.name)
load_submission(create_engine(url), exam, path.relative_to(landing).as_posix(), sha256_of(path),
                path.stat().st_size, landing.parent / "archive")
"""


def test_a_killed_load_leaves_the_warehouse_as_it_was_and_a_rerun_finishes(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    expected = generate(landing, provinces=["MA-CHE"])
    engine = create_engine(warehouse_url)
    # Hold a lock that the load's merge step needs: it will stop there, after its COPYs.
    blocker = engine.connect()
    blocking = blocker.begin()
    blocker.execute(text("LOCK TABLE core.project IN SHARE MODE"))
    process = subprocess.Popen([sys.executable, "-c", KILLED_LOAD, warehouse_url, str(landing),
                                str(expected.files[0])], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = query(warehouse_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO core.project%'")[0][0]
            if waiting:
                break
            assert process.poll() is None, "the load ended before reaching the merge"
            time.sleep(0.1)
        assert waiting, "the load never reached the merge"
        assert query(warehouse_url, "SELECT count(*) FROM core.project_version")[0][0] == 0  # not visible
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        blocking.rollback()
        blocker.close()
    deadline = time.monotonic() + 30
    while query(warehouse_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND query LIKE '%INSERT INTO core.project%' AND pid <> pg_backend_pid()")[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for table in ("core.submission", "core.project_version", "core.project", "quality.finding"):
        assert query(warehouse_url, "SELECT count(*) FROM " + table)[0][0] == 0, table
    assert load(warehouse_url, expected.files[0], landing)["status"] == "partial"
    assert query(warehouse_url, "SELECT count(*) FROM core.project")[0][0] == expected.provinces["MA-CHE"].projects


def test_the_analyst_role_reads_and_cannot_write(warehouse_url):
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        conn.execute(text("SET ROLE iga_analyst"))
        assert conn.execute(text("SELECT count(*) FROM mart.province_summary")).scalar() >= 0
        assert conn.execute(text("SELECT count(*) FROM core.project")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM ref.province")).scalar() == 75
    for statement in ("INSERT INTO core.project (province_code, project_code) VALUES ('MA-TAO', 'X')",
                      "DELETE FROM core.submission", "UPDATE ref.province SET name_fr = 'x'",
                      "CREATE TABLE mart.mine (x int)", "TRUNCATE mart.indicator",
                      "DROP VIEW mart.national_summary"):
        with engine.connect() as conn:
            conn.execute(text("SET ROLE iga_analyst"))
            with pytest.raises(Exception, match="permission denied|must be owner"):
                conn.execute(text(statement))
    owners = {row[0] for row in query(warehouse_url,
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('ref', 'core', 'quality', 'mart')")}
    assert owners == {"iga_pipeline"}


def test_marts_and_published_files_reconcile_with_the_current_projects(warehouse_url, iga_home):
    expected = generate(settings().landing, provinces=["MA-TAO", "MA-BER", "MA-CHT", "MA-NOU"])
    for path in list_new_files():
        ingest_file(path)
    refresh_marts()
    folder = write_exports()

    (current,) = query(warehouse_url, "SELECT count(*), sum(total_cost_mad), sum(indh_contribution_mad), "
                                      "sum(beneficiaries) FROM core.project")
    (national,) = query(warehouse_url, "SELECT projects, total_cost_mad, indh_contribution_mad, beneficiaries "
                                       "FROM mart.national_summary")
    assert tuple(national) == tuple(current)
    assert national[1] == Decimal(expected.national.total_cost_cents) / 100
    (regions,) = query(warehouse_url, "SELECT sum(total_cost_mad) FROM mart.region_summary")
    (provinces,) = query(warehouse_url, "SELECT sum(total_cost_mad), count(*) FROM mart.province_summary")
    (by_sector,) = query(warehouse_url, "SELECT sum(total_cost_mad) FROM mart.breakdown_summary WHERE dimension = 'sector'")
    assert regions[0] == provinces[0] == by_sector[0] == national[1]
    assert provinces[1] == 75
    # Chtouka-Aït Baha counts in Souss-Massa, Nouaceur in Casablanca-Settat.
    by_region = dict(query(warehouse_url, "SELECT region_code, projects FROM mart.region_summary"))
    assert by_region["MA-09"] == expected.provinces["MA-CHT"].projects
    assert by_region["MA-06"] == expected.provinces["MA-NOU"].projects

    from pathlib import Path

    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    folder = Path(folder)
    with open(folder / "province_summary.csv", encoding="utf-8-sig") as f:
        csv_total = sum(Decimal(row["total_cost_mad"]) for row in csv.DictReader(f))
    parquet_total = sum(pq.read_table(folder / "province_summary.parquet").column("total_cost_mad").to_pylist())
    sheet = load_workbook(folder / "province_summary.xlsx").active
    header = [c.value for c in sheet[1]]
    column = header.index("Coût global (DH)")
    assert sheet.cell(2, column + 1).value == "الكلفة الإجمالية (درهم)"
    xlsx_total = sum(Decimal(str(row[column])) for row in sheet.iter_rows(min_row=3, values_only=True))
    assert csv_total == parquet_total == xlsx_total == national[1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["row_counts"]["province_summary"] == 75
    assert set(manifest["files"]) >= {f"{m}.{ext}" for m in EXPORT_QUERIES for ext in ("csv", "xlsx", "parquet")}
    assert sha256_of(folder / "national_summary.csv") == manifest["files"]["national_summary.csv"]["sha256"]
    assert (settings().published / "latest").resolve() == folder.resolve()


@pytest.mark.unit
def test_published_cells_never_run_as_formulas(tmp_path):
    from openpyxl import load_workbook

    from etl.publish import write_csv, write_xlsx

    rows = [("=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", Decimal("-5.00"))]
    columns = ["a", "b", "c", "d", "total_cost_mad"]
    write_csv(tmp_path / "x.csv", columns, rows)
    write_xlsx(tmp_path / "x.xlsx", columns, rows)
    with open(tmp_path / "x.csv", encoding="utf-8-sig") as f:
        (_, written) = list(csv.reader(f))
    assert written == ["'=HYPERLINK(\"http://x\")", "'+1", "'-cmd", "'@SUM(A1)", "-5.00"]
    values = [c.value for c in load_workbook(tmp_path / "x.xlsx").active[3]]
    assert values[:4] == written[:4] and values[4] == -5


def test_every_mart_column_is_documented_and_the_dictionary_is_current(warehouse_url):
    undocumented = query(warehouse_url,
        "SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'mart' AND c.relkind IN ('r', 'v') AND col_description(c.oid, a.attnum) IS NULL")
    assert undocumented == []
    assert query(warehouse_url, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = 'mart' AND c.relkind IN ('r', 'v') "
                                "AND obj_description(c.oid, 'pg_class') IS NULL")[0][0] == 0
    generated = data_dictionary_markdown(create_engine(warehouse_url))
    committed = (REPO_ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    assert generated == committed, "docs/warehouse.md is stale: run `iga db docs`"


def test_a_project_listed_again_is_no_longer_flagged(warehouse_url, tmp_path):
    landing = tmp_path / "landing"
    full = generate(landing, provinces=["MA-BER"], period="2013-Q2", seed=7, rows=(6, 7), errors_per_file=0)
    load(warehouse_url, full.files[0], landing)
    from openpyxl import load_workbook

    shorter = generate(landing, provinces=["MA-BER"], period="2013-Q3", seed=7, rows=(6, 7), errors_per_file=0)
    book = load_workbook(shorter.files[0])
    book.active.delete_rows(book.active.max_row - 1, 1)  # the last project is dropped
    book.save(shorter.files[0])
    load(warehouse_url, shorter.files[0], landing)
    flagged = query(warehouse_url, "SELECT project_code FROM core.project WHERE absent_since_submission_id IS NOT NULL")
    assert [code for (code,) in flagged] == ["BER-2013-0006"]
    again = generate(landing, provinces=["MA-BER"], period="2013-Q4", seed=7, rows=(6, 7), errors_per_file=0)
    load(warehouse_url, again.files[0], landing)
    assert query(warehouse_url, "SELECT count(*) FROM core.project WHERE absent_since_submission_id IS NOT NULL")[0][0] == 0
    assert query(warehouse_url, "SELECT count(*) FROM core.project")[0][0] == 6


def test_migrations_run_as_a_pipeline_login_without_superuser_rights(pg_server, template_db):
    """Production's path (docker/postgres/10-iga-databases.sh): the group roles exist, the pipeline's
    login is a member of iga_pipeline and owns its database, and has no CREATEROLE or SUPERUSER."""
    import uuid

    from sqlalchemy.engine import make_url

    from etl.migrate import migrate

    login = f"iga_test_login_{uuid.uuid4().hex[:8]}"
    database = f"{login}_db"
    with pg_server.admin.connect() as conn:
        conn.execute(text("CREATE ROLE " + login + " LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"))
        conn.execute(text("GRANT iga_pipeline TO " + login))
        conn.execute(text("CREATE DATABASE " + database + " OWNER " + login))
    url = make_url(pg_server.url(database)).set(username=login, password=None).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        assert migrate(engine)  # every migration applied, as that login
        assert migrate(engine) == []
        with engine.connect() as conn:
            owners = set(conn.execute(text(
                "SELECT DISTINCT pg_get_userbyid(nspowner) FROM pg_namespace "
                "WHERE nspname IN ('ref', 'core', 'quality', 'mart', 'meta')")).scalars())
            assert owners == {"iga_pipeline"}
        reader = create_engine(pg_server.url(database))
        with reader.connect() as conn:
            conn.execute(text("SET ROLE iga_analyst"))
            assert conn.execute(text("SELECT count(*) FROM mart.province_summary")).scalar() == 0  # not published yet
            assert conn.execute(text("SELECT count(*) FROM ref.province")).scalar() == 75
        reader.dispose()
    finally:
        engine.dispose()
        with pg_server.admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)"))
            conn.execute(text("DROP ROLE IF EXISTS " + login))


def test_the_matching_words_and_rule_consequences_reach_the_warehouse(warehouse_url):
    from etl import reference

    with create_engine(warehouse_url).connect() as conn:
        words = conn.execute(text("SELECT count(*) FROM ref.matching_word")).scalar_one()
        pairs = set(conn.execute(text("SELECT cause, consequence FROM ref.rule_consequence")).all())
    assert words == len(reference.read_csv("matching_words.csv"))
    assert pairs == {(r["cause"], r["consequence"]) for r in reference.read_csv("rule_consequences.csv")}
