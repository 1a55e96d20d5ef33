"""What a failure may say in an operator's mail or a log: the error type, the file, the Excel row.

Never a cell's value: a database error quotes the failing row ("Failing row contains (…, Ahmed
Bennani, …)"), a parser error the text it could not read, SQLAlchemy the statement's parameters,
and those are a promoter's personal data. :func:`describe` keeps what locates and explains the
fault (exception type, SQLSTATE and its name, table, column, constraint, the first line of a
connection or file-system error) and drops the rest; :class:`SubmissionFailed` is what a failed
ingest task raises instead of the original error, with the original traceback's frames.
"""
from __future__ import annotations

import re

from etl.errors import IgaError

COPY_LINE = re.compile(r"COPY (\w+), line (\d+)")


def _database_error(error):
    """The psycopg2 error behind ``error`` (SQLAlchemy wraps it), or None."""
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        return None
    candidate = getattr(error, "orig", error)
    return candidate if isinstance(candidate, psycopg2.Error) else None


def describe(error: BaseException) -> str:
    """The error's type and what locates it, without any value it may quote."""
    name = type(error).__name__
    if isinstance(error, SubmissionFailed):
        return f"{name}: {error}"
    database = _database_error(error)
    if database is not None and database.pgcode:
        from psycopg2 import errorcodes

        diag = database.diag
        where = [f"{label} {value}" for label, value in (
            ("table", diag.table_name), ("column", diag.column_name), ("constraint", diag.constraint_name))
            if value]
        code = f"SQLSTATE {database.pgcode} {errorcodes.lookup(database.pgcode) or ''}".strip()
        return f"{name} ({'; '.join([code, *where])})"
    if database is not None or isinstance(error, OSError):
        # Connection and file-system errors name a server, a socket or a path, not a cell.
        first_line = str(getattr(error, "orig", error)).strip().splitlines()[:1]
        return f"{name}: {first_line[0]}" if first_line else name
    return f"{name} (message withheld: it may quote the file's contents)"


def failing_row(error: BaseException, exam) -> tuple[str | None, int | None]:
    """(sheet, Excel row) of the row a COPY into the warehouse choked on, when the database says."""
    database = _database_error(error)
    context = getattr(getattr(database, "diag", None), "context", None) or ""
    found = COPY_LINE.search(context)
    if exam is None or not found:
        return None, None
    table, line = found.group(1), int(found.group(2))
    rows = {"project_version": exam.rows, "rejected_row": exam.rejected}.get(table)
    if rows is None or not 0 < line <= len(rows):
        return None, None
    sheet, row = rows[line - 1]
    return sheet.name, row["excel_row"]


class SubmissionFailed(IgaError, RuntimeError):
    """Loading one landing file failed; the message names the file, the error and the row only."""

    def __init__(self, landing_path: str, error: BaseException, exam=None):
        sheet, excel_row = failing_row(error, exam)
        self.landing_path, self.sheet, self.excel_row = landing_path, sheet, excel_row
        self.error_type = type(error).__name__
        where = f", sheet «{sheet}» Excel row {excel_row}" if excel_row is not None else ""
        super().__init__(f"{landing_path}{where}: {describe(error)}")
