"""The ingest DAG's work: find new files in the landing folder and load each one.

Landing layout: ``<landing>/<province>/<period>/<file>``; the province folder is an ISO 3166-2:MA
code (or a name the reference data knows), the period ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``.
A file is new while its path and bytes (SHA-256) have not been recorded in ``core.submission``.
"""
from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text

from etl.config import settings
from etl.examine import examine
from etl.failures import SubmissionFailed
from etl.load import load_submission
from etl.quality_checks import warehouse_checks
from etl.read import sha256_of
from etl.warehouse import engine

log = logging.getLogger(__name__)
IGNORED_PREFIXES = (".", "~$")  # hidden files and Excel's lock files


def landing_files(landing: Path) -> list[Path]:
    """Files at ``<province>/<period>/<file>`` depth, sorted; others are logged and left alone."""
    files = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        relative = path.relative_to(landing)
        if path.name.startswith(IGNORED_PREFIXES) or path.name.endswith(".part"):
            continue
        if len(relative.parts) != 3:
            log.warning("ignoring %s: files go in <province>/<period>/<file>", relative)
            continue
        files.append(path)
    return files


def list_new_files() -> list[str]:
    """Paths (relative to the landing folder) of the files not yet recorded."""
    landing = settings().landing
    if not landing.is_dir():
        return []
    with engine().connect() as conn:
        seen = set(conn.execute(text("SELECT landing_path, sha256 FROM core.submission")).tuples())
    new = []
    for path in landing_files(landing):
        relative = path.relative_to(landing).as_posix()
        if (relative, sha256_of(path)) not in seen:
            new.append(relative)
    return new


def ingest_file(relative_path: str) -> dict:
    """Examine and load one landing file; returns its submission summary.

    A failure is raised again as :class:`~etl.failures.SubmissionFailed` (the file, the error type,
    the Excel row), keeping the original traceback's frames but not its message: the task log and
    the operators' mail must not quote the row's contents.
    """
    current = settings()
    path = current.landing / relative_path
    exam = None
    try:
        province, period, _ = Path(relative_path).parts
        sha256 = sha256_of(path)
        exam = examine(path, province, period)
        warehouse_checks(exam, engine())  # read-only, before the load transaction; warnings only
        summary = load_submission(engine(), exam, relative_path, sha256, path.stat().st_size, current.archive)
    except Exception as error:
        raise SubmissionFailed(relative_path, error, exam).with_traceback(error.__traceback__) from None
    log.info("%s: submission %s %s (%s loaded, %s rejected)", relative_path, summary["submission_id"],
             summary["status"], summary.get("rows_loaded"), summary.get("rows_rejected"))
    return summary
