"""``iga run`` examines the cycle's new files ahead, on the second core, while Airflow runs the tasks.

Under ``dag.test()`` the file tasks run one after another in one process: each spends ~100 ms in
Airflow's own work, then waits ~190 ms for its child, and one core works at a time. Before the DAGs
run, :func:`start` forks a helper that examines every new landing file (read, normalise, validate:
what depends on the file's bytes alone, :func:`etl.examine.examine`), each in its own capped child
(:func:`etl.isolate.run_isolated`), and keeps each examination in a private folder under the
SHA-256 of the bytes it read. The file task's child takes it there (:func:`take`) when the file
still has those bytes, else examines the file itself as it would without the helper; the checks
against the warehouse and the load are always the task's own. A file the helper could not examine
(a reader stopped by the child's wall) is examined by its task, which refuses it as before.

The scheduler runs four file tasks at once and starts no helper.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_folder: Path | None = None  # this process's helper folder, inherited by the file tasks' children


@dataclass
class Helper:
    pid: int
    folder: Path


def _key(sha256: str, province: str, period: str) -> str:
    """A file name for (bytes, province folder, period folder): the folders' names may be any text."""
    return hashlib.sha256("\0".join((sha256, province, period)).encode("utf-8", "surrogateescape")).hexdigest()


def start(state: Path, new_entries) -> Helper | None:
    """Fork the helper (call before anything starts a thread); None where it cannot start.
    ``new_entries``: the landing entries not loaded yet (:func:`etl.ingest.new_entries`), which
    the helper lists itself."""
    global _folder
    from etl.private_files import private_dir

    folder = None
    parent = os.getpid()
    try:
        folder = Path(tempfile.mkdtemp(prefix="run-", dir=private_dir(state / "prefetch")))
        sys.stdout.flush()  # what the parent printed is written once, never again by the helper
        sys.stderr.flush()
        pid = os.fork()
    except OSError as error:  # a full disk, a process limit: the tasks examine their files themselves
        log.warning("no examination ahead of the tasks: %s", error)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return None
    if pid == 0:  # pragma: no cover - the helper ends with os._exit; the tests read what it left
        code = 0
        try:
            from etl.isolate import die_with_parent

            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which stops the helper
            die_with_parent(parent)  # and if the parent is killed, the helper goes with it
            _examine_ahead(folder, new_entries)
        except BaseException:  # noqa: B036 - the helper only saves work: whatever stops it, the tasks go on
            code = 1
        finally:
            os._exit(code)
    _folder = folder
    return Helper(pid, folder)


def stop(helper: Helper | None) -> None:
    """End the helper (and, with it, its capped children) and remove its folder."""
    global _folder
    if helper is None:
        return
    _folder = None
    try:
        os.kill(helper.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(helper.pid, 0)
    shutil.rmtree(helper.folder, ignore_errors=True)


def _examine_ahead(folder: Path, new_entries) -> None:
    """In the helper: each new, readable landing file, in listing order, unless its task took it first."""
    from etl.examine import examine
    from etl.isolate import ChildError, ChildFailed, forget_parent_connections, prepare_to_fork, run_isolated
    from etl.read import Limits

    forget_parent_connections()
    entries = new_entries()
    prepare_to_fork()
    limit = Limits.from_settings().max_file_bytes
    for entry in entries:
        if entry.problem or len(entry.parts) != 3:
            continue  # refused by its name or kind, never read
        province, period, name = entry.parts
        try:
            if entry.path.lstat().st_size > limit:
                continue  # refused for its size by the task, without reading it
            data = entry.path.read_bytes()
        except OSError:
            continue
        key = _key(hashlib.sha256(data).hexdigest(), province, period)
        if (folder / (key + ".taken")).exists():
            continue
        copy = folder / key / name  # the same name: a CSV's sheet is named after its file
        copy.parent.mkdir()
        copy.write_bytes(data)
        del data
        try:
            exam = run_isolated(examine, copy, province, period)
        except (ChildFailed, ChildError):
            continue  # its task examines it again and refuses it with the reason
        finally:
            shutil.rmtree(copy.parent, ignore_errors=True)
        partial = folder / (key + ".part")
        partial.write_bytes(pickle.dumps(exam, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(folder / (key + ".exam"))  # whole or absent for the task that reads it


def take(path: Path, province: str, period: str, sha256: str):
    """The examination of the file at ``path`` with these bytes, if the helper made it; else None
    (and the helper, if it has not reached the file yet, leaves it to the task)."""
    if _folder is None:
        return None
    key = _key(sha256, province, period)
    try:
        (_folder / (key + ".taken")).touch()
        exam = pickle.loads((_folder / (key + ".exam")).read_bytes())  # the helper's, in a private folder
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    exam.path = path  # examined as a copy: archived and named from the landing file, as without the helper
    return exam
