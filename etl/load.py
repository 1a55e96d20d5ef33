"""Load one examined submission into the warehouse, in one transaction.

Rows are staged into ``core.project_version`` with COPY, then merged into ``core.project``
(``sql/load/merge_projects.sql``); findings and refused rows go to the ``quality`` tables. A
transaction-scoped advisory lock per province serialises two submissions of one province. Any
failure rolls everything back: the warehouse is as it was before the submission.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import re
import shutil
import stat
from pathlib import Path

from sqlalchemy import text

from etl.config import SQL_DIR
from etl.errors import IgaError
from etl.examine import Examination
from etl.findings import Finding
from etl.normalise import AMOUNT_COLUMNS

VERSION_COLUMNS = (
    "submission_id", "province_code", "project_code", "commune", "title", "programme_code",
    "sector_code", "promoter_type_code", "promoter_name", "approval_year", "start_date",
    "status_code", "total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
    "partner_contribution_mad", "beneficiaries", "women", "youth", "jobs_created",
    "source_sheet", "source_row",
)
FINDING_COLUMNS = ("submission_id", "sheet", "excel_row", "column_header", "value", "project_code",
                   "rule_id", "severity", "message_fr", "message_ar")
REJECTED_COLUMNS = ("submission_id", "sheet", "excel_row", "project_code", "raw")
PROVINCE_LOCK_NAMESPACE = 7_301
# The province of a submission whose folder names none: never the folder's own name, which comes
# from outside and must not become a report path or a mail subject.
UNKNOWN_PROVINCE = "INCONNU"


class UnknownReferenceCode(IgaError, RuntimeError):
    """A row carries a code the ref tables lack: a pipeline fault (reference files out of sync)."""


def sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


NULL = float("nan")  # the only unquoted field COPY sees: every value is quoted, so no text is NULL


class CsvStream:
    """The file copy_expert reads: CSV made a batch of rows at a time, on demand.

    PostgreSQL parses one batch while Python formats the next, so a load keeps both cores busy
    instead of building the whole file first. Every text is quoted (``QUOTE_NONNUMERIC``) and NULL
    is an unquoted ``nan`` (no value here is a float NaN: amounts are cents, counts integers), so
    no text, not ``\\N`` nor an empty string, is ever taken for NULL. NUL characters, which
    PostgreSQL text cannot hold, and lone surrogates from a damaged file become U+FFFD: a value
    never fails a load that would be retried forever.
    """

    BATCH_ROWS = 2000

    def __init__(self, rows):
        self._rows = iter(rows)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        self._chunk, self._position = b"", 0

    def read(self, size: int = -1) -> bytes:
        if self._position >= len(self._chunk):
            self._buffer.seek(0)
            self._buffer.truncate()
            for row in itertools.islice(self._rows, self.BATCH_ROWS):
                self._writer.writerow([NULL if v is None else v for v in row])
            text_ = self._buffer.getvalue()
            if "\x00" in text_:
                text_ = text_.replace("\x00", "\ufffd")
            try:
                self._chunk = text_.encode("utf-8")
            except UnicodeEncodeError:
                self._chunk = text_.encode("utf-8", "replace")
            self._position = 0
        if size < 0:
            size = len(self._chunk)
        piece = self._chunk[self._position:self._position + size]
        self._position += len(piece)
        return piece


def version_csv(submission_id: int, exam: Examination) -> "BatchedCsv":
    """The rows to load as CSV for COPY, built column by column in Arrow and written by pyarrow, a
    batch of :data:`BatchedCsv.BATCH_ROWS` rows at a time (100,000 rows are never one file in memory).

    The guarantees of :class:`CsvStream` hold: pyarrow quotes every text and writes NULL as an
    unquoted empty field (the only NULL COPY sees), NUL becomes U+FFFD, and a lone surrogate from a
    damaged file becomes ``?`` as UTF-8's replacement on encoding, never a failed load.
    """
    def batch(pairs: list) -> io.BytesIO:
        import pyarrow as pa

        rows = [row for _, row in pairs]

        def of(key: str) -> list:
            return [row[key] for row in rows]

        columns = {
            "submission_id": pa.array([submission_id] * len(rows), pa.int64()),
            "province_code": texts([exam.province_code] * len(rows)),
            **{key: texts(of(key)) for key in ("project_code", "commune", "title", "programme_code", "sector_code",
                                                 "promoter_type_code", "promoter_name")},
            "approval_year": pa.array(of("approval_year"), pa.int64()),
            "start_date": pa.array(of("start_date"), pa.date32()),
            "status_code": texts(of("status_code")),
            **{key: cents_texts(of(key)) for key in AMOUNT_COLUMNS},
            **{key: pa.array(of(key), pa.int64()) for key in ("beneficiaries", "women", "youth", "jobs_created")},
            "source_sheet": texts([sheet.name for sheet, _ in pairs]),
            "source_row": pa.array(of("excel_row"), pa.int64()),
        }
        return _arrow_csv(columns, VERSION_COLUMNS)
    return BatchedCsv(exam.rows, batch)


class BatchedCsv:
    """The file copy_expert reads, made by ``write`` (a list of items -> CSV bytes) a batch at a time."""

    BATCH_ROWS = 16_384

    def __init__(self, items: list, write):
        self._items, self._write = items, write
        self._next = 0
        self._chunk = io.BytesIO()

    def read(self, size: int = -1) -> bytes:
        piece = self._chunk.read(size)
        while not piece and self._next < len(self._items):
            self._chunk = self._write(self._items[self._next:self._next + self.BATCH_ROWS])
            self._next += self.BATCH_ROWS
            piece = self._chunk.read(size)
        return piece


def findings_csv(submission_id: int, findings: list[Finding]) -> io.BytesIO:
    """The findings as CSV for COPY, column by column in Arrow (the guarantees of :func:`version_csv`)."""
    import pyarrow as pa

    messages = [f.messages() for f in findings]
    columns = {
        "submission_id": pa.array([submission_id] * len(findings), pa.int64()),
        "sheet": texts([f.sheet for f in findings]),
        "excel_row": pa.array([f.excel_row for f in findings], pa.int64()),
        "column_header": texts([f.column_header for f in findings]),
        "value": texts([None if f.value is None else str(f.value) for f in findings]),
        "project_code": texts([f.project_code for f in findings]),
        "rule_id": texts([f.rule_id for f in findings]),
        "severity": texts([f.severity for f in findings]),
        "message_fr": texts([fr for fr, _ in messages]),
        "message_ar": texts([ar for _, ar in messages]),
    }
    return _arrow_csv(columns, FINDING_COLUMNS)


def texts(values: list) -> object:
    """Texts as an Arrow column PostgreSQL takes: a lone surrogate becomes ``?``, NUL U+FFFD."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        column = pa.array(values, pa.string())
    except (UnicodeError, pa.ArrowException):
        column = pa.array([v if v is None else v.encode("utf-8", "replace").decode("utf-8") for v in values],
                          pa.string())
    return pc.replace_substring(column, "\x00", "\ufffd")


