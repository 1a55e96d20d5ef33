"""Nothing lost when something fails: each fault made for real against the real parts.

- the warehouse server stopped between two files of one ingest run, then started again;
- the disk full, or read-only, where the archive, the reports or the published files are written
  (a small tmpfs filled up or remounted read-only; as a non-root user, a read-only folder);
- the publishing process killed with SIGKILL at spread-out moments while it rebuilds the marts
  and writes the exports, with a reader querying the marts all along.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import errno
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.sample import generate


def scalar(url: str, sql: str, **params):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def national_cost(expected) -> decimal.Decimal:
    return decimal.Decimal(expected.national.total_cost_cents) / 100


# --- the warehouse goes away mid-run ---------------------------------------------------------------

def ingest_states(airflow_db: str, earlier_runs: set[str]) -> list[tuple[int, str, int]]:
    """(map index, state, try number) of this run's ingest_file task instances, from Airflow's metadata."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True, timeout=5)) as db:
            rows = db.execute("SELECT run_id, map_index, state, try_number FROM task_instance "
                              "WHERE dag_id = 'iga_ingest' AND task_id = 'ingest_file' ORDER BY map_index").fetchall()
    except sqlite3.OperationalError:  # locked while Airflow writes: ask again
        return []
    return [(index, state, tries) for run_id, index, state, tries in rows if run_id not in earlier_runs]


def ingest_runs(airflow_db: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(f"file:{airflow_db}?mode=ro", uri=True, timeout=30)) as db:
        return {run_id for (run_id,) in db.execute("SELECT run_id FROM dag_run WHERE dag_id = 'iga_ingest'")}


@pytest.mark.dag
def test_the_warehouse_stopped_between_two_files_fails_the_task_which_is_retried_and_loses_nothing(
        iga_home, monkeypatch):
    import pgserver

    from etl.migrate import migrate
    from etl.pipeline import configure_airflow, load_dags, migrate_airflow_db
    from etl.warehouse import stop_embedded

    parent = Path(tempfile.mkdtemp(prefix="iga-down-"))  # reachable by pgserver's own account as root
    server = pgserver.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        server.psql("CREATE DATABASE iga;")
        url = f"postgresql+psycopg2://postgres@/iga?host={socket_dir}"
        migrate(create_engine(url, poolclass=NullPool))
        monkeypatch.setenv("IGA_WAREHOUSE_URL", url)
        current = settings()
        expected = generate(current.landing, provinces=["MA-TAO", "MA-BER", "MA-ERR", "MA-CHE"], rows=(5, 8),
                            errors_per_file=0, seed=21)
        configure_airflow(current, url)
        migrate_airflow_db()
        dag = load_dags()["iga_ingest"]
        task = dag.task_dict["ingest_file"]
        task.retries, task.retry_delay, task.retry_exponential_backoff = 3, dt.timedelta(seconds=4), False
        airflow_db = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
        earlier_runs = ingest_runs(airflow_db)  # the metadata database is shared by the session's tests
        events: list[str] = []

        def operator():
            """Stops the server once the first file is in, starts it again once a task failed for it."""
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if scalar(url, "SELECT count(*) FROM core.submission") >= 1:
                        break
                except Exception:
                    pass
                time.sleep(0.1)
            stop_embedded(parent / "pgdata")
            events.append("stopped")
            while time.monotonic() < deadline:
                if any(state == "up_for_retry" for _, state, _ in ingest_states(airflow_db, earlier_runs)):
                    break
                time.sleep(0.2)
            events.append("a task failed")
            server.ensure_postgres_running()
            events.append("started")

        watcher = threading.Thread(target=operator, daemon=True)
        watcher.start()
        run = dag.test()
        watcher.join(timeout=60)

        assert events == ["stopped", "a task failed", "started"]
        states = ingest_states(airflow_db, earlier_runs)
        assert [state for _, state, _ in states] == ["success"] * 4, states
        assert max(tries for _, _, tries in states) >= 2  # one failed while the server was down, then retried
        assert str(getattr(run.state, "value", run.state)) == "success"
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            recorded = conn.execute(text("SELECT landing_path, count(*) FROM core.submission GROUP BY 1")).all()
            halves = conn.execute(text(
                "SELECT s.submission_id FROM core.submission s LEFT JOIN core.project_version v USING (submission_id) "
                "GROUP BY s.submission_id, s.rows_loaded HAVING count(v.*) <> s.rows_loaded")).all()
            cost = conn.execute(text("SELECT sum(total_cost_mad) FROM core.project")).scalar()
        engine.dispose()
        assert sorted(recorded) == sorted((p.relative_to(current.landing).as_posix(), 1) for p in expected.files)
        assert halves == [] and cost == national_cost(expected)
    finally:
        from etl.warehouse import _engine_for

        _engine_for.cache_clear()
        server.cleanup()
        import shutil

        shutil.rmtree(parent, ignore_errors=True)


# --- the disk is full or read-only ---------------------------------------------------------------

def can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="iga-mount-probe-"))
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                                 capture_output=True).returncode == 0
        if mounted:
            subprocess.run(["umount", str(probe)], check=True)
        return mounted
    finally:
        probe.rmdir()


