"""Read a provincial file into Arrow columns: no Python object per cell.

Workbooks (xlsx, xlsm, xls, ods) are read by fastexcel (Rust calamine) straight into Arrow; CSV/TXT
by ``pyarrow.csv`` once the encoding and separator are told as :mod:`etl.read` tells them. Every
check of :mod:`etl.read` runs first, from its own functions: size, content sniffing, the zip
directory and the counted inflation (bombs, CRCs, hidden rows), refusals with their reasons.

A sheet is kept as one Arrow string column per sheet column (each cell as calamine renders it)
and the kind of each cell (empty, text, number, date, true/false): the value parsers give a
number typed ``1.125`` and a text typed ``1.125`` different meanings (the first is 1.125 DH, the
second 1,125 DH), so the kind is read too, from a second, typed read of the columns whose cells
could be either. :meth:`ColumnSheet.rows` gives back the cells exactly as ``python-calamine`` (or
the CSV reader) gives them to the per-cell path; the tests compare both over every fixture.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from etl import read
from etl.errors import IgaError
from etl.read import Limits, UnreadableFile

EMPTY, TEXT, NUMBER, DATE, BOOL = 0, 1, 2, 3, 4
# How calamine renders a number (shortest round-trip, never an exponent) and a date cell.
NUMBER_RENDERING = r"^-?[0-9]+(\.[0-9]+)?$"
# (A negative serial renders as a date before 1899-12-30, its year negative past year 0; beyond
# 9999-12-31 the year has a "+" and the cell is read as the number it is.)
DATE_RENDERING = r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?)?$"
BEYOND_LAST_DATE = r"^\+[0-9]{5,}-[0-9]{2}-[0-9]{2}"
_DATE_TEXT = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?")
CSV_FIELD_LIMIT = csv.field_size_limit()
LAST_DATE_SERIAL = 2_958_465  # 9999-12-31: a number beyond it does not read as a date


@dataclass
class Column:
    """One sheet column: every cell's text as read, its kind, and the numbers' exact values.

    calamine renders a number as text rounded to nine decimals, so the value of a number cell comes
    from a read of the column as numbers, never from its text.
    """
    text: object  # pyarrow.StringArray, one element per sheet row
    kind: object = None  # pyarrow.Int8Array of EMPTY/TEXT/NUMBER/DATE/BOOL, or None (text or empty)
    number: object = None  # pyarrow.DoubleArray: the value of each NUMBER cell

    def cell(self, row: int, blank: object) -> object:
        text = self.text[row].as_py()
        if text is None:
            return blank
        kind = self.kind[row].as_py() if self.kind is not None else TEXT
        if kind == NUMBER:
            return self.number[row].as_py()
        return cell_value(text, kind)

    def cells(self, start: int, blank: object) -> list[object]:
        """Every cell from row ``start``, as python-calamine gives them."""
        texts = self.text.slice(start).to_pylist()
        if self.kind is None:
            return [blank if text is None else text for text in texts]
        kinds = self.kind.slice(start).to_pylist()
        numbers = self.number.slice(start).to_pylist() if self.number is not None else None
        return [blank if text is None else numbers[i] if kind == NUMBER else cell_value(text, kind)
                for i, (text, kind) in enumerate(zip(texts, kinds))]


def cell_value(text: str, kind: int) -> object:
    """The Python value python-calamine gives for a cell of that kind rendered as ``text`` (not a number)."""
    if kind == BOOL:
        return text == "true"
    if kind == DATE:
        year, month, day, hour, minute, second, fraction = _DATE_TEXT.fullmatch(text).groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        if (int(year), int(month), int(day)) <= (1899, 12, 31):  # a serial under 1: python-calamine
            return dt.time(int(hour or 0), int(minute or 0), int(second or 0), micro)  # gives its time of day
        value = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                            micro)
        return value.date() if value.time() == dt.time() else value
    return text


@dataclass
class ColumnSheet:
    """A sheet as columns; row ``i`` is Excel row ``i + 1``, column ``j`` is Excel column ``j + 1``."""
    name: str
    height: int = 0
    width: int = 0
    columns: dict[int, Column] = field(default_factory=dict)  # absolute column index -> column
    hidden: bool = False
    file_format: str = ""
    hidden_rows: set[int] = field(default_factory=set)
    row_lengths: list[int] | None = None  # CSV rows keep their own length, as csv.reader gives them
    merged_source: object = None  # callable giving the merged ranges, read only when asked

    @property
    def blank(self) -> object:
        return None if self.file_format == "csv" else ""

    @property
    def merged(self) -> list:
        if callable(self.merged_source):
            self.merged_source = self.merged_source()
        return self.merged_source or []

    def row(self, index: int) -> list[object]:
        width = self.row_lengths[index] if self.row_lengths is not None else self.width
        blank = self.blank
        cells = [blank] * width
        for column_index, column in self.columns.items():
            if column_index < width:
                cells[column_index] = column.cell(index, blank)
        return cells

    def rows(self, start: int = 0, stop: int | None = None) -> list[list[object]]:
        """Rows ``start`` to ``stop`` as python-calamine (or csv.reader) gives them."""
        stop = self.height if stop is None else min(stop, self.height)
        return self.rows_at(range(start, max(start, stop)))

    def rows_at(self, indices) -> list[list[object]]:
        """The rows at these 0-based indices (in that order) as python-calamine (or csv.reader) gives them."""
        import pyarrow as pa

        indices = list(indices)
        blank = self.blank
        grid = [[blank] * (self.row_lengths[index] if self.row_lengths is not None else self.width)
                for index in indices]
        if not indices:
            return grid
        taken = pa.array(indices, pa.int64())
        for column_index, column in self.columns.items():
            part = Column(column.text.take(taken), column.kind.take(taken) if column.kind is not None else None,
                          column.number.take(taken) if column.number is not None else None)
            for cells, cell in zip(grid, part.cells(0, blank)):
                if column_index < len(cells):
                    cells[column_index] = cell
        return grid


class ColumnReaderFailed(UnreadableFile):
    """fastexcel stopped on a sheet (an error, or a panic in its Rust code): the per-cell reader,
    which recovers what it can of such a sheet, decides on the file."""


class TooWideForColumns(IgaError):
    """A sheet wider than ``max_columns``: a column each costs more than its cells (a far
    reference or repeated ODS columns make 16,384 of them for a few rows); read it cell by cell.
    Never leaves :func:`etl.columnar.read_file_sheets`, which reads such a file cell by cell."""


def read_columns(path: Path, limits: Limits | None = None, max_columns: int | None = None) -> list[ColumnSheet]:
    """Every sheet of the file as columns; refuses what :func:`etl.read.read_file` refuses.

    With ``max_columns``, a sheet that reaches further raises :class:`TooWideForColumns` as soon
    as its extent is known (before fastexcel builds it, where the zip scan tells)."""
    limits = limits or Limits.from_settings()
    size = path.stat().st_size
    if size == 0 or size > limits.max_file_bytes:
        return read.read_file(path, limits)  # raises the refusal, with its figures
    data = path.read_bytes()
    kind = read.sniff_format(data[:4096])
    if kind == "zip-workbook":
        file_format = read.read_zip_kind(data, limits)
        scan = read.inflate_checked(data, limits, file_format, merged_ranges=True)
        for sheet, extent in scan.extents.items():  # a far cell is refused before a column is built
            read.check_sheet_dimensions(extent.rows, extent.columns, limits, sheet)
        if max_columns is not None and any(extent.columns > max_columns for extent in scan.extents.values()):
            raise TooWideForColumns(path.name)
        return read_workbook_columns(data, file_format, limits, scan.hidden_rows, max_columns, scan.merged)
    if kind == "ole-workbook":
        return read_workbook_columns(data, read.read_ole_kind(data), limits, max_columns=max_columns)
    if kind == "text":
        return [read_text_columns(data, path.stem, limits, max_columns)]
    return read.read_file(path, limits)  # markup, pdf, binary: refused there, with the same reason


def _quiet_fastexcel() -> None:
    logging.getLogger("fastexcel").setLevel(logging.ERROR)


def read_workbook_columns(data: bytes, file_format: str, limits: Limits,
                          hidden_rows: dict[str, set[int]] | None = None,
                          max_columns: int | None = None, merged: dict[str, list] | None = None
                          ) -> list[ColumnSheet]:
    """The sheets of a workbook as columns. ``merged``: each sheet's merged ranges where the zip scan
    collected them (xlsx); the others are asked of calamine when the header search needs them."""
    import fastexcel
    from python_calamine import CalamineWorkbook

    _quiet_fastexcel()
    try:
        # The sheet list (kind, visibility) without reading any sheet; fastexcel then reads the cells.
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = book.sheets_metadata
        if file_format in ("xlsx", "xlsm"):  # the zip scan gave the extents: let calamine's copy of the file go
            book = None
        reader = fastexcel.read_excel(data)
        sheets: list[ColumnSheet] = []
        total_rows = 0
        for meta in metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet":
                continue
            if str(meta.visible) != "SheetVisibleEnum.Visible":
                sheets.append(ColumnSheet(meta.name, hidden=True, file_format=file_format))
                continue
            if file_format not in ("xlsx", "xlsm"):  # no extent walked in the zip: calamine's, as etl.read checks
                end = book.get_sheet_by_name(meta.name).end
                read.check_sheet_dimensions(end[0] + 1 if end else 0, end[1] + 1 if end else 0, limits, meta.name)
                if max_columns is not None and end and end[1] + 1 > max_columns:
                    raise TooWideForColumns(meta.name)
            sheet = _load_sheet(reader, meta.name, file_format, data, (merged or {}).get(meta.name))
            if max_columns is not None and sheet.width > max_columns:
                raise TooWideForColumns(meta.name)
            total_rows += sheet.height
            if total_rows > limits.max_rows:
                raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                     max_rows=limits.max_rows)
            sheets.append(sheet)
    except (UnreadableFile, TooWideForColumns):
        raise
    except BaseException as exc:  # fastexcel/calamine errors, and pyo3 panics (not Exceptions)
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "password" in message.lower() or "encrypt" in message.lower():
            raise ColumnReaderFailed("protégé par un mot de passe", "محمي بكلمة مرور", "FILE_ENCRYPTED") from exc
        raise ColumnReaderFailed(message, message, "FILE_CORRUPT") from exc
    if not any(has_filled_cell(sheet) for sheet in sheets) and not any(sheet.hidden for sheet in sheets):
        raise UnreadableFile("le classeur ne contient aucune cellule remplie.", "المصنف لا يحتوي على أي خانة مملوءة.",
                             "FILE_EMPTY")
    for sheet in sheets:
        sheet.hidden_rows = (hidden_rows or {}).get(sheet.name, set())
    return sheets


def has_filled_cell(sheet: ColumnSheet) -> bool:
    import pyarrow.compute as pc

    return any(pc.any(pc.not_equal(column.text, "")).as_py() for column in sheet.columns.values())


def _load_sheet(reader, name: str, file_format: str, data: bytes, merged: list | None = None) -> ColumnSheet:
    import pyarrow as pa
    import pyarrow.compute as pc

    loaded = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
    batch = loaded.to_arrow()
    positions = [info.absolute_index for info in loaded.selected_columns]
    del loaded  # calamine's grid of the sheet: freed before the typed reads build theirs
    sheet = ColumnSheet(name, height=batch.num_rows, width=(max(positions) + 1) if positions else 0,
                        file_format=file_format)
    if batch.num_rows == 0:
        sheet.width = 0
    sheet.merged_source = merged if merged is not None else lambda: merged_ranges(data, name)
    # Which columns hold cells that may be numbers, dates or true/false rather than text: a second,
    # typed read of those columns tells. Read as true/false, a number or true/false cell has a value
    # and a text never has; read as a date, a date or number cell has one and a text never has.
    typed: dict[int, str] = {}
    both: list[int] = []
    for position, text in zip(positions, batch.columns):
        if text.null_count == len(text):  # an empty column is blank wherever it is asked
            continue
        sheet.columns[position] = Column(text)
        numeric = pc.fill_null(pc.match_substring_regex(text, NUMBER_RENDERING), False)
        has_number = pc.any(numeric).as_py()
        has_date = pc.any(pc.match_substring_regex(text, DATE_RENDERING)).as_py()
        has_bool = pc.any(pc.is_in(text, pa.array(["true", "false"]))).as_py()
        if pc.any(pc.match_substring_regex(text, BEYOND_LAST_DATE)).as_py():
            # A date-formatted number past 9999-12-31: rendered "+10000-01-01 ...", a number to
            # calamine, and fastexcel reads it as no number: the per-cell reader reads it.
            raise ColumnReaderFailed("date au-delà de 9999-12-31", "تاريخ بعد 9999-12-31", "FILE_CORRUPT")
        if has_date:
            typed[position] = "date"
            far = has_number and pc.max(pc.abs(pc.cast(pc.if_else(numeric, text, "0"), pa.float64()))).as_py()
            if has_bool or (far or 0) >= LAST_DATE_SERIAL:  # those read as no date either way
                both.append(position)
        elif has_number or has_bool:
            typed[position] = "boolean"
    if not typed:
        return sheet
    order = sorted(typed)
    typed_batch = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes=typed, use_columns=order).to_arrow()
    flags = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="boolean",
                              use_columns=both).to_arrow() if both else None
    true_false = pa.array(["true", "false"])
    with_numbers = []
    for index, position in enumerate(order):
        text = sheet.columns[position].text
        has_value = pc.is_valid(typed_batch.column(index))
        if position in both:
            has_value = pc.or_(has_value, pc.is_valid(flags.column(both.index(position))))
        rendered_bool = pc.fill_null(pc.is_in(text, true_false), False)
        rendered_date = pc.fill_null(pc.match_substring_regex(text, DATE_RENDERING), False)
        kind = pc.if_else(has_value, pc.if_else(rendered_bool, BOOL, pc.if_else(rendered_date, DATE, NUMBER)), TEXT)
        kind = pc.cast(pc.if_else(pc.is_valid(text), kind, EMPTY), pa.int8())
        sheet.columns[position].kind = kind
        if pc.any(pc.equal(kind, NUMBER)).as_py():
            with_numbers.append(position)
    if with_numbers:
        values = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="float",
                                   use_columns=with_numbers).to_arrow()
        for index, position in enumerate(with_numbers):
            sheet.columns[position].number = values.column(index)
    return sheet


def merged_ranges(data: bytes, sheet_name: str) -> list:
    """The sheet's merged ranges as calamine gives them, ((top, left), (bottom, right)), 0-based
    (xlsx sheets have theirs from the zip scan, :attr:`etl.read.ZipScan.merged`)."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet_name)
    return list(sheet.merged_cell_ranges or [])


