"""Read a provincial file into raw cell grids, whatever its format.

The format is told by the file's content, never by its extension: a zip holding
``[Content_Types].xml`` is an Excel 2007+ workbook (xlsx, xlsm, xlsb), a zip whose ``mimetype`` is
OpenDocument is an ods, an OLE container holding a ``Workbook`` stream is an xls (and one holding
``EncryptionInfo`` is a password-protected workbook), anything else that decodes as text is a
CSV/TXT table. Workbooks are read with python-calamine, which never runs macros.

Before a workbook is handed to calamine, the zip directory is checked (uncompressed sizes and
ratios) so that an honest decompression bomb is refused without being inflated; then every part is
inflated once in blocks, counting what really comes out (headers can lie) and checking CRCs, which
also finds the hidden rows calamine does not report and measures each sheet's extent (the farthest
row and column any cell names: calamine allocates that whole grid, so two cells at A1 and
XFD1048576 would ask for 550 GB). ODS repetitions (``number-rows-repeated``) are counted as the
cells they stand for. Every sheet's dimensions go through :func:`check_sheet_dimensions` before
calamine or any other reader materialises a cell; hidden sheets are listed, not read.

Whatever the bytes, a reader ends in sheets or in an :class:`UnreadableFile`: the errors of zipfile
and zlib, calamine's own errors and its native panics (``pyo3_runtime.PanicException``, a
``BaseException``) are caught by type. A value calamine cannot convert (a date serial out of range)
costs its row, reported as ``E_ROW_UNREADABLE``, not the file. What no check foresees (a native
reader allocating without bound on a damaged .xls) is stopped by the child-process wall of
:mod:`etl.isolate`.

Every refusal is an :class:`UnreadableFile` with a rule id from ``reference/rules.csv``, so the
clerk gets one clear reason in French and Arabic. Limits come from the settings
(``IGA_MAX_FILE_MB``, ``IGA_MAX_ROWS``, ``IGA_MAX_CELLS``, ``IGA_MAX_UNCOMPRESSED_MB``).
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import DEFAULT_MAX_CELLS, settings
from etl.errors import EXIT_REFUSED, IgaError

# Everything zipfile and zlib raise on a damaged, forged or unsupported member.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
              NotImplementedError, RuntimeError, KeyError, struct.error, UnicodeDecodeError)

# A deflated sheet of real data shrinks 5-30 times; deflate cannot do better than ~1030:1, which is
# what bombs use. Entries above this ratio (and above a few MB) are refused without inflating them.
MAX_ZIP_RATIO = 200
MAX_CELL_CHARS = 32_767  # what an Excel cell holds; a longer CSV field is cut and reported on its cell
RATIO_CHECK_FROM_BYTES = 8 * 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


class UnreadableFile(IgaError):
    """The file cannot be read at all.

    ``rule_id`` names the reason in the rule catalogue; ``params`` fill its message;
    ``detail_fr``/``detail_ar`` add a technical detail for the generic ``FILE_UNREADABLE``.
    """

    def __init__(self, detail_fr: str, detail_ar: str, rule_id: str = "FILE_UNREADABLE", **params):
        super().__init__(detail_fr)
        self.detail_fr = detail_fr
        self.detail_ar = detail_ar
        self.rule_id = rule_id
        self.params = params

    exit_code = EXIT_REFUSED


@dataclass
class RawSheet:
    name: str
    rows: list[list[object]]  # rows[i] is Excel row i + 1 (empty cells are None or "")
    hidden: bool = False  # a hidden sheet is listed but its cells are not read
    file_format: str = ""  # xlsx, xls, ods, csv, ... as told by the content
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)  # Excel rows hidden in the sheet (xlsx only)
    unreadable_rows: dict[int, str] = field(default_factory=dict)  # Excel row -> why it could not be read
    long_cells: dict[tuple[int, int], int] = field(default_factory=dict)  # (Excel row, index) -> length


def is_native_panic(exc: BaseException) -> bool:
    """A Rust panic surfaced by pyo3 (``pyo3_runtime.PanicException``): a ``BaseException`` that the
    module does not export, so it is recognised by its exact type name, never by a bare except."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc).strip() else ""
    return text or type(exc).__name__


