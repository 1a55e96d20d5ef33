"""Hostile names and links in the landing folder, among good files, through the real DAGs.

The good files load; every bad entry is refused with its reason, without being read (a link is
never followed, a FIFO never opened); nothing outside the landing folder is read; every report is
mailed; and the runs say what happened.
"""
import itertools
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.fuzz import good_row, project_workbook
from etl.config import settings
from etl.pipeline import PipelineFailed, configure_airflow, load_dags, migrate_airflow_db, run_dag, run_pipeline
from etl.sample import generate

pytestmark = pytest.mark.dag
CANARY = "iga-canary-7f3a9e"  # in this process's environment: /proc/self/environ holds it


def hostile_landing(landing: Path, outside: Path) -> dict[str, str]:
    """Bad entries beside the good files; returns landing path (as recorded) -> expected rule."""
    raw = os.fsencode(landing)
    expected = {}
    made = itertools.count()

    def put(relative: bytes, recorded: str, rule: str) -> None:
        target = os.path.join(raw, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:  # bytes of its own: a refusal, not a duplicate of another
            f.write(project_workbook([good_row(200 + 10 * next(made) + i) for i in range(3)]))
        expected[recorded] = rule

    put(b"MA-TAO/2013/caf\xe9.xlsx", "MA-TAO/2013/caf\\xe9.xlsx", "FILE_NAME_INVALID")  # Latin-1
    put(b"MA-BER/2013/projets\x01.xlsx", "MA-BER/2013/projets\\x01.xlsx", "FILE_NAME_INVALID")
    put(b"MA-BER/2013/projets\r\nBcc: x@evil.xlsx", "MA-BER/2013/projets\\x0d\\x0aBcc: x@evil.xlsx",
        "FILE_NAME_INVALID")
    put(b"MA-TAO/2013\n/p.xlsx", "MA-TAO/2013\\x0a/p.xlsx", "FILE_NAME_INVALID")
    long_name = b"a" * 247 + b".xlsx"  # 252 bytes
    put(b"MA-CHE/2013/" + long_name, None, "FILE_NAME_INVALID")
    expected.pop(None)
    put(b"Atlantis/2013/projets.xlsx", "Atlantis/2013/projets.xlsx", "FILE_PROVINCE_UNKNOWN")
    put(b"completeness.html/2013/projets.xlsx", "completeness.html/2013/projets.xlsx", "FILE_PROVINCE_UNKNOWN")
    os.makedirs(os.path.join(raw, b"MA-TAO/2013/dossier.xlsx"))
    expected["MA-TAO/2013/dossier.xlsx"] = "FILE_NOT_REGULAR"
    os.symlink("/proc/self/environ", os.path.join(raw, b"MA-TAO/2013/environ.xlsx"))
    expected["MA-TAO/2013/environ.xlsx"] = "FILE_NOT_REGULAR"
    secret = outside / "secret.xlsx"
    secret.write_bytes(project_workbook([good_row(100 + i) for i in range(5)]))
    os.symlink(secret, os.path.join(raw, b"MA-BER/2013/outside.xlsx"))
    expected["MA-BER/2013/outside.xlsx"] = "FILE_NOT_REGULAR"
    os.symlink(os.path.join(raw, b"MA-TAO"), os.path.join(raw, b"MA-ERR"))  # another province's folder
    expected["MA-ERR"] = "FILE_NOT_REGULAR"
    os.mkfifo(os.path.join(raw, b"MA-CHE/2013/pipe.xlsx"))
    expected["MA-CHE/2013/pipe.xlsx"] = "FILE_NOT_REGULAR"
    return expected


def test_hostile_names_and_links_are_refused_and_the_good_files_load(warehouse_url, iga_home, tmp_path, monkeypatch):
    monkeypatch.setenv("IGA_CANARY", CANARY)
    current = settings()
    good = generate(current.landing, provinces=["MA-TAO", "MA-BER", "MA-CHE"])
    outside = tmp_path / "outside"
    outside.mkdir()
    expected = hostile_landing(current.landing, outside)
    configure_airflow(current, warehouse_url)

    run_pipeline()  # every DAG run ends success: the bad entries are refusals, not faults

    with create_engine(warehouse_url).connect() as conn:
        submissions = conn.execute(text(
            "SELECT s.submission_id, s.landing_path, s.province_code, s.status, s.reason, s.reason_ar, s.archive_path, "
            "s.reported_at, s.file_name, (SELECT f.rule_id FROM quality.finding f WHERE f.submission_id = "
            "s.submission_id AND f.excel_row IS NULL AND f.severity = 'error' LIMIT 1) AS rule_id "
            "FROM core.submission s ORDER BY s.submission_id")).mappings().all()
        loaded_provinces = set(conn.execute(text("SELECT DISTINCT province_code FROM core.project")).scalars())
        secret_codes = conn.execute(text("SELECT count(*) FROM core.project_version "
                                         "WHERE project_code IN ('TAO-0100', 'TAO-0101')")).scalar()
    by_path = {row["landing_path"]: row for row in submissions}
    good_paths = {p.relative_to(current.landing).as_posix() for p in good.files}
    assert {by_path[p]["status"] for p in good_paths} <= {"loaded", "partial"}
    assert loaded_provinces == {"MA-TAO", "MA-BER", "MA-CHE"}  # nothing loaded as MA-ERR through the link
    assert secret_codes == 0  # the file outside the landing folder was never read
    for path, rule in expected.items():
        row = by_path[path]
        assert row["status"] == "refused" and row["rule_id"] == rule and row["reason"], path
        assert row["reason_ar"] and row["reason_ar"] != row["reason"], path  # the Arabic pages' reason
    (long_one,) = [r for r in submissions if r["landing_path"].startswith("MA-CHE/2013/aaaa")]
    assert long_one["rule_id"] == "FILE_NAME_INVALID" and len(long_one["landing_path"].encode()) < 260
    assert len(submissions) == len(good_paths) + len(expected) + 1  # and the long name
    assert by_path["Atlantis/2013/projets.xlsx"]["province_code"] == "INCONNU"
    assert by_path["MA-TAO/2013/environ.xlsx"]["archive_path"] is None

    archived = b"".join(p.read_bytes() for p in (current.archive).rglob("*") if p.is_file())
    assert CANARY.encode() not in archived  # /proc/self/environ was never copied
    assert all(row["reported_at"] is not None for row in submissions)  # every report was mailed
    mails = list(current.outbox.glob("*.eml"))
    assert len(mails) == len(submissions) + 1  # one report each, and the completeness digest
    for mail in mails:
        head = mail.read_bytes().split(b"\n\n", 1)[0]
        assert not any(line.lower().startswith(b"bcc") for line in head.splitlines())  # no injected header
        assert CANARY.encode() not in mail.read_bytes()
    reports = {p.parent.name for p in current.reports.glob("*/submission-*.html")}
    assert reports == {"MA-TAO", "MA-BER", "MA-CHE", "MA-ERR", "INCONNU"}  # MA-ERR: told its folder is a link
    assert (current.reports / "completeness.html").is_file()

    run_pipeline()  # nothing new: every entry was recorded once, nothing is retried forever
    with create_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.submission")).scalar() == len(submissions)


def test_a_listing_that_fails_fails_the_ingest_run(warehouse_url, iga_home, monkeypatch):
    import etl.ingest

    generate(settings().landing, provinces=["MA-TAO"])
    configure_airflow(settings(), warehouse_url)
    migrate_airflow_db()
    ingest = load_dags()["iga_ingest"]
    for task in ingest.tasks:
        task.retries = 0

    def broken(landing):
        raise PermissionError(13, "Permission denied", str(landing))

    monkeypatch.setattr(etl.ingest, "landing_entries", broken)
    with pytest.raises(PipelineFailed, match="failed"):
        run_dag(ingest)  # never "success" with nothing loaded
