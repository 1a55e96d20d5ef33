"""Read a provincial file into raw cell grids, whatever its format.

The format is told by the file's content, never by its extension: a zip holding
``[Content_Types].xml`` is an Excel 2007+ workbook (xlsx, xlsm, xlsb), a zip whose ``mimetype`` is
OpenDocument is an ods, an OLE container holding a ``Workbook`` stream is an xls (and one holding
``EncryptionInfo`` is a password-protected workbook), anything else that decodes as text is a
CSV/TXT table. Workbooks are read with python-calamine, which never runs macros.

Before a workbook is handed to calamine, the zip directory is checked (uncompressed sizes and
ratios) so that an honest decompression bomb is refused without being inflated; then every part is
inflated once in blocks, counting what really comes out (headers can lie) and checking CRCs, which
also finds the hidden rows calamine does not report. Each sheet's dimensions are checked against
the row limit before its cells become Python objects; hidden sheets are listed, not read.

Every refusal is an :class:`UnreadableFile` with a rule id from ``reference/rules.csv``, so the
clerk gets one clear reason in French and Arabic. Limits come from the settings
(``IGA_MAX_FILE_MB``, ``IGA_MAX_ROWS``, ``IGA_MAX_UNCOMPRESSED_MB``).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import settings
from etl.errors import EXIT_REFUSED, IgaError

# A deflated sheet of real data shrinks 5-30 times; deflate cannot do better than ~1030:1, which is
# what bombs use. Entries above this ratio (and above a few MB) are refused without inflating them.
MAX_ZIP_RATIO = 200
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


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_rows: int
    max_uncompressed_bytes: int

    @classmethod
    def from_settings(cls) -> "Limits":
        current = settings()
        return cls(
            max_file_bytes=current.max_file_mb * 1024 * 1024,
            max_rows=current.max_rows,
            max_uncompressed_bytes=current.max_uncompressed_mb * 1024 * 1024,
        )


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
        hidden_rows = inflate_checked(data, limits)
        return read_workbook(data, file_format, limits, hidden_rows)
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
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
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
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise UnreadableFile("archive zip endommagée", "أرشيف zip تالف", "FILE_CORRUPT") from exc
    if any(name.startswith("word/") for name in names):
        what = ("un document Word", "وثيقة Word")
    elif any(name.startswith("ppt/") for name in names):
        what = ("une présentation PowerPoint", "عرض PowerPoint")
    else:
        what = ("une archive zip", "أرشيف zip")
    raise UnreadableFile(*what, "FILE_NOT_SPREADSHEET", what_fr=what[0], what_ar=what[1])


def read_ole_kind(data: bytes) -> str:
    """xls, or a refusal: an OLE container is also how Office stores encrypted xlsx and Word files.

    The stream names sit, in UTF-16, in the container's directory; looking for them is enough
    to tell the cases apart without parsing the whole compound file.
    """
    if _utf16("EncryptionInfo") in data or _utf16("EncryptedPackage") in data:
        raise UnreadableFile("protégé par un mot de passe", "محمي بكلمة مرور", "FILE_ENCRYPTED")
    if _utf16("Workbook") in data or _utf16("Book") in data:
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
            total_rows += (end[0] + 1) if end else 0
            if total_rows > limits.max_rows:
                raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                     max_rows=limits.max_rows)
            rows = sheet.to_python(skip_empty_area=False)
            sheets.append(RawSheet(meta.name, rows, file_format=file_format,
                                   merged=list(sheet.merged_cell_ranges or [])))
        if not any(cell not in (None, "") for raw in sheets for row in raw.rows for cell in row) and not any(
                raw.hidden for raw in sheets):
            raise UnreadableFile("le classeur ne contient aucune cellule remplie.", "المصنف لا يحتوي على أي خانة مملوءة.",
                                 "FILE_EMPTY")
        for raw in sheets:
            raw.hidden_rows = (hidden_rows or {}).get(raw.name, set())
        return sheets
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt/encrypted files
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if "password" in message.lower() or "encrypt" in message.lower():
            raise UnreadableFile("protégé par un mot de passe", "محمي بكلمة مرور", "FILE_ENCRYPTED") from exc
        raise UnreadableFile(message, message, "FILE_CORRUPT") from exc


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """xlsx part name -> sheet name (from the workbook and its relationships); {} if not followed."""
    from xml.etree import ElementTree

    try:
        relationships = {rel.get("Id"): rel.get("Target") for rel in
                         ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (KeyError, ElementTree.ParseError):
        return {}
    parts = {}
    for sheet in workbook.iter():
        if sheet.tag.endswith("}sheet"):
            target = relationships.get(sheet.get(_RELATIONSHIPS_NS + "id")) or ""
            parts[target.lstrip("/") if target.startswith("/") else "xl/" + target] = sheet.get("name")
    return parts


def inflate_checked(data: bytes, limits: Limits) -> dict[str, set[int]]:
    """Inflate every part of a zip workbook once, in blocks, before calamine sees it.

    The sizes a zip declares can lie: this counts what really comes out and stops past
    ``IGA_MAX_UNCOMPRESSED_MB`` (a decompression bomb), and each part's CRC is checked at its end
    (a corrupt or forged file). On the way it notes the rows hidden in each xlsx sheet, which
    calamine does not report: sheet name -> Excel rows with ``hidden="1"``.
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    parts = _sheet_parts(archive)
    hidden: dict[str, set[int]] = {}
    total = 0
    try:
        for entry in archive.infolist():
            sheet = parts.get(entry.filename)
            rows: set[int] = set()
            tail = b""
            with archive.open(entry) as stream:
                for block in iter(lambda: stream.read(1 << 22), b""):
                    total += len(block)
                    if total > limits.max_uncompressed_bytes:
                        raise UnreadableFile("bombe de décompression", "قنبلة فك الضغط", "FILE_ZIP_BOMB",
                                             size_mb=total // (1024 * 1024),
                                             max_mb=limits.max_uncompressed_bytes // (1024 * 1024))
                    if sheet is None:
                        continue
                    chunk = tail + block
                    cut = chunk.rfind(b"<")
                    chunk, tail = chunk[:cut], chunk[cut:]
                    if b"hidden" in chunk:
                        for tag in _ROW_TAG.findall(chunk):
                            number = _ROW_NUMBER.search(tag)
                            if number and _HIDDEN.search(tag):
                                rows.add(int(number.group(1)))
            if rows:
                hidden[sheet] = rows
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise UnreadableFile(str(exc)[:200], str(exc)[:200], "FILE_CORRUPT") from exc
    return hidden


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


def read_text_table(data: bytes, name: str, limits: Limits | None = None) -> RawSheet:
    limits = limits or Limits.from_settings()
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("un fichier binaire inconnu", "ملف ثنائي غير معروف", "FILE_NOT_SPREADSHEET",
                             what_fr="un fichier binaire inconnu", what_ar="ملف ثنائي غير معروف")
    if not text.strip(" \t\r\n;,|\ufeff"):  # nothing but separators: an empty export
        raise UnreadableFile("le fichier est vide.", "الملف فارغ.", "FILE_EMPTY")
    delimiter = choose_delimiter(text)
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([cell if cell.strip() != "" else None for cell in row])
            if len(rows) > limits.max_rows:
                raise UnreadableFile("trop de lignes", "عدد كبير جدا من الأسطر", "FILE_TOO_MANY_ROWS",
                                     max_rows=limits.max_rows)
    except csv.Error as exc:
        raise UnreadableFile(str(exc), str(exc), "FILE_CORRUPT") from exc
    return RawSheet(name, rows, file_format="csv")