def corrupt(exc: BaseException, fr: str = "", ar: str = "") -> UnreadableFile:
    """FILE_CORRUPT with the library's one-line reason as the detail."""
    detail = _short(exc)
    return UnreadableFile(f"{fr}{detail}", f"{ar}{detail}", "FILE_CORRUPT")


@dataclass
class SheetExtent:
    """How far a sheet reaches: the last row and column a cell names (1-based), counted from A1."""
    rows: int = 0
    columns: int = 0


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_rows: int
    max_uncompressed_bytes: int
    max_cells: int = DEFAULT_MAX_CELLS

    @classmethod
    def from_settings(cls) -> "Limits":
        current = settings()
        return cls(
            max_file_bytes=current.max_file_mb * 1024 * 1024,
            max_rows=current.max_rows,
            max_uncompressed_bytes=current.max_uncompressed_mb * 1024 * 1024,
            max_cells=current.max_cells,
        )


def column_letters(index: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA, 16384 -> XFD."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: bytes | str) -> int:
    number = 0
    for ch in letters.decode("ascii") if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(ch.upper()) - 64
    return number


def check_sheet_dimensions(rows: int, columns: int, limits: Limits, sheet: str = "") -> None:
    """Refuse a sheet whose grid (rows x columns from A1) is beyond the limits, before any reader
    materialises it. Any reader (calamine here, an Arrow reader elsewhere) calls this first."""
    if rows > limits.max_rows:
        raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                             max_rows=limits.max_rows)
    if rows * columns > limits.max_cells:
        far = f"{column_letters(columns)}{rows}"
        raise UnreadableFile(f"feuille trop étendue ({far})", f"ورقة ممتدة جدا ({far})", "FILE_SHEET_TOO_LARGE",
                             sheet=sheet, rows=rows, columns=columns, cells=rows * columns,
                             max_cells=limits.max_cells, far_cell=far)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sniff_format(head: bytes) -> str:
    """A first guess from the first bytes: zip-workbook, ole-workbook, markup, pdf, binary or text."""
    if head.startswith(ZIP_MAGIC):
        return "zip-workbook"  # xlsx, xlsm, xlsb or ods: told apart by read_zip_kind
    if head.startswith(OLE_MAGIC):
        return "ole-workbook"  # xls, or an encrypted xlsx: told apart by read_ole_kind
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 with a BOM: Excel's "Unicode text" export
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body")):
        return "markup"
    if lowered.startswith(b"<?xml") or lowered.startswith(b"<"):
        return "markup"
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