MOUNTABLE = can_mount()


class SmallDisk:
    """A folder on a disk of its own that a test makes full or read-only for real, then repairs.

    As root: a tmpfs mounted on the folder (before anything is written there), later shrunk to what
    it holds and filled up, or remounted read-only. Otherwise (no mount allowed): the folder made
    read-only (0555) for both kinds of fault.
    """

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        if MOUNTABLE:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", str(path)], check=True)

    def fail(self, kind: str) -> None:
        if not MOUNTABLE:
            self.path.chmod(0o555)
        elif kind == "full":
            used_kb = int(subprocess.run(["df", "--output=used", "-k", str(self.path)], capture_output=True,
                                         text=True, check=True).stdout.split()[-1])
            subprocess.run(["mount", "-o", f"remount,size={used_kb + 64}k", str(self.path)], check=True)
            with contextlib.suppress(OSError), open(self.path / ".filler", "wb") as f:  # until it is full
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)

    def repair(self) -> None:
        if not MOUNTABLE:
            self.path.chmod(0o755)
            return
        subprocess.run(["mount", "-o", "remount,rw,size=64m", str(self.path)], check=True)
        (self.path / ".filler").unlink(missing_ok=True)

    def remove(self) -> None:
        """Unmount, keeping what was written there (the test reads it after)."""
        self.repair()
        if not MOUNTABLE:
            return
        kept = Path(tempfile.mkdtemp(prefix="iga-kept-"))
        subprocess.run(["cp", "-a", f"{self.path}/.", str(kept)], check=True)
        subprocess.run(["umount", str(self.path)], check=True)
        subprocess.run(["cp", "-a", f"{kept}/.", str(self.path)], check=True)
        subprocess.run(["rm", "-rf", str(kept)], check=True)


@pytest.fixture
def small_disk():
    disks: list[SmallDisk] = []

    def make(path: Path) -> SmallDisk:
        disks.append(SmallDisk(path))
        return disks[-1]

    yield make
    for disk in disks:
        disk.remove()


FAULTS = ["full", "read-only"]
NO_SPACE = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EFBIG, errno.EDQUOT)


def os_error_of(error: BaseException) -> OSError | None:
    while error is not None and not isinstance(error, OSError):
        error = error.__cause__ or error.__context__
    return error


@pytest.mark.integration
@pytest.mark.parametrize("kind", FAULTS)
def test_an_archive_that_cannot_be_written_records_nothing_and_the_file_loads_once_space_is_back(
        kind, warehouse_url, iga_home, small_disk):
    current = settings()
    disk = small_disk(current.archive)
    expected = generate(current.landing, provinces=["MA-TAO"], rows=(40, 41), errors_per_file=0, seed=8)
    (relative,) = list_new_files()
    disk.fail(kind)
    with pytest.raises(Exception) as failure:
        ingest_file(relative)
    assert os_error_of(failure.value).errno in NO_SPACE and relative in str(failure.value)
    assert scalar(warehouse_url, "SELECT count(*) FROM core.submission") == 0
    assert scalar(warehouse_url, "SELECT count(*) FROM core.project") == 0
    assert scalar(warehouse_url, "SELECT count(*) FROM quality.finding") == 0
    assert list_new_files() == [relative]  # still to do
    assert not list(current.archive.rglob("*.part"))  # no half-copied original either
    disk.repair()
    summary = ingest_file(relative)
    assert summary["status"] == "loaded" and list_new_files() == []
    assert scalar(warehouse_url, "SELECT sum(total_cost_mad) FROM core.project") == national_cost(expected)
    archived = Path(scalar(warehouse_url, "SELECT archive_path FROM core.submission"))
    assert hashlib.sha256(archived.read_bytes()).hexdigest() == hashlib.sha256(expected.files[0].read_bytes()).hexdigest()
    assert not [p for p in current.archive.rglob("*.part")]


@pytest.mark.integration
@pytest.mark.parametrize("kind", FAULTS)
def test_reports_that_cannot_be_written_stay_pending_and_go_out_once_each_when_space_is_back(
        kind, warehouse_url, iga_home, small_disk):
    from etl.reports import send_submission_reports

    current = settings()
    disk = small_disk(current.reports)
    generate(current.landing, provinces=["MA-TAO", "MA-BER"], rows=(30, 31), errors_per_file=3, seed=9)
    for relative in list_new_files():
        ingest_file(relative)
    disk.fail(kind)
    with pytest.raises(Exception) as failure:
        send_submission_reports()
    assert os_error_of(failure.value).errno in NO_SPACE
    assert scalar(warehouse_url, "SELECT count(*) FROM core.submission WHERE reported_at IS NULL") == 2
    assert not list(current.outbox.glob("*.eml"))
    disk.repair()
    assert len(send_submission_reports()) == 2
    assert scalar(warehouse_url, "SELECT count(*) FROM core.submission WHERE reported_at IS NULL") == 0
    assert send_submission_reports() == []
    mails = sorted(current.outbox.glob("*.eml"))
    assert len(mails) == 2  # each report once, none lost, none twice