def _arrow_csv(columns: dict, names: tuple[str, ...]) -> io.BytesIO:
    """CSV written by pyarrow: every text quoted, NULL an unquoted empty field (COPY's NULL in CSV)."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    buffer = io.BytesIO()
    arrow_csv.write_csv(pa.table([columns[c] for c in names], names=list(names)), buffer,
                        arrow_csv.WriteOptions(include_header=False))
    buffer.seek(0)
    return buffer


def cents_texts(values: list) -> object:
    """Centimes as the numeric(16, 2) text COPY reads: 125000050 -> '1250000.50', -305 -> '-3.05'."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    cents = pa.array(values, pa.int64())
    number = pc.fill_null(cents, 0).to_numpy(zero_copy_only=False)
    magnitude = np.abs(number)
    text_ = pc.binary_join_element_wise(
        pa.array(np.where(number < 0, "-", "")), pa.array(magnitude // 100).cast(pa.string()), ".",
        pc.utf8_lpad(pa.array(magnitude % 100).cast(pa.string()), 2, "0"), "")
    return pc.if_else(cents.is_valid(), text_, None)


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    cursor.copy_expert(
        "COPY " + table + " (" + ", ".join(columns) + ") FROM STDIN WITH (FORMAT csv, NULL 'nan')",
        CsvStream(rows), size=1 << 16)


def _no_nul(text_: str) -> str:
    """PostgreSQL text (and jsonb's \\u0000) cannot hold NUL: U+FFFD instead, never a failed load."""
    return text_.replace("\x00", "\ufffd") if "\x00" in text_ else text_


def _json_cell(value: object) -> object:
    if isinstance(value, str):
        return _no_nul(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):  # jsonb has no NaN nor Infinity
        return None if value != value else str(value)
    if value is None or isinstance(value, (int, float)):
        return value
    return _no_nul(str(value))  # a duration, or whatever a reader returns: kept as text


def archive_file(path: Path, sha256: str, archive_root: Path) -> Path:
    """Keep the original bytes, content-addressed, so every figure traces back to its file.

    The archive path is the digest and ``original`` with a short extension, never the clerk's name
    (which may be any length or bytes; the warehouse keeps it as ``file_name``). Called inside the submission's
    transaction: the copy is on disk (fsync) before the submission that names it commits, and a
    copy that fails (disk full, read-only) fails the submission and leaves no partial file behind.
    """
    suffix = path.suffix.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", path.suffix) else ""
    target = archive_root / sha256[:2] / sha256 / ("original" + suffix)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + f".{os.getpid()}.part")
        try:
            with open(path, "rb") as source, open(partial, "wb") as copy:  # never a swapped-in link
                if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                    raise OSError(f"not a regular file: {path!r}")
                shutil.copyfileobj(source, copy, 1 << 20)
                copy.flush()
                os.fsync(copy.fileno())
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return target