def read_text_columns(data: bytes, name: str, limits: Limits | None = None,
                      max_columns: int | None = None) -> ColumnSheet:
    """A CSV/TXT table as columns: decoded and split as :func:`etl.read.read_text_table` does.

    ``pyarrow.csv`` splits a text without quotes exactly as ``csv.reader`` does; a text with quote
    characters or rows of several widths goes through ``csv.reader`` itself, then into columns.
    """
    import pyarrow as pa

    limits = limits or Limits.from_settings()
    text = read.decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("un fichier binaire inconnu", "ملف ثنائي غير معروف", "FILE_NOT_SPREADSHEET",
                             what_fr="un fichier binaire inconnu", what_ar="ملف ثنائي غير معروف")
    if not text.strip(" \t\r\n;,|\ufeff"):
        raise UnreadableFile("le fichier est vide.", "الملف فارغ.", "FILE_EMPTY")
    delimiter = read.choose_delimiter(text)
    read.check_text_cells(text, delimiter, limits, name)
    table = _arrow_csv(text, delimiter) if '"' not in text else None
    if table is not None:
        if table.num_rows > limits.max_rows:
            raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                 max_rows=limits.max_rows)
        if max_columns is not None and table.num_columns > max_columns:
            raise TooWideForColumns(name)
        columns = {index: Column(_blank_to_null(column)) for index, column in enumerate(table.columns)}
        return ColumnSheet(name, table.num_rows, table.num_columns, columns, file_format="csv")
    # The widest line bounds the widest row (a quoted separator only counts one too many): checked
    # before csv.reader splits anything.
    if max_columns is not None and max(line.count(delimiter) for line in text.splitlines()) >= max_columns:
        raise TooWideForColumns(name)
    rows = read.read_text_table(data, name, limits).rows
    width = max((len(row) for row in rows), default=0)
    columns = {index: Column(pa.array([row[index] if index < len(row) else None for row in rows], pa.string()))
               for index in range(width)}
    return ColumnSheet(name, len(rows), width, columns, file_format="csv", row_lengths=[len(row) for row in rows])


