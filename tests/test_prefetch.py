"""etl/prefetch.py: what the helper examined ahead is what the task would have examined itself; a
file changed since, one the helper could not examine, or one already loaded is the task's own."""
import os
import shutil
from pathlib import Path

import pytest

from etl import prefetch
from etl.examine import examine
from etl.ingest import entry_sha256, new_entries
from etl.sample import generate

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"


def landing_with_kinds(landing: Path) -> list[str]:
    """Generated workbooks, the clerks' other formats (the CSV's sheet is named after its file),
    refusals (a password, a truncated zip, a PDF) and a name the listing refuses unread."""
    generate(landing, provinces=["MA-TAO", "MA-BER", "MA-CHE"], rows=(20, 40))
    others = {"MA-BER": ["berkane_arabic.xls", "berkane_utf16_tab.txt"],
              "MA-CHE": ["chefchaouen_windows1256.csv", "refuse_password.xlsx"],
              "MA-ERR": ["errachidia.ods", "refuse_truncated.xlsx", "hand_scan.pdf"]}
    for province, names in others.items():
        folder = landing / province / "2013"
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(FIXTURES / name, folder / name)
    (landing / "MA-TAO" / "2013" / "bad\nname.xlsx").write_bytes(b"never read")
    return sorted(entry.relative for entry in new_entries())


def stop_after_finish(helper: prefetch.Helper) -> None:
    """stop() once the test has reaped the helper itself."""
    prefetch._folder = None
    shutil.rmtree(helper.folder, ignore_errors=True)


def test_the_examinations_ahead_are_the_tasks_own(warehouse_url, iga_home):
    landing = iga_home / "landing"
    relatives = landing_with_kinds(landing)
    helper = prefetch.start(iga_home, new_entries)
    assert helper is not None
    try:
        os.waitpid(helper.pid, 0)
        taken = 0
        for entry in new_entries():
            if entry.problem:
                assert prefetch.take(entry.path, *entry.parts[:2], entry_sha256(entry)) is None
                continue
            province, period, _ = entry.parts
            ahead = prefetch.take(entry.path, province, period, entry_sha256(entry))
            assert ahead is not None, entry.relative
            taken += 1
            assert ahead == examine(entry.path, province, period), entry.relative
            assert ahead.path == entry.path
        assert taken == len(relatives) - 1  # all but the name refused unread
        assert any(r.endswith(".csv") for r in relatives) and any(r.endswith(".pdf") for r in relatives)
    finally:
        stop_after_finish(helper)


def test_changed_or_failed_files_are_left_to_their_task(warehouse_url, iga_home, monkeypatch):
    landing = iga_home / "landing"
    generate(landing, provinces=["MA-TAO", "MA-BER", "MA-CHE"], rows=(20, 40))
    entries = {entry.parts[0]: entry for entry in new_entries()}
    # The helper's reader fails on Berkane's file (the task's own child would refuse it).
    import etl.examine

    real = etl.examine.examine

    def failing_on_berkane(path, province, period):
        if province == "MA-BER":
            raise RuntimeError("the reader stopped")
        return real(path, province, period)

    monkeypatch.setattr(etl.examine, "examine", failing_on_berkane)
    helper = prefetch.start(iga_home, new_entries)
    try:
        os.waitpid(helper.pid, 0)
        monkeypatch.setattr(etl.examine, "examine", real)
        berkane, chefchaouen, taounate = entries["MA-BER"], entries["MA-CHE"], entries["MA-TAO"]
        assert prefetch.take(berkane.path, "MA-BER", "2013", entry_sha256(berkane)) is None
        # Chefchaouen's file changes after the helper read it: other bytes, no examination.
        before = entry_sha256(chefchaouen)
        chefchaouen.path.write_bytes(chefchaouen.path.read_bytes() + b"\0")
        assert prefetch.take(chefchaouen.path, "MA-CHE", "2013", entry_sha256(chefchaouen)) is None
        assert prefetch.take(chefchaouen.path, "MA-CHE", "2013", before) is not None  # it was made
        # The same bytes under another province's folder are another examination.
        assert prefetch.take(taounate.path, "MA-BER", "2013", entry_sha256(taounate)) is None
        assert prefetch.take(taounate.path, "MA-TAO", "2013", entry_sha256(taounate)) is not None
    finally:
        stop_after_finish(helper)


def test_stop_ends_the_helper_and_removes_its_folder(warehouse_url, iga_home):
    generate(iga_home / "landing", provinces=["MA-TAO"], rows=(20, 40))
    helper = prefetch.start(iga_home, new_entries)
    entry = new_entries()[0]
    prefetch.stop(helper)  # at once, whatever it was doing
    assert not helper.folder.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)
    assert prefetch.take(entry.path, "MA-TAO", "2013", entry_sha256(entry)) is None
    prefetch.stop(None)  # no helper (fork failed): nothing to do


def test_files_already_loaded_are_not_examined_again(warehouse_url, iga_home):
    from etl.ingest import ingest_file, list_new_files

    generate(iga_home / "landing", provinces=["MA-TAO", "MA-BER"], rows=(20, 40))
    loaded = list_new_files()[0]
    ingest_file(loaded)
    helper = prefetch.start(iga_home, new_entries)
    try:
        os.waitpid(helper.pid, 0)
        exams = list(helper.folder.glob("*.exam"))
        assert len(exams) == 1  # the other file only
    finally:
        stop_after_finish(helper)


def test_no_helper_where_its_folder_cannot_be_made(iga_home):
    iga_home.mkdir(parents=True)
    (iga_home / "prefetch").write_text("a file where the folder goes")
    assert prefetch.start(iga_home, lambda: []) is None
    assert prefetch._folder is None


def test_what_the_parent_printed_is_printed_once(warehouse_url, iga_home):
    import subprocess
    import sys

    code = ("import sys; from etl import prefetch; from etl.ingest import new_entries; "
            "print('printed before the helper'); "
            "helper = prefetch.start(__import__('pathlib').Path(sys.argv[1]), new_entries); "
            "status = __import__('os').waitpid(helper.pid, 0)[1]; "  # the helper has examined the file (and flushed)
            "print('helper', status, len(list(helper.folder.glob('*.exam'))), file=sys.stderr)")
    generate(iga_home / "landing", provinces=["MA-TAO"], rows=(20, 40))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", code, str(iga_home)], capture_output=True, text=True,
                          check=True, timeout=120, env=env)  # stdout a pipe: Python buffers it until exit
    assert done.stdout.count("printed before the helper") == 1
    assert "helper 0 1" in done.stderr  # it ended well, having examined the one file
