"""The one way this project writes an XLSX: safe cells, linear time.

Every workbook the project writes (the findings workbook of a submission or of ``iga check``, the
weekly open-errors file, the published marts) goes through :func:`write_workbook`:

- **no live formula**: a text starting with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF is written
  with a leading apostrophe (as the published CSVs are), so a hostile cell, header or file name
  never runs in the reader's Excel;
- **no illegal character**: control characters XML cannot hold (openpyxl raises
  ``IllegalCharacterError``) and lone surrogates become U+FFFD; a text longer than an Excel cell
  (32,767 characters) is cut;
- **linear and lean**: the SpreadsheetML is written here, row by row into the zip, one string
  format a cell (openpyxl's write-only mode, used before, cost about 30 µs a cell: 59 s for a
  workbook of 100,000 findings; its ``sheet.max_row`` per row, before that, was quadratic);
- links only from safe names (:func:`safe_link_target`): never a UNC path, a URL scheme or a name
  with odd characters; at most :data:`MAX_LINKS_PER_SHEET` a sheet, as Excel opens them.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from etl.read import column_letters

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
    if type(value) is str:  # most cells: the shortest way
        return neutralise(clean_text(value))
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
    """Write ``sheets`` to ``path`` atomically (a ``.part`` file renamed); returns the path.

    The SpreadsheetML is written here, row by row into the zip: a cell costs one string format,
    where openpyxl's write-only mode built, styled and serialised an object per cell (59 s for a
    workbook of 100,000 findings, 2 s now)."""
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    styles = _Styles()
    taken: set[str] = set()
    titles = [sheet_title(spec.title, taken) for spec in sheets] or ["Feuille"]
    filters: list[str | None] = []
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for number, spec in enumerate(sheets, start=1):
            links: list[str] = []
            with book.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                filters.append(_write_sheet(part, spec, styles, links))
            if links:
                book.writestr(f"xl/worksheets/_rels/sheet{number}.xml.rels", _XML + (
                    f'<Relationships xmlns="{_RELATIONSHIPS}">'
                    + "".join(f'<Relationship Id="rId{index}" Type="{_OFFICE_RELATIONSHIPS}/hyperlink" '
                              f'Target="{_attribute(target)}" TargetMode="External"/>'
                              for index, target in enumerate(links, start=1))
                    + "</Relationships>"))
        if not sheets:
            book.writestr("xl/worksheets/sheet1.xml", _XML + f'<worksheet xmlns="{_MAIN}"><sheetData/></worksheet>')
        book.writestr("xl/styles.xml", styles.xml())
        book.writestr("xl/workbook.xml", _XML + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_OFFICE_RELATIONSHIPS}"><bookViews><workbookView/></bookViews>'
            "<sheets>" + "".join(f'<sheet name="{_attribute(title)}" sheetId="{index}" r:id="rId{index}"/>'
                                 for index, title in enumerate(titles, start=1)) + "</sheets>"
            + _filter_names(titles, filters) + "</workbook>"))
        book.writestr("xl/_rels/workbook.xml.rels", _XML + (
            f'<Relationships xmlns="{_RELATIONSHIPS}">'
            + "".join(f'<Relationship Id="rId{index}" Type="{_OFFICE_RELATIONSHIPS}/worksheet" '
                      f'Target="worksheets/sheet{index}.xml"/>' for index in range(1, len(titles) + 1))
            + f'<Relationship Id="rId{len(titles) + 1}" Type="{_OFFICE_RELATIONSHIPS}/styles" Target="styles.xml"/>'
            + "</Relationships>"))
        book.writestr("_rels/.rels", _XML + (
            f'<Relationships xmlns="{_RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{_OFFICE_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        book.writestr("[Content_Types].xml", _XML + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{index}.xml" '
                      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for index in range(1, len(titles) + 1)) + "</Types>"))
    partial.replace(path)
    return path


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Excel keeps at most 65,530 hyperlinks a sheet and "repairs" a workbook with more, dropping them:
# past it a cell keeps its look and value, without the link.
MAX_LINKS_PER_SHEET = 65_530
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd h:mm:ss"


def _text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(text: str) -> str:
    return _text(clean_text(text)).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace(
        "\t", "&#9;")


def _filter_names(titles: list[str], filters: list[str | None]) -> str:
    """The hidden names Excel keeps an autofilter's range in (``_xlnm._FilterDatabase``)."""
    names = [f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
             f"'{_attribute(title).replace(chr(39), chr(39) * 2)}'!{_absolute(ref)}</definedName>"
             for index, (title, ref) in enumerate(zip(titles, filters)) if ref]
    return "<definedNames>" + "".join(names) + "</definedNames>" if names else ""


def _absolute(ref: str) -> str:
    return ":".join("$" + re.sub(r"(\d+)", r"$\1", part) for part in ref.split(":"))