def _arrow_csv(text: str, delimiter: str):
    """The table by pyarrow.csv, or None where csv.reader would split it otherwise (or refuse it)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as arrow_csv

    body = text.encode("utf-8")
    first = text.split("\n", 1)[0].split("\r", 1)[0]
    width = len(first.split(delimiter)) if first else 0
    if width < 2 or "\r" in text.replace("\r\n", "\n") or text.startswith(("\n", "\r")):
        return None  # a blank first line or lone carriage returns: let csv.reader decide
    names = [f"c{index}" for index in range(width)]
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(body),
            read_options=arrow_csv.ReadOptions(column_names=names),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, quote_char=False, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None  # rows of several widths (or a blank line inside): csv.reader keeps each as it is
    for column in table.columns:
        if (pc.max(pc.utf8_length(column)).as_py() or 0) > CSV_FIELD_LIMIT:
            return None
    return table


# What str.strip() strips (str.isspace), as an RE2 class: a cell of only these is empty.
PYTHON_SPACES = "".join(f"\\x{{{code:x}}}" for code in range(0x3000 + 1) if chr(code).isspace())


def _blank_to_null(column):
    """csv.reader's cells that are empty or only spaces are None in the per-cell path."""
    import pyarrow.compute as pc

    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    blank = pc.match_substring_regex(column, f"^[{PYTHON_SPACES}]*$")
    return pc.if_else(blank, None, column)
