"""Read a provincial file into raw cell grids, whatever its format.

The format is told by the file's first bytes, not by its extension. Workbooks (xlsx, xlsm, xls,
ods) are read with python-calamine, which never runs macros; text files are decoded (UTF-8 with or
without BOM, else Windows-1256 for Arabic, else Windows-1252) and split with the separator they use.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 50 * 1024 * 1024


class UnreadableFile(Exception):
    """The file cannot be read at all; ``detail_fr``/``detail_ar`` say why, for the clerk."""

    def __init__(self, detail_fr: str, detail_ar: str):
        super().__init__(detail_fr)
        self.detail_fr = detail_fr
        self.detail_ar = detail_ar


@dataclass
class RawSheet:
    name: str
    rows: list[list[object]]  # rows[i] is Excel row i + 1


def sniff_format(head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "zip-workbook"  # xlsx, xlsm or ods
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole-workbook"  # xls (or an encrypted xlsx)
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        return "markup"
    if b"\x00" in head[:1024]:
        return "binary"
    return "text"


def read_file(path: Path) -> list[RawSheet]:
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile("le fichier est vide.", "الملف فارغ.")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(
            f"le fichier dépasse la taille maximale ({MAX_FILE_BYTES // (1024 * 1024)} Mo).",
            f"الملف يتجاوز الحجم الأقصى ({MAX_FILE_BYTES // (1024 * 1024)} ميغابايت).",
        )
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = sniff_format(head)
    if kind in ("zip-workbook", "ole-workbook"):
        return read_workbook(path)
    if kind == "text":
        return [read_text_table(path.read_bytes(), path.stem)]
    raise UnreadableFile(
        "ce n'est pas un tableur (xlsx, xls, ods ou csv).",
        "هذا الملف ليس جدولا (xlsx أو xls أو ods أو csv).",
    )


def read_workbook(path: Path) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = []
        for meta in workbook.sheets_metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet":
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            sheets.append(RawSheet(meta.name, sheet.to_python(skip_empty_area=False)))
        return sheets
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt/encrypted files
        message = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise UnreadableFile(
            f"le classeur est endommagé, protégé par un mot de passe ou incomplet ({message}).",
            f"المصنف تالف أو محمي بكلمة مرور أو غير مكتمل ({message}).",
        ) from exc


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Arabic letters in Windows-1256 sit in 0xC1-0xEA, where Windows-1252 has accented Latin
    # letters; a file that decodes with many Arabic letters is taken as Arabic.
    arabic = data.decode("cp1256", errors="replace")
    arabic_letters = sum("\u0600" <= ch <= "\u06ff" for ch in arabic)
    if arabic_letters > len(data) // 50:
        return arabic
    return data.decode("cp1252", errors="replace")


def read_text_table(data: bytes, name: str) -> RawSheet:
    text = decode_text(data)
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        delimiter = max(";,\t", key=sample.count)
    rows = [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    return RawSheet(name, [[cell if cell != "" else None for cell in row] for row in rows])