def read_file(path: Path, limits: Limits | None = None) -> list[RawSheet]:
    limits = limits or Limits.from_settings()
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("le fichier est vide.", "الملف فارغ.", "FILE_EMPTY")
    if size > limits.max_file_bytes:
        raise UnreadableFile("fichier trop volumineux", "ملف كبير جدا", "FILE_TOO_LARGE",
                             size_mb=f"{size / 1024 / 1024:.1f}",
                             max_mb=limits.max_file_bytes // (1024 * 1024))
    data = path.read_bytes()
    kind = sniff_format(data[:4096])
    if kind == "zip-workbook":
        file_format = read_zip_kind(data, limits)
        scan = inflate_checked(data, limits, file_format)
        for sheet, extent in scan.extents.items():
            check_sheet_dimensions(extent.rows, extent.columns, limits, sheet)
        try:
            return read_workbook(data, file_format, limits, scan.hidden_rows)
        except UnreadableFile as refusal:
            # calamine refuses a whole sheet for one number or date cell it cannot parse: such
            # cells are read again as the text they hold, so they become findings on their cells.
            repaired = unparsed_cells_as_text(data) if file_format == "xlsx" and refusal.rule_id == "FILE_CORRUPT" \
                else None
            if repaired is None:
                raise
            return read_workbook(repaired, file_format, limits, scan.hidden_rows)
    if kind == "ole-workbook":
        return read_workbook(data, read_ole_kind(data), limits)
    if kind == "text":
        return [read_text_table(data, path.stem, limits)]
    if kind == "markup":
        lowered = data[:4096].lower()
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:65536].lower():
            what = ("un classeur « XML 2003 »", "مصنف بصيغة XML 2003")
        elif b"<?xml" in lowered and b"<html" not in lowered:
            what = ("un document XML", "وثيقة XML")
        else:
            what = ("une page web (HTML)", "صفحة ويب (HTML)")
        raise UnreadableFile(*what, "FILE_NOT_SPREADSHEET", what_fr=what[0], what_ar=what[1])
    what = ("un document PDF", "وثيقة PDF") if kind == "pdf" else ("un fichier binaire inconnu", "ملف ثنائي غير معروف")
    raise UnreadableFile(*what, "FILE_NOT_SPREADSHEET", what_fr=what[0], what_ar=what[1])