def load_submission(engine, exam: Examination, landing_path: str, sha256: str, size: int,
                    archive_root: Path | None, file_name: str | None = None, duplicates: bool = True) -> dict:
    """Record and load one submission; returns its summary (submission_id, status, counts).

    ``file_name`` is the name as recorded (escaped when the clerk's is not safe text); no
    ``archive_root`` means nothing is archived (a link or a FIFO is never read); ``duplicates=False``
    records a refusal as such even when the same bytes arrived before under another path."""
    with engine.begin() as conn:
        if exam.province_code:
            conn.execute(text("SELECT pg_advisory_xact_lock(:ns, hashtext(:province))"),
                         {"ns": PROVINCE_LOCK_NAMESPACE, "province": exam.province_code})
        already = conn.execute(
            text("SELECT submission_id, status FROM core.submission WHERE landing_path = :p AND sha256 = :s"),
            {"p": landing_path, "s": sha256}).first()
        if already:  # processed by an earlier (or concurrent) run: nothing to do
            return {"submission_id": already.submission_id, "status": already.status, "new": False}
        earlier = conn.execute(
            text("SELECT min(submission_id) FROM core.submission "
                 "WHERE sha256 = :s AND status IN ('loaded', 'partial', 'refused')"),
            {"s": sha256}).scalar() if duplicates else None
        record = {
            "province_code": exam.province_code or UNKNOWN_PROVINCE,
            "period": exam.period, "period_end": exam.period_end, "file_name": file_name or exam.path.name,
            "landing_path": landing_path, "sha256": sha256, "size_bytes": size,
            "rows_read": exam.rows_read, "sheets": ", ".join(s.name for s in exam.sheets) or None,
            "archive_path": str(archive_file(exam.path, sha256, archive_root)) if archive_root else None,
        }
        for key in ("file_name", "landing_path", "period", "sheets"):  # bound parameters: no NUL either
            if isinstance(record[key], str):
                record[key] = _no_nul(record[key])
        if earlier is not None:
            reason, reason_ar = Finding("FILE_DUPLICATE", value=earlier).messages()
            record.update(status="duplicate", rows_loaded=0, rows_rejected=0, duplicate_of=earlier,
                          reason=reason, reason_ar=reason_ar)
            submission_id = conn.execute(text(sql("load/insert_submission.sql")), record).scalar_one()
            return {"submission_id": submission_id, "status": "duplicate", "new": True,
                    "province_code": record["province_code"], "rows_loaded": 0, "rows_rejected": 0}
        record.update(status=exam.status, rows_loaded=len(exam.rows), rows_rejected=len(exam.rejected),
                      reason=exam.reason_text() and _no_nul(exam.reason_text()),
                      reason_ar=exam.reason_text("ar") and _no_nul(exam.reason_text("ar")), duplicate_of=None)
        submission_id = conn.execute(text(sql("load/insert_submission.sql")), record).scalar_one()

        cursor = conn.connection.driver_connection.cursor()
        cursor.copy_expert("COPY core.project_version (" + ", ".join(VERSION_COLUMNS) + ") FROM STDIN WITH (FORMAT csv)",
                           version_csv(submission_id, exam), size=1 << 16)
        cursor.copy_expert("COPY quality.finding (" + ", ".join(FINDING_COLUMNS) + ") FROM STDIN WITH (FORMAT csv)",
                           findings_csv(submission_id, exam.findings), size=1 << 16)
        _copy(cursor, "quality.rejected_row", REJECTED_COLUMNS, (
            (submission_id, sheet.name, row["excel_row"], row["project_code"],
             json.dumps({_no_nul(header): _json_cell(v) for header, v in sheet.cells_as_read(row).items()},
                        ensure_ascii=False))
            for sheet, row in exam.rejected))
        unknown = conn.execute(text(sql("load/check_references.sql")), {"submission_id": submission_id}).all()
        if unknown:  # rolls the whole submission back
            raise UnknownReferenceCode(f"codes missing from the reference tables: {unknown}")
        if exam.rows:
            conn.execute(text(sql("load/merge_projects.sql")), {"submission_id": submission_id})
            conn.execute(text(sql("load/flag_absent_projects.sql")), {"submission_id": submission_id})
    return {"submission_id": submission_id, "status": record["status"], "new": True,
            "province_code": record["province_code"], "rows_loaded": record["rows_loaded"],
            "rows_rejected": record["rows_rejected"]}
