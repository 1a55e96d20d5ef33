"""The second wall: work on one file in a forked child with a memory cap and a timeout.

The readers refuse what their checks foresee (sizes, dimensions, damaged zips, native panics). What
no check foresees (a native reader allocating without bound on a damaged .xls, a pathological
regular expression) must still cost one file, not the worker: :func:`run_isolated` forks the
current process (after its imports, so the child starts in milliseconds with GX and calamine
already loaded), caps the child's address space with ``RLIMIT_AS`` and waits for its answer with a
timeout. A child that dies, runs out of memory or overstays raises :class:`ChildFailed` with what
happened in French and Arabic; the caller turns it into a ``FILE_UNREADABLE`` refusal and goes on.

The cap is what the child may add on top of what the process had mapped when it forked
(``IGA_WORKER_MEMORY_MB``, default 1536): the libraries' own reservations (Airflow, GX, pandas,
pyarrow) are already counted in the starting size, so they can never eat the budget of the file.
"""
from __future__ import annotations

import errno
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass

from etl.errors import IgaError


class IsolationError(IgaError):
    """Base of what :func:`run_isolated` raises."""


class ChildFailed(IsolationError):
    """The child died, ran out of memory or timed out: the file cannot be read (FILE_UNREADABLE)."""

    def __init__(self, what: str, detail_fr: str, detail_ar: str):
        super().__init__(detail_fr)
        self.what = what  # "memory", "timeout", "signal", "exit"
        self.detail_fr = detail_fr
        self.detail_ar = detail_ar