def read_zip_kind(data: bytes, limits: Limits) -> str:
    """xlsx (also xlsm, xlsb) or ods, from the zip directory; refuses bombs and non-workbooks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except ZIP_ERRORS as exc:
        raise UnreadableFile("archive zip incomplète ou endommagée", "أرشيف zip غير مكتمل أو تالف",
                             "FILE_CORRUPT") from exc
    names = {entry.filename for entry in entries}
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_bytes or any(
            entry.file_size > RATIO_CHECK_FROM_BYTES
            and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1) for entry in entries):
        raise UnreadableFile("bombe de décompression", "قنبلة فك الضغط", "FILE_ZIP_BOMB",
                             size_mb=total // (1024 * 1024),
                             max_mb=limits.max_uncompressed_bytes // (1024 * 1024))
    if "[Content_Types].xml" in names and ("xl/workbook.xml" in names or "xl/workbook.bin" in names):
        return "xlsx"
    if "mimetype" in names:
        try:
            if archive.read("mimetype").strip() == ODS_MIMETYPE:
                return "ods"
        except ZIP_ERRORS as exc:
            raise corrupt(exc, "archive zip endommagée : ", "أرشيف zip تالف: ") from exc
    if any(name.startswith("word/") for name in names):
        what = ("un document Word", "وثيقة Word")
    elif any(name.startswith("ppt/") for name in names):
        what = ("une présentation PowerPoint", "عرض PowerPoint")
    else:
        what = ("une archive zip", "أرشيف zip")
    raise UnreadableFile(*what, "FILE_NOT_SPREADSHEET", what_fr=what[0], what_ar=what[1])


def check_ole_structure(data: bytes) -> None:
    """The compound file's header against its size, before calamine follows its pointers.

    A container is whole sectors after its 512-byte header, and its allocation table covers them;
    bytes inserted or cut (a damaged transfer) shift every sector, and calamine then reads lengths
    from the wrong places and may ask for gigabytes. Cheap, and it leaves the child wall
    (:mod:`etl.isolate`) only the damage no header shows."""
    def damaged(why_fr: str, why_ar: str) -> UnreadableFile:
        return UnreadableFile(f"conteneur OLE endommagé ({why_fr})", f"حاوية OLE تالفة ({why_ar})", "FILE_CORRUPT")

    if len(data) < 1024:
        raise damaged("trop court", "قصيرة جدا")
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise damaged("en-tête illisible", "رأس غير مقروء")
    size = 1 << sector_shift
    body = len(data) - 512 if sector_shift == 9 else len(data) - size
    if body <= 0 or body % size:
        raise damaged("taille qui n'est pas un nombre entier de secteurs", "حجم لا يساوي عددا صحيحا من القطاعات")
    sectors = body // size
    fat_sectors, directory = struct.unpack_from("<II", data, 0x2C)
    if fat_sectors == 0 or fat_sectors > sectors or fat_sectors * (size // 4) < sectors or directory >= sectors:
        raise damaged("table d'allocation incohérente", "جدول تخصيص غير متسق")
    listed = struct.unpack_from("<109I", data, 0x4C)[:min(fat_sectors, 109)]
    if any(sector >= sectors for sector in listed):
        raise damaged("table d'allocation incohérente", "جدول تخصيص غير متسق")


def read_ole_kind(data: bytes) -> str:
    """xls, or a refusal: an OLE container is also how Office stores encrypted xlsx and Word files.

    The stream names sit, in UTF-16, in the container's directory; looking for them is enough
    to tell the cases apart without parsing the whole compound file.
    """
    if _utf16("EncryptionInfo") in data or _utf16("EncryptedPackage") in data:
        raise UnreadableFile("protégé par un mot de passe", "محمي بكلمة مرور", "FILE_ENCRYPTED")
    if _utf16("Workbook") in data or _utf16("Book") in data:
        check_ole_structure(data)
        return "xls"
    if _utf16("WordDocument") in data:
        what = ("un document Word", "وثيقة Word")
    else:
        what = ("un fichier Office qui n'est pas un classeur", "ملف Office ليس مصنفا")
    raise UnreadableFile(*what, "FILE_NOT_SPREADSHEET", what_fr=what[0], what_ar=what[1])


def read_workbook(data: bytes, file_format: str, limits: Limits | None = None,
                  hidden_rows: dict[str, set[int]] | None = None) -> list[RawSheet]:
    """Every worksheet's cells (hidden sheets are listed, not read), from the bytes in memory."""
    from python_calamine import CalamineWorkbook

    limits = limits or Limits.from_settings()
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))  # by content, not by extension
        sheets = []
        total_rows = 0
        for meta in workbook.sheets_metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet":
                continue
            if str(meta.visible) != "SheetVisibleEnum.Visible":
                sheets.append(RawSheet(meta.name, [], hidden=True, file_format=file_format))
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            end = sheet.end
            rows, columns = ((end[0] + 1), (end[1] + 1)) if end else (0, 0)
            check_sheet_dimensions(rows, columns, limits, meta.name)  # the grid to_python builds
            total_rows += rows
            if total_rows > limits.max_rows:
                raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                     max_rows=limits.max_rows)
            raw = RawSheet(meta.name, [], file_format=file_format, merged=list(sheet.merged_cell_ranges or []))
            try:
                raw.rows = sheet.to_python(skip_empty_area=False)
            except BaseException as exc:  # noqa: B036 - narrowed just below
                if not (is_native_panic(exc) or isinstance(exc, (ValueError, OverflowError, TypeError))):
                    raise
                raw.rows, raw.unreadable_rows = _rows_one_by_one(sheet)
            sheets.append(raw)
        if not any(cell not in (None, "") for raw in sheets for row in raw.rows for cell in row) and not any(
                raw.hidden or raw.unreadable_rows for raw in sheets):
            raise UnreadableFile("le classeur ne contient aucune cellule remplie.", "المصنف لا يحتوي على أي خانة مملوءة.",
                                 "FILE_EMPTY")
        for raw in sheets:
            raw.hidden_rows = (hidden_rows or {}).get(raw.name, set())
        return sheets
    except UnreadableFile:
        raise
    except BaseException as exc:  # noqa: B036 - calamine's errors, and its panics, by type below
        if not (isinstance(exc, Exception) or is_native_panic(exc)):
            raise  # KeyboardInterrupt, SystemExit, MemoryError stay what they are
        if isinstance(exc, MemoryError):
            raise
        message = _short(exc)
        if "password" in message.lower() or "encrypt" in message.lower():
            raise UnreadableFile("protégé par un mot de passe", "محمي بكلمة مرور", "FILE_ENCRYPTED") from exc
        raise UnreadableFile(message, message, "FILE_CORRUPT") from exc


