"""The second wall (etl.isolate): a child that dies, runs out of memory or hangs costs one file."""
import os
import time

import pytest

from bench.fuzz import good_row, project_workbook
from etl.isolate import ChildError, ChildFailed, WorkerLimits, run_isolated

SMALL = WorkerLimits(memory_bytes=256 * 1024 * 1024, timeout_s=5)


def allocate_too_much():
    return bytearray(1 << 31)


def spin():
    while True:
        time.sleep(0.01)


def abort():
    os.abort()


def raise_key_error():
    raise KeyError("a bug")


@pytest.mark.unit
@pytest.mark.parametrize("function, what", [(allocate_too_much, "memory"), (spin, "timeout"), (abort, "signal")])
def test_a_child_that_dies_or_hangs_is_a_refusal_and_the_worker_goes_on(function, what):
    with pytest.raises(ChildFailed) as failed:
        run_isolated(function, limits=SMALL)
    assert failed.value.what == what and failed.value.detail_fr and failed.value.detail_ar
    assert run_isolated(sum, [1, 2, 3], limits=SMALL) == 6  # and the worker still works


@pytest.mark.unit
def test_an_ordinary_error_in_the_child_is_raised_as_a_pipeline_fault():
    with pytest.raises(ChildError) as raised:
        run_isolated(raise_key_error, limits=SMALL)
    assert raised.value.type_name == "KeyError" and "a bug" in raised.value.child_traceback


@pytest.mark.unit
def test_a_file_whose_reading_exceeds_the_cap_is_refused_with_what_happened(tmp_path, iga_home, monkeypatch):
    from etl.dry_run import dry_run

    big = tmp_path / "big.csv"  # read in one 40 MB piece: a fresh mapping, refused by a 1 MB cap
    big.write_bytes(b"Code projet;Intitul\xc3\xa9;Co\xc3\xbbt global;Contribution INDH\r\n" + b"x" * 40_000_000)
    monkeypatch.setenv("IGA_WORKER_MEMORY_MB", "1")
    result = dry_run(big, "MA-TAO", "2013", tmp_path / "reports")
    assert result.status == "refused" and result.isolated_failure in {"memory", "signal"}
    assert result.by_rule == [("error", "FILE_UNREADABLE", 1)]
    assert "mémoire" in result.reason_fr and "الذاكرة" in result.reason_ar
    assert result.html_path.exists() and result.xlsx_path.exists()
    monkeypatch.setenv("IGA_WORKER_MEMORY_MB", "1536")
    path = tmp_path / "ok.xlsx"
    path.write_bytes(project_workbook([good_row(i) for i in range(300)]))
    assert dry_run(path, "MA-TAO", "2013", tmp_path / "reports").status == "loaded"


@pytest.mark.integration
def test_the_ingest_task_records_a_file_that_killed_its_reader(warehouse_url, iga_home, monkeypatch):
    from sqlalchemy import create_engine, text

    from etl.config import settings
    from etl.ingest import ingest_file, list_new_files

    big = settings().landing / "MA-TAO" / "2013" / "gros.csv"
    small = settings().landing / "MA-BER" / "2013" / "petit.xlsx"
    big.parent.mkdir(parents=True)
    small.parent.mkdir(parents=True)
    # 40 MB in one piece: allocated by a fresh mapping (above glibc's largest mmap threshold), which
    # a 1 MB cap refuses whatever memory the parent has freed.
    big.write_bytes(b"Code projet;Intitul\xc3\xa9;Co\xc3\xbbt global;Contribution INDH\r\n" + b"x" * 40_000_000)
    small.write_bytes(project_workbook([good_row(i) for i in range(3)]))
    summaries = {}
    for path in list_new_files():  # the big file with 1 MB to grow, the small one with the default
        monkeypatch.setenv("IGA_WORKER_MEMORY_MB", "1" if "gros" in path else "1536")
        summaries[path] = ingest_file(path)
    assert {s["status"] for s in summaries.values()} == {"refused", "loaded"}
    with create_engine(warehouse_url).connect() as conn:
        refused = conn.execute(text("SELECT landing_path, reason FROM core.submission WHERE status = 'refused'")).one()
    assert refused.landing_path == "MA-TAO/2013/gros.csv" and "mémoire" in refused.reason
    assert list_new_files() == []  # recorded: never retried forever


def ignore_a_group_sigterm():
    import signal

    os.kill(os.getpid(), signal.SIGTERM)  # what Airflow sends a task's whole process group
    return "alive"


@pytest.mark.unit
def test_the_child_ends_when_its_parent_says_not_on_a_group_signal():
    assert run_isolated(ignore_a_group_sigterm, limits=SMALL) == "alive"
