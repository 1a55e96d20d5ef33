"""Backups: pg_dump and the archive's manifest; a restore into an empty warehouse finds everything."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from etl.backup import RestoreRefused, backups, restore_backup, take_backup
from etl.cli import main
from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.publish import refresh_marts
from etl.sample import generate

SNAPSHOT = {
    "submissions": "SELECT submission_id, province_code, period, sha256, status, rows_loaded, rows_rejected, "
                   "archive_path FROM core.submission ORDER BY submission_id",
    "projects": "SELECT * FROM core.project ORDER BY province_code, project_code",
    "history": "SELECT * FROM core.project_version ORDER BY submission_id, source_row",
    "findings": "SELECT * FROM quality.finding ORDER BY finding_id",
    "marts": "SELECT * FROM mart.indicator ORDER BY 1, 2, 3",
    "national": "SELECT * FROM mart.national_summary",
    "as_of": "SELECT count(*), sum(total_cost_mad) FROM core.project_as_of(now())",
    "migrations": "SELECT version FROM meta.schema_migration ORDER BY version",
}


def snapshot(url: str) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        taken = {name: [tuple(row) for row in conn.execute(text(sql)).all()] for name, sql in SNAPSHOT.items()}
    engine.dispose()
    return taken


def fill(landing: Path) -> None:
    generate(landing, provinces=["MA-TAO", "MA-BER"], period="2013-Q2", rows=(6, 9), seed=4)
    generate(landing, provinces=["MA-BER", "MA-ERR"], period="2013-Q4", rows=(6, 9), seed=5)
    for relative in list_new_files():
        ingest_file(relative)
    refresh_marts()


@pytest.mark.integration
def test_a_restored_backup_has_the_same_submissions_projects_history_and_marts(
        warehouse_url, iga_home, pg_server, capsys):
    current = settings()
    fill(current.landing)
    before = snapshot(warehouse_url)
    assert len(before["submissions"]) == 4 and before["projects"] and before["marts"]

    assert main(["db", "backup"]) == 0
    (folder,) = backups(current.backups)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["archive"]) == 4 and manifest["warehouse"]["submissions"] == 4
    assert (folder / "warehouse.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    names = [pg_server.create(), pg_server.create()]
    empty, refused = map(pg_server.url, names)
    try:
        capsys.readouterr()
        # `iga db restore` into an empty warehouse: everything there, every archived file verified.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("IGA_WAREHOUSE_URL", empty)
            assert main(["db", "restore", str(folder)]) == 0
        out = capsys.readouterr().out
        assert "4 submissions" in out and "4 verified, 0 missing, 0 damaged" in out
        assert snapshot(empty) == before
        # A restore never merges into a warehouse that has data.
        with pytest.raises(RestoreRefused, match="not empty"):
            restore_backup(empty, folder, current.archive)
        # A damaged archived file is found and named.
        damaged = current.archive / manifest["archive"][0]["path"]
        damaged.write_bytes(damaged.read_bytes() + b"\0")
        result = restore_backup(refused, folder, current.archive)
        assert result["archive"]["damaged"] == [manifest["archive"][0]["path"]] and len(result["archive"]["ok"]) == 3
    finally:
        from etl.warehouse import _engine_for

        _engine_for.cache_clear()
        for name in names:
            pg_server.drop(name)


@pytest.mark.integration
def test_a_damaged_dump_is_refused_before_anything_is_restored(warehouse_url, iga_home, pg_server):
    current = settings()
    folder = take_backup(warehouse_url, current.backups, current.archive, keep=3)
    dump = folder / "warehouse.dump"
    dump.write_bytes(dump.read_bytes()[:-10])
    name = pg_server.create()
    empty = pg_server.url(name)
    try:
        with pytest.raises(RestoreRefused, match="does not match its manifest"):
            restore_backup(empty, folder, current.archive)
        with create_engine(empty).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = 'core'")).scalar() == 0
    finally:
        pg_server.drop(name)


@pytest.mark.dag
def test_the_daily_dag_keeps_the_newest_backups(warehouse_url, iga_home, monkeypatch):
    from etl.pipeline import configure_airflow, load_dags, migrate_airflow_db

    monkeypatch.setenv("IGA_BACKUP_KEEP", "2")
    current = settings()
    configure_airflow(current, warehouse_url)
    migrate_airflow_db()
    dag = load_dags()["iga_backup"]
    stale = current.backups / ".20250101T000000000000Z.partial"  # what a killed backup leaves
    stale.mkdir(parents=True)
    made = []
    for _ in range(3):
        run = dag.test()
        assert str(getattr(run.state, "value", run.state)) == "success"
        made.append(backups(current.backups)[-1])
    assert backups(current.backups) == made[1:] and not stale.exists()
    for folder in made[1:]:
        assert json.loads((folder / "manifest.json").read_text())["warehouse"]["submissions"] == 0