def _rows_one_by_one(sheet) -> tuple[list[list[object]], dict[int, str]]:
    """The sheet row by row, when a value of it cannot be converted as a whole (calamine panics on
    a date-formatted number far out of range): each row that fails is left empty and noted
    (Excel row -> reason), so it costs that row, never the file."""
    rows: list[list[object]] = []
    unreadable: dict[int, str] = {}
    pad = [""] * (sheet.start or (0, 0))[1]  # iter_rows starts at row 1 but at the first used column
    iterator = iter(sheet.iter_rows())
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            break
        except BaseException as exc:  # noqa: B036 - narrowed just below
            if not (is_native_panic(exc) or isinstance(exc, (ValueError, OverflowError, TypeError))):
                raise
            unreadable[len(rows) + 1] = _short(exc)
            row = []
        rows.append(pad + row if pad and row else row)
    return rows, unreadable


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
# Cheap bounds of an xlsx sheet's extent, found with C-speed searches: rows from the row tags, and
# the rare references that reach far (a column past Z, a row of six digits or more).
_ROW_R = re.compile(rb'row r="(\d+)"')
_FAR_COLUMN = re.compile(rb' r="([A-Z]{2,})\d')
_FAR_ROW = re.compile(rb' r="[A-Z]{1,3}(\d{6,})"')
# The exact walk, for sheets whose cells do not all carry a reference or whose bound is too large.
_XLSX_TOKEN = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")
_REF = re.compile(rb'\br="([A-Za-z]{0,4})(\d*)"')


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """xlsx part name -> sheet name (from the workbook and its relationships); {} if not followed."""
    from xml.etree import ElementTree

    try:
        relationships = {rel.get("Id"): rel.get("Target") for rel in
                         ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except KeyError:
        return {}
    except ElementTree.ParseError as exc:
        raise corrupt(exc, "structure du classeur illisible : ", "بنية المصنف غير مقروءة: ") from exc
    except ZIP_ERRORS as exc:
        raise corrupt(exc) from exc
    parts = {}
    for sheet in workbook.iter():
        if isinstance(sheet.tag, str) and sheet.tag.endswith("}sheet"):
            target = relationships.get(sheet.get(_RELATIONSHIPS_NS + "id")) or ""
            parts[target.lstrip("/") if target.startswith("/") else "xl/" + target] = sheet.get("name") or ""
    return parts


class _XlsxExtent:
    """The extent of one xlsx sheet part, fed block by block (each block ends before a tag)."""

    def __init__(self) -> None:
        self.rows = self.far_rows = 0
        self.columns = 0
        self.cells = self.references = 0

    def feed(self, chunk: bytes) -> None:
        for match in _ROW_R.finditer(chunk):
            self.rows = max(self.rows, int(match.group(1)))
        for match in _FAR_ROW.finditer(chunk):
            self.far_rows = max(self.far_rows, int(match.group(1)))
        for match in _FAR_COLUMN.finditer(chunk):
            self.columns = max(self.columns, column_number(match.group(1)[:4]))
        self.cells += chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b":c ") + chunk.count(b":c>")
        self.cells += chunk.count(b"<row ") + chunk.count(b"<row>") + chunk.count(b":row ")
        self.references += chunk.count(b' r="')

    def bound(self) -> tuple[int, int, bool]:
        """(rows, columns, exact): a cheap upper bound, or exact=False when only a walk can tell."""
        if self.references < self.cells:  # some row or cell has no reference: its place is counted
            return 0, 0, False
        rows = max(self.rows, self.far_rows, 99_999 if self.columns > 26 else 0)
        return rows, max(self.columns, 26 if self.cells else 0), True