class _Styles:
    """The cell formats a workbook uses (font, fill, alignment, number format), numbered as they come."""

    FONTS = ('<font><sz val="11"/><name val="Calibri"/></font>',
             '<font><b/><sz val="11"/><name val="Calibri"/></font>',
             '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/></font>')
    FORMATS = {None: 0, DATE_FORMAT: 164, DATETIME_FORMAT: 165}

    def __init__(self) -> None:
        self.fills: dict[str, int] = {}
        self.formats: dict[tuple, int] = {(0, None, False, None): 0}

    def index(self, font: int = 0, fill: str | None = None, right_to_left: bool = False,
              number_format: str | None = None) -> int:
        key = (font, fill, right_to_left, number_format)
        found = self.formats.get(key)
        if found is None:
            if fill is not None:
                self.fills.setdefault(fill, len(self.fills) + 2)  # 0 and 1 are Excel's own (none, gray125)
            found = self.formats[key] = len(self.formats)
        return found

    def xml(self) -> str:
        fills = ['<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>']
        fills += [f'<fill><patternFill patternType="solid"><fgColor rgb="FF{_attribute(colour)}"/></patternFill></fill>'
                  for colour in self.fills]
        formats = []
        for font, fill, right_to_left, number_format in self.formats:
            attributes = (f'numFmtId="{self.FORMATS[number_format]}" fontId="{font}" '
                          f'fillId="{self.fills[fill] if fill else 0}" borderId="0" xfId="0"')
            attributes += ' applyNumberFormat="1"' if number_format else ""
            attributes += ' applyFont="1"' if font else ""
            attributes += ' applyFill="1"' if fill else ""
            alignment = '<alignment horizontal="right" readingOrder="2"/>' if right_to_left else ""
            formats.append(f'<xf {attributes} applyAlignment="1">{alignment}</xf>' if alignment else f"<xf {attributes}/>")
        return _XML + (
            f'<styleSheet xmlns="{_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/>'
            f'<numFmt numFmtId="165" formatCode="{DATETIME_FORMAT}"/></numFmts>'
            f'<fonts count="{len(self.FONTS)}">{"".join(self.FONTS)}</fonts>'
            f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(formats)}">{"".join(formats)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _cell(reference: str, value: object, style: int, styles: _Styles, font: int = 0, fill: str | None = None,
          right_to_left: bool = False) -> str:
    """One ``<c>`` element: a text (inline), a number, true/false or a date; None is an empty cell."""
    value = cell_value(value)
    kind = type(value)
    if value is None:
        return f'<c r="{reference}" s="{style}"/>' if style else ""
    if kind is str:
        return f'<c r="{reference}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if kind is bool:
        return f'<c r="{reference}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if kind is int or kind is float or kind is Decimal:
        return f'<c r="{reference}" s="{style}"><v>{value}</v></c>'
    if kind is dt.datetime or kind is dt.date:
        moment = value if kind is dt.datetime else dt.datetime(value.year, value.month, value.day)
        days = (moment - _EXCEL_EPOCH) / dt.timedelta(days=1)
        number_format = DATETIME_FORMAT if kind is dt.datetime else DATE_FORMAT
        style = styles.index(font, fill, right_to_left, number_format)
        return f'<c r="{reference}" s="{style}"><v>{days!r}</v></c>' if kind is dt.datetime else \
            f'<c r="{reference}" s="{style}"><v>{int(days)}</v></c>'
    text = _text(clean_text(str(value)))  # an int or float subclass, whatever cell_value let through
    return f'<c r="{reference}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _write_sheet(part, spec: Sheet, styles: _Styles, links: list[str]) -> str | None:
    """The sheet's XML into ``part`` (a zip member open for writing); its autofilter range, if any."""
    out = io.TextIOWrapper(part, encoding="utf-8", newline="")
    out.write(_XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_OFFICE_RELATIONSHIPS}"><sheetViews>'
              '<sheetView workbookViewId="0">')
    if spec.freeze and spec.header:
        out.write(f'<pane ySplit="{len(spec.header)}" topLeftCell="A{len(spec.header) + 1}" activePane="bottomLeft" '
                  'state="frozen"/><selection pane="bottomLeft"/>')
    out.write('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if spec.widths:
        out.write("<cols>" + "".join(f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
                                     for index, width in enumerate(spec.widths, start=1)) + "</cols>")
    out.write("<sheetData>")
    letters: list[str] = []
    hyperlinks: list[str] = []
    bold = styles.index(font=1)
    count = widest = 0
    for line, values in enumerate(spec.header):
        count += 1
        right_to_left = line in spec.right_to_left_header_lines
        style = styles.index(font=1, right_to_left=True) if right_to_left else bold
        while len(letters) < len(values):
            letters.append(column_letters(len(letters) + 1))
        out.write(f'<row r="{count}">' + "".join(_cell(f"{letters[index]}{count}", value, style, styles, font=1,
                                                       right_to_left=right_to_left)
                                                for index, value in enumerate(values)) + "</row>")
        widest = max(widest, len(values))
    for values in spec.rows:
        count += 1
        while len(letters) < len(values):
            letters.append(column_letters(len(letters) + 1))
        cells = []
        for index, value in enumerate(values):
            reference = f"{letters[index]}{count}"
            if not isinstance(value, Cell):
                cells.append(_cell(reference, value, 0, styles))
                continue
            font = 2 if value.link else 1 if value.bold else 0
            style = styles.index(font, value.fill, value.right_to_left)
            cells.append(_cell(reference, value.value, style, styles, font, value.fill, value.right_to_left))
            if value.link and len(links) < MAX_LINKS_PER_SHEET:
                links.append(value.link)
                hyperlinks.append(f'<hyperlink ref="{reference}" r:id="rId{len(links)}"/>')
        out.write(f'<row r="{count}">' + "".join(cells) + "</row>")
        widest = max(widest, len(values))
    out.write("</sheetData>")
    ref = None
    if spec.auto_filter and count and widest:
        ref = f"A{len(spec.header) or 1}:{column_letters(widest)}{count}"
        out.write(f'<autoFilter ref="{ref}"/>')
    if hyperlinks:
        out.write("<hyperlinks>" + "".join(hyperlinks) + "</hyperlinks>")
    out.write("</worksheet>")
    out.flush()
    out.detach()
    return ref