@pytest.mark.integration
@pytest.mark.parametrize("kind", FAULTS)
def test_exports_that_cannot_be_written_leave_latest_on_the_previous_folder(kind, warehouse_url, iga_home,
                                                                            small_disk):
    from etl.publish import refresh_marts, write_exports

    current = settings()
    disk = small_disk(current.published)
    generate(current.landing, provinces=["MA-TAO"], rows=(10, 11), errors_per_file=0, seed=10)
    for relative in list_new_files():
        ingest_file(relative)
    refresh_marts()
    first = Path(write_exports())
    generate(current.landing, provinces=["MA-BER"], rows=(10, 11), errors_per_file=0, seed=11)
    for relative in list_new_files():
        ingest_file(relative)
    refresh_marts()
    disk.fail(kind)
    with pytest.raises(OSError) as failure:
        write_exports()
    assert failure.value.errno in NO_SPACE
    assert (current.published / "latest").resolve() == first.resolve()
    assert_complete(current.published / "latest")
    disk.repair()
    second = Path(write_exports())
    assert (current.published / "latest").resolve() == second.resolve() != first.resolve()
    assert_complete(current.published / "latest")
    assert not list(current.published.glob(".*.partial"))


def assert_complete(folder: Path) -> dict:
    """A published folder whose every file is the one its manifest describes."""
    manifest = json.loads((folder / "manifest.json").read_text())
    assert not folder.resolve().name.startswith(".")
    assert {p.name for p in folder.iterdir()} == set(manifest["files"]) | {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"], name
    return manifest


# --- killed during publish -----------------------------------------------------------------------

PUBLISHER = """
import sys
from etl.publish import refresh_marts, write_exports
import etl.charts, openpyxl, pyarrow.parquet, matplotlib.pyplot  # imported before the clock starts
import time
print("ready", flush=True)
began = time.monotonic()
refresh_marts()
write_exports()
print("done", time.monotonic() - began, flush=True)
"""


def start_publisher() -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", PUBLISHER], stdout=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.mark.integration
def test_publish_killed_at_any_moment_leaves_readers_the_old_or_the_new_figures(warehouse_url, iga_home):
    from etl.publish import refresh_marts, write_exports

    current = settings()
    generate(current.landing, provinces=["MA-TAO", "MA-BER"], rows=(20, 21), errors_per_file=0, seed=12)
    for relative in list_new_files():
        ingest_file(relative)
    refresh_marts()
    write_exports()
    old = scalar(warehouse_url, "SELECT projects FROM mart.national_summary")
    whole = start_publisher()  # one complete run (same figures) to learn how long a publish takes
    assert whole.wait(timeout=300) == 0
    duration = float(whole.stdout.read().split()[-1])  # as the publisher timed itself
    generate(current.landing, provinces=["MA-ERR", "MA-CHE"], rows=(20, 21), errors_per_file=0, seed=13)
    for relative in list_new_files():
        ingest_file(relative)
    new = scalar(warehouse_url, "SELECT count(*) FROM core.project")
    assert new > old

    seen: set[tuple] = set()
    stop = threading.Event()

    def reader():
        engine = create_engine(warehouse_url, poolclass=NullPool)
        while not stop.is_set():
            with engine.connect() as conn:  # one statement: one snapshot, as a BI tool's query
                seen.add(tuple(conn.execute(text(
                    "SELECT (SELECT projects FROM mart.national_summary), "
                    "(SELECT sum(projects) FROM mart.region_summary), "
                    "(SELECT sum(projects) FROM mart.province_summary)")).one()))
            time.sleep(0.01)
        engine.dispose()

    watching = threading.Thread(target=reader, daemon=True)
    watching.start()
    # Kills spread over the whole publish. A publish can run faster than the one timed above (a
    # busier machine then, caches warm now): one that ends before its kill tells how long it took,
    # and the next kills aim within that, until three have landed while it worked.
    fractions, attempts, interrupted = (0.1, 0.3, 0.5, 0.7, 0.9), 0, 0
    try:
        while attempts < len(fractions) or (interrupted < 3 and attempts < 15):
            process = start_publisher()
            time.sleep(duration * fractions[attempts % len(fractions)])
            attempts += 1
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            said = process.stdout.read().split()
            if "done" in said:
                duration = min(duration, float(said[said.index("done") + 1]))
            else:
                interrupted += 1
            latest = assert_complete(current.published / "latest")
            assert sum(1 for _ in latest["submissions_included"]) in (2, 4)
            assert scalar(warehouse_url, "SELECT projects FROM mart.national_summary") in (old, new)
    finally:
        stop.set()
        watching.join(timeout=30)
    assert seen and seen <= {(old, old, old), (new, new, new)}, seen
    assert interrupted >= 3, (interrupted, attempts)  # the kills did land while it worked

    refresh_marts()  # the next run completes
    folder = Path(write_exports())
    assert (current.published / "latest").resolve() == folder.resolve()
    assert len(assert_complete(folder)["submissions_included"]) == 4
    assert scalar(warehouse_url, "SELECT projects FROM mart.national_summary") == new
    assert not list(current.published.glob(".*.partial"))