class ChildError(IsolationError):
    """The function raised an ordinary exception in the child (a pipeline fault, not the file's)."""

    def __init__(self, type_name: str, message: str, child_traceback: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.child_traceback = child_traceback


@dataclass(frozen=True)
class WorkerLimits:
    memory_bytes: int
    timeout_s: float

    @classmethod
    def from_settings(cls) -> "WorkerLimits":
        from etl.config import settings

        current = settings()
        return cls(memory_bytes=current.worker_memory_mb * 1024 * 1024, timeout_s=current.worker_timeout_s)


def mapped_bytes() -> int:
    """The address space this process has mapped now (VmSize)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def forget_parent_connections() -> None:
    """In a forked process: the warehouse connections of the parent are the parent's alone."""
    warehouse = sys.modules.get("etl.warehouse")  # only if this process has used the warehouse
    if warehouse is not None:
        warehouse.forget_inherited_connections()


def _os_error(exc: BaseException | None) -> tuple[int, str] | None:
    """(errno, strerror) of the OSError behind ``exc`` (disk full, read-only), for the parent."""
    while exc is not None and not isinstance(exc, OSError):
        exc = exc.__cause__ or exc.__context__
    return (exc.errno, exc.strerror or "") if exc is not None and exc.errno else None


def out_of_memory(exc: BaseException) -> bool:
    """The child's memory cap, whatever form it took (MemoryError, a library it could not map)."""
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOMEM:
        return True
    text = str(exc).lower()
    return isinstance(exc, (ImportError, OSError)) and ("failed to map" in text or "cannot allocate memory" in text)


def prepare_to_fork() -> None:
    """Import what examining a file needs (pandas, Great Expectations and the suite) before the
    first fork, so each child starts with it mapped: cheap, and never a library half-loaded under
    the child's memory cap."""
    from etl.memory import settle

    settle()  # first: GX's unused modules deferred, Arrow on malloc (etl/memory.py)
    import etl.load  # noqa: F401 - what the ingest child uses, mapped once in the parent
    import etl.quality_checks  # noqa: F401
    import etl.reports  # noqa: F401
    from etl.matching import warm
    from etl.validate import _validator

    _validator()
    warm()
    # Each validation opens a (disabled) tqdm bar, whose first use imports multiprocessing to make
    # its lock: 0.22 s of every child's life, a third of a 400-row file's, unless made here.
    from tqdm import tqdm

    tqdm.get_lock()


def die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this child when its parent dies (even by SIGKILL)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call
        os._exit(88)


def _child(write_fd: int, limits: WorkerLimits, function, args, kwargs, parent: int) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.environ["RUST_BACKTRACE"] = "0"  # a native panic is reported in one line, not 40
        faulthandler.disable()  # a native abort here is reported by the parent, not as a dump
        # The parent decides when the child ends (its answer, the timeout, or the parent's own end):
        # a SIGTERM or SIGINT sent to the whole process group (Airflow stops a task's group) is the
        # parent's to handle, and the child dies with the parent whatever kills it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent)
        cap = mapped_bytes() + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        forget_parent_connections()
        try:
            outcome = ("ok", function(*args, **kwargs))
        except MemoryError:
            outcome = ("memory", "MemoryError", "", "")
        except BaseException as exc:  # noqa: B036 - reported to the parent, which decides
            if out_of_memory(exc):  # a library loaded in the child could not be mapped under the cap
                outcome = ("memory", type(exc).__name__, str(exc)[:2000], "")
            else:
                outcome = ("error", type(exc).__name__, str(exc)[:2000], traceback.format_exc()[-8000:],
                           _os_error(exc))
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", "MemoryError", "", ""))
        except BaseException as exc:  # noqa: B036 - an unpicklable result is the caller's bug
            payload = pickle.dumps(("error", type(exc).__name__, str(exc)[:2000], traceback.format_exc()[-8000:], None))
        view = memoryview(payload)
        while view:
            written = os.write(write_fd, view[:1 << 20])
            view = view[written:]
    except MemoryError:
        code = 86
    except BaseException:  # noqa: B036 - the child must end here whatever happens
        code = 87
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_isolated(function, *args, limits: WorkerLimits | None = None, **kwargs):
    """``function(*args, **kwargs)`` in a forked child capped in memory and time; its result.

    The result must be picklable (a summary, not a warehouse connection). Raises
    :class:`ChildFailed` when the child dies, runs out of memory or times out (it is killed), and
    :class:`ChildError` when the function raised an ordinary exception there.
    """
    limits = limits or WorkerLimits.from_settings()
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    # The child's garbage collector leaves the parent's objects alone (its first full collection
    # would otherwise write to every one of them, copying the pages of pandas, GX and the suite:
    # a third of a 400-row file's time); the parent collects them again as soon as it has forked.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read_fd)
        _child(write_fd, limits, function, args, kwargs, parent)
    gc.unfreeze()
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limits.timeout_s
    timed_out = stopped = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    except BaseException:  # the parent is being stopped (Airflow's SIGTERM, Ctrl-C): so is the child
        stopped = True
        raise
    finally:
        os.close(read_fd)
        if timed_out or stopped:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    memory_mb = limits.memory_bytes // (1024 * 1024)
    if timed_out:
        seconds = f"{limits.timeout_s:g}"
        raise ChildFailed("timeout", f"la lecture a dépassé le délai de {seconds} s et a été arrêtée",
                          f"تجاوزت القراءة المهلة المحددة ({seconds} ثانية) وتم إيقافها")
    outcome = None
    if chunks and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        try:
            outcome = pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - a truncated answer is a dead child
            outcome = None
    if outcome is None or outcome[0] == "memory":
        if outcome is not None or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 86):
            raise ChildFailed("memory", f"la lecture a dépassé la limite de mémoire ({memory_mb} Mo)",
                              f"تجاوزت القراءة حد الذاكرة ({memory_mb} ميغابايت)")
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            likely = " (mémoire épuisée ?)" if number in (signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV) else ""
            likely_ar = " (نفاد الذاكرة؟)" if likely else ""
            raise ChildFailed("signal", f"le lecteur s'est arrêté brutalement ({name}){likely}, "
                                        f"limite de mémoire {memory_mb} Mo",
                              f"توقف القارئ فجأة ({name}){likely_ar}، حد الذاكرة {memory_mb} ميغابايت")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        raise ChildFailed("exit", f"le lecteur s'est arrêté sans réponse (code {code})",
                          f"توقف القارئ دون جواب (الرمز {code})")
    if outcome[0] == "error":
        _, type_name, message, child_traceback, os_error = outcome
        failure = ChildError(type_name, message, child_traceback)
        if os_error:  # the child's disk or file-system error, as its cause (errno and reason only)
            raise failure from OSError(*os_error)
        raise failure
    return outcome[1]