def _walk_xlsx_extent(stream) -> SheetExtent:
    """The exact extent of an xlsx sheet part, as calamine places cells (a reference, else the next
    place), read block by block."""
    extent = SheetExtent()
    row = column = 0
    tail = b""
    for block in iter(lambda: stream.read(1 << 22), b""):
        chunk = tail + block
        cut = chunk.rfind(b"<")
        chunk, tail = (chunk[:cut], chunk[cut:]) if cut >= 0 else (b"", chunk)
        for match in _XLSX_TOKEN.finditer(chunk):
            ref = _REF.search(match.group(2))
            if match.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                column = 0
                extent.rows = max(extent.rows, row)
                continue
            if ref and ref.group(1):
                column = column_number(ref.group(1))
                if ref.group(2):
                    extent.rows = max(extent.rows, int(ref.group(2)))
            else:
                column += 1
            extent.columns = max(extent.columns, column)
            if extent.rows > 1 << 40 or extent.columns > 1 << 20:
                break
    return extent


_ODS_TOKEN = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)\b([^>]*?)(/?)>")
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_VALUE = re.compile(rb"office:value-type=")
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')


def ods_extents(content: bytes) -> list[tuple[str, SheetExtent]]:
    """Each table's extent in an ODS ``content.xml``, repetitions counted as the cells they stand
    for (``number-rows-repeated`` amplifies without compression: zip ratios do not see it). Empty
    repeated rows and columns after the last filled cell, as LibreOffice writes them, do not count."""
    extents: list[tuple[str, SheetExtent]] = []
    extent = SheetExtent()
    name = ""
    row = 0
    repeat = 1
    column = 0
    filled_to = 0  # the column of the last filled cell in the current row
    for match in _ODS_TOKEN.finditer(content):
        closing, tag, attributes, self_closing = match.groups()
        if tag == b"table":
            if closing:
                extents.append((name, extent))
            else:
                extent, row = SheetExtent(), 0
                named = _ODS_NAME.search(attributes)
                name = html.unescape(named.group(1).decode("utf-8", "replace")) if named else ""
            continue
        if tag == b"table-row":
            if closing:
                if filled_to:
                    extent.rows = row + repeat
                    extent.columns = max(extent.columns, filled_to)
                row += repeat
                continue
            repeated = _ODS_ROWS_REPEATED.search(attributes)
            repeat = int(repeated.group(1)) if repeated else 1
            column = filled_to = 0
            if self_closing:
                row += repeat
            continue
        if closing:
            continue
        repeated = _ODS_COLUMNS_REPEATED.search(attributes)
        column += int(repeated.group(1)) if repeated else 1
        if not self_closing or _ODS_VALUE.search(attributes):
            filled_to = column
    return extents


@dataclass
class ZipScan:
    """What inflating a zip workbook once found: the hidden rows and the extent of each sheet, and
    each xlsx sheet's merged ranges (as calamine gives them, 0-based) for the column reader."""
    hidden_rows: dict[str, set[int]] = field(default_factory=dict)
    extents: dict[str, SheetExtent] = field(default_factory=dict)
    merged: dict[str, list] = field(default_factory=dict)


