"""The ingest DAG's work: find new files in the landing folder and load each one.

Landing layout: ``<landing>/<province>/<period>/<file>``; the province folder is an ISO 3166-2:MA
code (or a name the reference data knows), the period ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``.
A file is new while its path and bytes (SHA-256) have not been recorded in ``core.submission``.

Names come from outside and may be any bytes. The listing never follows a link and never opens
anything but a regular file: a symlink, a FIFO, a socket or a folder where a file should be is
refused (``FILE_NOT_REGULAR``) without being read; a name that is not UTF-8, holds a control
character or is too long is refused (``FILE_NAME_INVALID``). Both are recorded under a safe,
escaped form of their path, so the listing, XCom, the warehouse and the mails only ever see text.

Each file is examined and loaded in a forked child with a memory cap and a timeout
(:mod:`etl.isolate`): a file that kills or hangs the reader is refused (``FILE_UNREADABLE``) and
the other files go on.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from etl.config import settings
from etl.examine import Examination, examine
from etl.failures import SubmissionFailed
from etl.load import load_submission
from etl.names import MAX_NAME_BYTES, name_problem, safe_name
from etl.periods import period_end
from etl.read import sha256_of

log = logging.getLogger(__name__)
IGNORED_PREFIXES = (".", "~$")  # hidden files and Excel's lock files


@dataclass(frozen=True)
class LandingEntry:
    """One thing at ``<province>/<period>/<file>`` depth (or a link or odd file above it)."""
    relative: str  # the path as recorded: text, with unsafe names escaped
    path: Path  # the real path (its names may hold undecodable bytes)
    parts: tuple[str, ...]  # the escaped names of province, period and file
    problem: str | None = None  # a rule id when it is refused without being read
    params: dict = field(default_factory=dict)


def _ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIXES) or name.endswith(".part")


def _kind(mode: int) -> tuple[str, str]:
    if stat.S_ISLNK(mode):
        return "un lien symbolique", "رابط رمزي"
    if stat.S_ISDIR(mode):
        return "un dossier", "مجلد"
    if stat.S_ISFIFO(mode):
        return "un tube nommé", "أنبوب مسمى"
    if stat.S_ISSOCK(mode):
        return "une socket", "مقبس"
    return "un fichier spécial", "ملف خاص"


def _entries(folder: Path):
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: os.fsencode(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []


def landing_entries(landing: Path) -> list[LandingEntry]:
    """Everything at file depth, sorted; links and odd files anywhere are refused, never followed."""
    found: list[LandingEntry] = []

    def refuse_odd(entry, parts: tuple[str, ...]) -> None:
        mode = entry.stat(follow_symlinks=False).st_mode
        what_fr, what_ar = _kind(mode)
        found.append(LandingEntry("/".join(parts), Path(entry.path), parts, "FILE_NOT_REGULAR",
                                  {"what_fr": what_fr, "what_ar": what_ar}))

    for province in _entries(landing):
        if _ignored(province.name):
            continue
        p_parts = (safe_name(province.name),)
        if province.is_symlink() or not province.is_dir(follow_symlinks=False):
            if province.is_symlink() or not province.is_file(follow_symlinks=False):
                refuse_odd(province, p_parts)
            else:
                log.warning("ignoring %s: files go in <province>/<period>/<file>", p_parts[0])
            continue
        for period in _entries(Path(province.path)):
            if _ignored(period.name):
                continue
            pp_parts = p_parts + (safe_name(period.name),)
            if period.is_symlink() or not period.is_dir(follow_symlinks=False):
                if period.is_symlink() or not period.is_file(follow_symlinks=False):
                    refuse_odd(period, pp_parts)
                else:
                    log.warning("ignoring %s: files go in <province>/<period>/<file>", "/".join(pp_parts))
                continue
            for item in _entries(Path(period.path)):
                if _ignored(item.name):
                    continue
                parts = pp_parts + (safe_name(item.name),)
                if not item.is_file(follow_symlinks=False):  # links, folders, FIFOs, sockets, devices
                    refuse_odd(item, parts)
                    continue
                problem = next((p for p in (name_problem(province.name), name_problem(period.name),
                                            name_problem(item.name)) if p), None)
                if problem:
                    found.append(LandingEntry("/".join(parts), Path(item.path), parts, "FILE_NAME_INVALID",
                                              {"reason_fr": problem[0], "reason_ar": problem[1],
                                               "max_bytes": MAX_NAME_BYTES}))
                else:
                    found.append(LandingEntry("/".join(parts), Path(item.path), parts))
    return found


def landing_files(landing: Path) -> list[Path]:
    """The regular files with usable names at ``<province>/<period>/<file>`` depth, sorted."""
    return [entry.path for entry in landing_entries(landing) if entry.problem is None]


def entry_sha256(entry: LandingEntry) -> str:
    """The bytes' digest for a regular file; for anything else a digest of what it is (a link's
    target), so it is recorded once and never read."""
    if entry.problem == "FILE_NOT_REGULAR":
        try:
            what = b"link:" + os.fsencode(os.readlink(entry.path))
        except OSError:
            what = b"mode:" + str(entry.path.lstat().st_mode).encode()
        return hashlib.sha256(what).hexdigest()
    return sha256_of(entry.path)


def list_new_files() -> list[str]:
    """Paths (relative to the landing folder, escaped when unsafe) of the entries not yet recorded."""
    return [entry.relative for entry in new_entries()]


def new_entries() -> list[LandingEntry]:
    """The landing entries whose path and bytes are not yet recorded."""
    landing = settings().landing
    if not landing.is_dir():
        return []
    with _engine().connect() as conn:
        seen = set(conn.execute(text("SELECT landing_path, sha256 FROM core.submission")).tuples())
    new = []
    for entry in landing_entries(landing):
        try:
            digest = entry_sha256(entry)
        except FileNotFoundError:  # removed while listing: the next run sees what is there
            continue
        if (entry.relative, digest) not in seen:
            new.append(entry)
    return new


def _engine():
    from etl.warehouse import engine

    return engine()


def find_entry(relative_path: str) -> LandingEntry | None:
    landing = settings().landing
    return next((e for e in landing_entries(landing) if e.relative == relative_path), None)


def ingest_file(relative_path: str) -> dict:
    """Examine and load one landing entry; returns its submission summary.

    The file is examined and loaded in a child process (:func:`etl.isolate.run_isolated`); a child
    that dies or times out gives a ``FILE_UNREADABLE`` refusal recorded here. An ordinary error
    there (the warehouse is down) is a pipeline fault: it fails this task, which is retried. It is
    raised as :class:`~etl.failures.SubmissionFailed` (the file, the error type, the Excel row),
    never quoting the row's contents (the child words it so, :func:`_examine_and_load`).
    """
    from etl.isolate import ChildError, ChildFailed, prepare_to_fork, run_isolated

    entry = find_entry(relative_path)
    if entry is None:
        log.warning("%s: no longer in the landing folder", relative_path)
        return {"submission_id": None, "status": "gone", "new": False}
    try:
        sha256 = entry_sha256(entry)
        if entry.problem:  # recorded as refused, never as a duplicate of the same bytes under a good name
            return _record(entry_refusal(entry), entry, sha256, archive=entry.problem != "FILE_NOT_REGULAR",
                           duplicates=False)
        prepare_to_fork()
        try:
            summary = run_isolated(_examine_and_load, entry, sha256)
        except ChildFailed as failure:
            log.error("%s: the reader was stopped: %s", relative_path, failure.detail_fr)
            summary = _record(unreadable_refusal(entry, failure), entry, sha256)
    except ChildError as error:
        failure = SubmissionFailed(relative_path, error)
        if error.type_name == "SubmissionFailed":  # already worded in the child: file, error type, row
            failure.args = (error.message,)
        raise failure from error.__cause__  # the child's OSError (disk full), if that was the cause
    except Exception as error:
        raise SubmissionFailed(relative_path, error).with_traceback(error.__traceback__) from None
    log.info("%s: submission %s %s (%s loaded, %s rejected)", relative_path, summary["submission_id"],
             summary["status"], summary.get("rows_loaded"), summary.get("rows_rejected"))
    return summary


def entry_refusal(entry: LandingEntry) -> Examination:
    """The refusal of a landing entry that is never read: a bad name, or not a regular file."""
    value = entry.parts[-1] if entry.problem == "FILE_NAME_INVALID" else entry.relative
    return _refused(entry, entry.problem, value, **entry.params)


def unreadable_refusal(entry: LandingEntry, failure) -> Examination:
    """The refusal of a file whose reader was stopped (:class:`etl.isolate.ChildFailed`)."""
    return _refused(entry, "FILE_UNREADABLE", detail=failure.detail_fr, detail_ar=failure.detail_ar)


def _refused(entry: LandingEntry, rule_id: str, value: object = None, **params) -> Examination:
    from etl import reference

    province = entry.parts[0]
    period = entry.parts[1] if len(entry.parts) == 3 else ""  # a link above file depth has no period
    code = reference.find_province(province)
    exam = Examination(entry.path, code, period, period_end(period) if code and period else None)
    return exam.refuse(rule_id, value, **params)


def _record(exam: Examination, entry: LandingEntry, sha256: str, archive: bool = True,
            duplicates: bool = True) -> dict:
    current = settings()
    size = entry.path.lstat().st_size
    return load_submission(_engine(), exam, entry.relative, sha256, size, current.archive if archive else None,
                           file_name=entry.parts[-1], duplicates=duplicates)


def _examine_and_load(entry: LandingEntry, sha256: str) -> dict:
    """In the child: read, normalise, validate, compare with the warehouse, load."""
    from etl.prefetch import take
    from etl.quality_checks import warehouse_checks

    province, period, _ = entry.parts
    exam = None
    try:
        exam = take(entry.path, province, period, sha256) or examine(entry.path, province, period)
        warehouse_checks(exam, _engine())  # read-only, before the load transaction; warnings only
        return _record(exam, entry, sha256)
    except Exception as error:  # worded here, where the failing row is known, without its contents
        from etl.isolate import out_of_memory

        if out_of_memory(error):
            raise  # the child's cap: the parent refuses the file (FILE_UNREADABLE)
        raise SubmissionFailed(entry.relative, error, exam).with_traceback(error.__traceback__) from None
