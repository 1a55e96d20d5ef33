"""The one way this project writes an XLSX: safe cells, linear time.

Every workbook the project writes (the findings workbook of a submission or of ``iga check``, the
weekly open-errors file, the published marts) goes through :func:`write_workbook`:

- **no live formula**: a text starting with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF is written
  with a leading apostrophe (as the published CSVs are), so a hostile cell, header or file name
  never runs in the reader's Excel;
- **no illegal character**: control characters XML cannot hold (openpyxl raises
  ``IllegalCharacterError``) and lone surrogates become U+FFFD; a text longer than an Excel cell
  (32,767 characters) is cut;
- **linear**: openpyxl's write-only mode streams rows to disk and rows are counted here (calling
  ``sheet.max_row`` per appended row scans the sheet: quadratic, 112 s for 20,000 findings);
- links only from safe names (:func:`safe_link_target`): never a UNC path, a URL scheme or a name
  with odd characters.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
MAX_CELL_CHARS = 32_767
# What openpyxl refuses in a cell (its ILLEGAL_CHARACTERS_RE) and what UTF-8 cannot encode.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# A workbook name a link may point at: letters (any script), digits, spaces, ( ) _ - . and a
# spreadsheet extension; nothing that makes a path, a share or a URL.
_SAFE_FILE = re.compile(r"\w[\w .()\-]{0,150}\.(?:xlsx|xlsm|xls|ods|csv|txt)", re.IGNORECASE)
_SAFE_SHEET = re.compile(r"[\w .()\-']{1,31}")


def clean_text(text: str) -> str:
    """A text an XLSX cell can hold: illegal characters replaced, cut at Excel's cell size."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("\ufffd", text)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS - 1] + "…"


def neutralise(value: object) -> object:
    """A text never runs as a formula in a spreadsheet (CSV or XLSX): a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell_value(value: object) -> object:
    """What a cell may hold: safe text, a number, a naive date; anything else as safe text."""
    if value is None or isinstance(value, (bool, int, Decimal)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return value
    return neutralise(clean_text(value if isinstance(value, str) else str(value)))


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet title (31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_TITLE_FORBIDDEN.sub("_", title).strip("'") or "Feuille"
    base = base[:31]
    candidate, number = base, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = base[:31 - len(suffix)] + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


def safe_link_target(file_name: str | None, sheet: str | None, row: object) -> str | None:
    """``file.xlsx#'Sheet'!A12`` when the file name, sheet and row are plain; else None (no link)."""
    if not file_name or not sheet or not isinstance(row, int) or not 1 <= row <= 1_048_576:
        return None
    if not _SAFE_FILE.fullmatch(file_name) or ".." in file_name or not _SAFE_SHEET.fullmatch(sheet):
        return None
    return f"{file_name}#'{sheet.replace(chr(39), chr(39) * 2)}'!A{row}"


@dataclass
class Cell:
    """A value with its look: fill colour, bold, link colour, right-to-left alignment."""
    value: object
    fill: str | None = None
    bold: bool = False
    right_to_left: bool = False
    link: str | None = None


@dataclass
class Sheet:
    title: str
    header: list[list[object]]  # header lines, bold
    rows: Iterable[list[object]]  # values or Cell
    widths: list[float] = field(default_factory=list)
    freeze: bool = True
    auto_filter: bool = False
    right_to_left_header_lines: tuple[int, ...] = ()  # 0-based header lines aligned right


def write_workbook(path: Path, sheets: list[Sheet]) -> Path:
    """Write ``sheets`` to ``path`` atomically (a ``.part`` file renamed); returns the path."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold, link_font = Font(bold=True), Font(color="0563C1", underline="single")
    rtl = Alignment(horizontal="right", readingOrder=2)
    fills: dict[str, PatternFill] = {}
    taken: set[str] = set()
    for spec in sheets:
        sheet = book.create_sheet(sheet_title(spec.title, taken))
        for index, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        if spec.freeze and spec.header:
            sheet.freeze_panes = f"A{len(spec.header) + 1}"
        count, widest = 0, 0
        for line, values in enumerate(spec.header):
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=cell_value(value))
                cell.font = bold
                if line in spec.right_to_left_header_lines:
                    cell.alignment = rtl
                cells.append(cell)
            sheet.append(cells)
            count, widest = count + 1, max(widest, len(values))
        for values in spec.rows:
            cells = []
            for value in values:
                if not isinstance(value, Cell):
                    cells.append(cell_value(value))
                    continue
                cell = WriteOnlyCell(sheet, value=cell_value(value.value))
                if value.fill:
                    cell.fill = fills.setdefault(value.fill, PatternFill("solid", fgColor=value.fill))
                if value.right_to_left:
                    cell.alignment = rtl
                if value.bold:
                    cell.font = bold
                if value.link:
                    cell.hyperlink = value.link
                    cell.font = link_font
                cells.append(cell)
            sheet.append(cells)
            count, widest = count + 1, max(widest, len(values))
        if spec.auto_filter and count and widest:
            sheet.auto_filter.ref = f"A{len(spec.header) or 1}:{get_column_letter(widest)}{count}"
    if not sheets:
        book.create_sheet("Feuille")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    book.save(partial)
    partial.replace(path)
    return path