def inflate_checked(data: bytes, limits: Limits, file_format: str = "xlsx", merged_ranges: bool = False) -> ZipScan:
    """Inflate every part of a zip workbook once, in blocks, before calamine sees it.

    The sizes a zip declares can lie: this counts what really comes out and stops past
    ``IGA_MAX_UNCOMPRESSED_MB`` (a decompression bomb), and each part's CRC is checked at its end
    (a corrupt or forged file). On the way it notes the rows hidden in each xlsx sheet, which
    calamine does not report (sheet name -> Excel rows with ``hidden="1"``), and how far each
    sheet reaches, so that :func:`check_sheet_dimensions` can refuse a grid before it is built.
    With ``merged_ranges`` (the column reader), each xlsx sheet's merged ranges too.
    """
    scan = ZipScan()
    total = 0
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = _sheet_parts(archive) if file_format == "xlsx" else {}
        for entry in archive.infolist():
            sheet = parts.get(entry.filename)
            ods_content = file_format == "ods" and entry.filename == "content.xml"
            rows: set[int] = set()
            merged: list[tuple] = []
            extent = _XlsxExtent()
            kept: list[bytes] = []
            tail = b""
            with archive.open(entry) as stream:
                for block in iter(lambda: stream.read(1 << 22), b""):
                    total += len(block)
                    if total > limits.max_uncompressed_bytes:
                        raise UnreadableFile("bombe de décompression", "قنبلة فك الضغط", "FILE_ZIP_BOMB",
                                             size_mb=total // (1024 * 1024),
                                             max_mb=limits.max_uncompressed_bytes // (1024 * 1024))
                    if ods_content:
                        kept.append(block)
                    if sheet is None:
                        continue
                    chunk = tail + block
                    cut = chunk.rfind(b"<")
                    chunk, tail = (chunk[:cut], chunk[cut:]) if cut >= 0 else (b"", chunk)
                    extent.feed(chunk)
                    if merged_ranges and b"mergeCell" in chunk:
                        merged.extend(_MERGE_REF.findall(chunk))
                    if b"hidden" in chunk:
                        for tag in _ROW_TAG.findall(chunk):
                            number = _ROW_NUMBER.search(tag)
                            if number and _HIDDEN.search(tag):
                                rows.add(int(number.group(1)))
            if sheet is not None:
                extent.feed(tail)
                if merged_ranges:
                    merged.extend(_MERGE_REF.findall(tail))
                    scan.merged[sheet] = [((int(r1) - 1, column_number(c1) - 1), (int(r2) - 1, column_number(c2) - 1))
                                          for c1, r1, c2, r2 in merged]
                rows_bound, columns_bound, exact = extent.bound()
                if not exact or rows_bound * columns_bound > limits.max_cells:
                    with archive.open(entry) as stream:  # only now worth the exact walk
                        scan.extents[sheet] = _walk_xlsx_extent(stream)
                else:
                    scan.extents[sheet] = SheetExtent(rows_bound, columns_bound)
            if rows:
                scan.hidden_rows[sheet] = rows
            if ods_content:
                for index, (name, ods_extent) in enumerate(ods_extents(b"".join(kept)), start=1):
                    scan.extents[name or f"#{index}"] = ods_extent
    except UnreadableFile:
        raise
    except ZIP_ERRORS as exc:
        raise corrupt(exc) from exc
    return scan


_XLSX_CELL = re.compile(rb"<((?:\w+:)?c)\b([^>]*)>(.*?)</\1>", re.S)
_CELL_TYPE = re.compile(rb'\st="([^"]*)"')
_CELL_VALUE = re.compile(rb"<((?:\w+:)?v)>([^<]*)</\1>")
_FLOAT_LITERAL = re.compile(rb"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")
_ISO_DATE = re.compile(rb"\s*\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?Z?\s*|\s*\d\d:\d\d(?::\d\d(?:\.\d+)?)?\s*")


def unparsed_cells_as_text(data: bytes) -> bytes | None:
    """The workbook with every number or date cell whose value does not parse (``1.2.3e``, a date
    in year 99999) turned into an inline text cell; None when there is none."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    changed = False

    def as_text(match: re.Match) -> bytes:
        nonlocal changed
        tag, attributes, body = match.groups()
        kind = _CELL_TYPE.search(attributes)
        kind = kind.group(1) if kind else b"n"
        value = _CELL_VALUE.search(body)
        if kind not in (b"n", b"d") or value is None:
            return match.group(0)
        if (_FLOAT_LITERAL if kind == b"n" else _ISO_DATE).fullmatch(value.group(2)):
            return match.group(0)
        changed = True
        attributes = _CELL_TYPE.sub(b"", attributes) + b' t="inlineStr"'
        return b"<" + tag + attributes + b"><is><t>" + value.group(2) + b"</t></is></" + tag + b">"

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for entry in archive.infolist():
            payload = archive.read(entry)
            if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                payload = _XLSX_CELL.sub(as_text, payload)
            rebuilt.writestr(entry.filename, payload)
    return out.getvalue() if changed else None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1256 (Arabic) or Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Windows-1256 keeps the French accented small letters (é è à ç ô ...) where Windows-1252 has
    # them, and puts Arabic letters where 1252 has capitals with accents. Arabic text decodes to
    # runs of Arabic letters; French capitals (É, Ç) decode to lone letters inside Latin words.
    arabic = data.decode("cp1256", errors="replace")
    in_words = lone = 0
    run = 0
    for ch in arabic + " ":
        if "\u0621" <= ch <= "\u064a":
            run += 1
            continue
        if run >= 2:
            in_words += run
        elif run == 1:
            lone += 1
        run = 0
    if in_words >= 3 and in_words > 2 * lone:
        return arabic
    return data.decode("cp1252", errors="replace")


def choose_delimiter(text: str) -> str:
    """The separator that splits the first lines into the most rows of one, repeated width."""
    sample_lines = text[:50_000]
    best, best_score = ";", (-1, -1)
    for delimiter in (";", "\t", ",", "|"):
        if delimiter not in sample_lines:
            continue
        try:
            rows = list(csv.reader(io.StringIO(sample_lines, newline=""), delimiter=delimiter))[:200]
        except csv.Error:
            continue
        widths: dict[int, int] = {}
        for row in rows:
            width = len(row)
            while width > 1 and not row[width - 1].strip():
                width -= 1
            if width > 1:
                widths[width] = widths.get(width, 0) + 1
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
        score = (count, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def check_text_cells(text: str, delimiter: str, limits: Limits, name: str) -> None:
    """Cells are at most separators + lines: 50 MB of ";" must not become 50 million cells (Python
    strings here, Arrow columns in etl.columns); refused before either reader splits a line."""
    lines = text.count("\n") + 1
    cells = text.count(delimiter) + lines
    if cells > limits.max_cells:
        check_sheet_dimensions(min(lines, limits.max_rows), -(-cells // lines), limits, name)


def read_text_table(data: bytes, name: str, limits: Limits | None = None) -> RawSheet:
    limits = limits or Limits.from_settings()
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("un fichier binaire inconnu", "ملف ثنائي غير معروف", "FILE_NOT_SPREADSHEET",
                             what_fr="un fichier binaire inconnu", what_ar="ملف ثنائي غير معروف")
    if not text.strip(" \t\r\n;,|\ufeff"):  # nothing but separators: an empty export
        raise UnreadableFile("le fichier est vide.", "الملف فارغ.", "FILE_EMPTY")
    delimiter = choose_delimiter(text)
    # One field may be the whole file (an unclosed quote): the file-size limit bounds it, and a
    # field longer than a cell is cut and reported on its cell, never a refusal of the file.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    check_text_cells(text, delimiter, limits, name)
    sheet = RawSheet(name, [], file_format="csv")
    rows = sheet.rows
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([cell if cell.strip() != "" else None for cell in row])
            if len(rows) > limits.max_rows:
                raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                     max_rows=limits.max_rows)
            if len(text) > MAX_CELL_CHARS and any(len(cell) > MAX_CELL_CHARS for cell in row):
                for index, cell in enumerate(row):
                    if len(cell) > MAX_CELL_CHARS:
                        sheet.long_cells[(len(rows), index)] = len(cell)
                        rows[-1][index] = cell[:MAX_CELL_CHARS]
    except csv.Error as exc:
        raise corrupt(exc) from exc
    return sheet
