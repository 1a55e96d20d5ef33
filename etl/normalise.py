"""From raw cell grids to canonical project rows: find the header, map it, read every value.

Every cell that cannot be read becomes a :class:`Finding` at its Excel row and column header.
Title blocks above the header, blank rows, section rows and totals rows are recognised and skipped.
"""
from __future__ import annotations

import functools
import gc
import re
from dataclasses import dataclass, field

from etl import reference, values
from etl.findings import Finding
from etl.read import RawSheet

CANONICAL_COLUMNS = (
    "province_code", "commune", "project_code", "title", "programme", "sector", "promoter_type",
    "promoter_name", "approval_year", "start_date", "status", "total_cost_mad",
    "indh_contribution_mad", "promoter_contribution_mad", "partner_contribution_mad",
    "beneficiaries", "women", "youth", "jobs_created",
)
AMOUNT_COLUMNS = ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                  "partner_contribution_mad")
REQUIRED_AMOUNTS = ("total_cost_mad", "indh_contribution_mad")
COUNT_COLUMNS = ("beneficiaries", "women", "youth", "jobs_created")
LABEL_COLUMNS = {"sector": "sector", "status": "status", "promoter_type": "promoter_type"}
# A file without these cannot be loaded; the names are what the clerk is told to add.
REQUIRED_COLUMNS = {
    "project_code": ("Code projet", "رمز المشروع"),
    "title": ("Intitulé du projet", "عنوان المشروع"),
    "total_cost_mad": ("Coût global (DH)", "الكلفة الإجمالية"),
    "indh_contribution_mad": ("Contribution INDH", "مساهمة المبادرة الوطنية للتنمية البشرية"),
}
HEADER_SEARCH_ROWS = 40
_UNITS = re.compile(r"\(.*?\)|\[.*?\]")
_UNIT_WORDS = re.compile(r"\b(en )?(dh|dhs|mad|dirhams?|درهم|بالدرهم)\b")
_TOTAL_WORDS = ("total", "sous total", "s total", "totaux", "total general", "ensemble", "cumul",
                "المجموع", "مجموع", "الاجمالي", "المجموع العام", "المجموع الاجمالي", "grand total")
_TOTAL_START = re.compile(r"(?i)[\s\W]*(to|so|s\W|en|cu|gr|ال|مج|ا|إ)")
# "Total province", "المجموع الفرعي": a totals word followed by more words (not "Totalement ...").
_TOTAL_PREFIXES = tuple(word + " " for word in _TOTAL_WORDS)


@dataclass
class ProjectSheet:
    """A sheet recognised as a project table, with its rows read into canonical values."""
    name: str
    header_row: int  # Excel row number of the header
    headers: dict[str, str]  # canonical column -> header as typed in the file
    rows: list[dict] = field(default_factory=list)  # canonical values + excel_row
    findings: list[Finding] = field(default_factory=list)
    skipped_rows: int = 0
    subtotal_from: int = 0  # index in rows of the first row after the last totals row
    columns: dict[int, str] = field(default_factory=dict)  # cell index -> canonical column

    def cells_as_read(self, row: dict) -> dict[str, object]:
        """A row's cells as the clerk typed them, by header (kept for a refused row)."""
        cells = row["cells"]
        return {self.headers[column]: cells[index] if index < len(cells) else None
                for index, column in self.columns.items()}


@functools.lru_cache(maxsize=8192)
def label_code(domain: str, label: str) -> str | None:
    """The code of a label as typed; cached because a sheet repeats a few dozen labels 100,000 times."""
    return reference.label_lookup(domain).get(reference.text_key(label))


@functools.lru_cache(maxsize=1024)
def programme_code(kind: str, approval_year: int | None) -> str | None:
    return reference.programme_code(kind, approval_year)


def header_key(cell: object) -> str:
    text = _UNITS.sub(" ", str(cell))
    key = reference.text_key(text)
    return _UNIT_WORDS.sub(" ", key).strip() if key not in reference.header_lookup() else key


def map_headers(row: list[object]) -> dict[int, str]:
    """Column index -> canonical column, for the cells of one row that are known headers."""
    lookup = reference.header_lookup()
    mapped: dict[int, str] = {}
    for index, cell in enumerate(row):
        if cell in (None, ""):
            continue
        column = lookup.get(reference.text_key(cell)) or lookup.get(header_key(cell))
        if column and column not in mapped.values():
            mapped[index] = column
    return mapped


def _parent_labels(parent: list[object], child: list[object],
                   merged: list[tuple[tuple[int, int], tuple[int, int]]], row_index: int) -> list[object]:
    """The upper header line as it applies to each column of the lower one.

    A group title ("Financement (DH)") is typed once above the columns it covers: over its merged
    range when the format keeps merges (xlsx, xls), else until the next title of the upper line.
    """
    width = max(len(parent), len(child))
    labels: list[object] = [parent[i] if i < len(parent) else None for i in range(width)]
    if merged:
        for (top, left), (bottom, right) in merged:
            if top <= row_index <= bottom and left < len(parent):
                for column in range(left + 1, min(right + 1, width)):
                    labels[column] = parent[left]
        return labels
    current: object = None
    for column in range(width):
        cell = parent[column] if column < len(parent) else None
        if cell not in (None, ""):
            current = cell
        elif current is not None and column < len(child) and child[column] not in (None, ""):
            labels[column] = current
        else:
            current = None
    return labels


def map_two_line_headers(parent: list[object], child: list[object],
                         merged: list[tuple[tuple[int, int], tuple[int, int]]] | None,
                         row_index: int) -> tuple[dict[int, str], dict[int, str]]:
    """Column -> canonical column for a header split over two lines, and the text it was read from."""
    lookup = reference.header_lookup()
    labels = _parent_labels(parent, child, merged or [], row_index)
    mapped: dict[int, str] = {}
    texts: dict[int, str] = {}
    for index in range(len(labels)):
        upper = labels[index]
        lower = child[index] if index < len(child) else None
        candidates = []
        if upper not in (None, "") and lower not in (None, ""):
            candidates.append(f"{str(upper).strip()} {str(lower).strip()}")
        candidates.extend(str(c).strip() for c in (lower, upper) if c not in (None, ""))
        for text in candidates:
            column = lookup.get(reference.text_key(text)) or lookup.get(header_key(text))
            if column and column not in mapped.values():
                mapped[index], texts[index] = column, text
                break
    return mapped, texts


def _may_be_header_line(cells: list[object]) -> bool:
    """A second header line holds labels only: a number, a date or an amount typed as text means it
    is the first project row, which must never be swallowed into the header."""
    filled = [c for c in cells if c not in (None, "")]
    return bool(filled) and all(isinstance(c, str) and values.parse_amount(c)[0] is None for c in filled)


def find_header(rows: list[list[object]], merged=None) -> tuple[int, dict[int, str]] | None:
    """The row (0-based) that maps most canonical columns, if it names a project code and an amount."""
    found = find_header_lines(rows, merged)
    return None if found is None else (found[0], found[1])


def find_header_lines(rows: list[list[object]], merged=None
                      ) -> tuple[int, dict[int, str], int, dict[int, str]] | None:
    """(first header row, mapping, number of header lines, header text per column), or None.

    The header is the row that maps most canonical columns and names a project code; when the
    header is split over two lines (a group title above its sub-columns), the two lines read
    together must map more columns than either line alone.
    """
    best = None
    window = rows[:HEADER_SEARCH_ROWS + 1]
    singles = [map_headers(row) for row in window]
    for index in range(min(len(window), HEADER_SEARCH_ROWS)):
        row = window[index]
        mapped = singles[index]
        candidate = (index, mapped, 1, {i: str(row[i]).strip() for i in mapped})
        if index + 1 < len(window) and _may_be_header_line(window[index + 1]):
            pair, texts = map_two_line_headers(row, window[index + 1], merged, index)
            if len(pair) > len(mapped) and len(pair) > len(singles[index + 1]):
                candidate = (index, pair, 2, texts)
        columns = candidate[1]
        if "project_code" in columns.values() and len(columns) >= 3:
            if best is None or len(columns) > len(best[1]):
                best = candidate
    return best


def _is_totals_row(cells: list[object]) -> bool:
    for cell in cells:
        # Folding every cell of every row is the slowest part of reading a big sheet; a cheap look
        # at its first letters leaves only the cells that may be a totals label to fold.
        if isinstance(cell, str) and _TOTAL_START.match(cell):
            key = reference.text_key(cell)
            if key in _TOTAL_WORDS or key.startswith(_TOTAL_PREFIXES):
                return True
    return False


def read_project_sheets(raw_sheets: list[RawSheet], province_code: str
                        ) -> tuple[list[ProjectSheet], list[Finding]]:
    """The project sheets of a file, and what the clerk is told about the other sheets.

    A workbook may hold a cover page, lists for drop-downs, a pivot table or a chart: the project
    sheets are the ones whose header is recognised, and each is loaded. Hidden sheets are not read
    (they usually hold old copies or lists): they are named as information so nothing is silent.
    """
    sheets: list[ProjectSheet] = []
    findings: list[Finding] = []
    # Reading builds millions of small objects and no reference cycles: the cyclic collector would
    # only rescan them (about a fifth of the time on 100,000 rows). Reference counting still frees.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _read_sheets(raw_sheets, province_code, sheets, findings)
    finally:
        if collecting:
            gc.enable()
    return sheets, findings


def _read_sheets(raw_sheets, province_code, sheets, findings) -> None:
    for raw in raw_sheets:
        if raw.hidden:
            findings.append(Finding("SHEET_HIDDEN", raw.name, value=raw.name))
            continue
        sheet = read_project_sheet(raw, province_code)
        if sheet is not None:
            sheets.append(sheet)
        elif any(any(c not in (None, "") for c in row) for row in raw.rows):
            findings.append(Finding("SHEET_SKIPPED", raw.name, value=raw.name))
    if len(raw_sheets) > 1:  # a workbook of several sheets: say which were read as project tables
        for sheet in sheets:
            findings.append(Finding("SHEET_USED", sheet.name, value=sheet.name,
                                    params={"header_row": sheet.header_row, "rows": len(sheet.rows)}))


def read_project_sheet(raw: RawSheet, province_code: str) -> ProjectSheet | None:
    """Read one sheet as a project table; None when it has no project header."""
    found = find_header_lines(raw.rows, getattr(raw, "merged", None))
    if found is None:
        return None
    header_index, mapped, lines, texts = found
    sheet = ProjectSheet(raw.name, header_index + 1, {column: texts[i] for i, column in mapped.items()},
                         columns=dict(mapped))
    last_header = raw.rows[header_index + lines - 1]
    for index, cell in enumerate(last_header):
        if cell not in (None, "") and index not in mapped:
            sheet.findings.append(Finding("COLUMN_UNMAPPED", raw.name, header_index + lines,
                                          str(cell).strip(), str(cell).strip()))
    if lines == 2:
        for index, cell in enumerate(raw.rows[header_index]):
            if cell not in (None, "") and index not in mapped and (
                    index >= len(last_header) or last_header[index] in (None, "")):
                sheet.findings.append(Finding("COLUMN_UNMAPPED", raw.name, header_index + 1,
                                              str(cell).strip(), str(cell).strip()))
    hidden = getattr(raw, "hidden_rows", None) or set()
    for offset, cells in enumerate(raw.rows[header_index + lines:], start=header_index + lines + 1):
        before = len(sheet.rows)
        read_row(sheet, cells, offset, mapped, province_code)
        if offset in hidden and len(sheet.rows) > before:  # loaded, but the clerk may not see it
            sheet.findings.append(Finding("ROW_HIDDEN", raw.name, offset, value=sheet.rows[-1]["project_code"],
                                          project_code=sheet.rows[-1]["project_code"]))
    return sheet


def _is_unlabelled_total(sheet: ProjectSheet, raw: dict) -> bool:
    """A row of sums with no label: its total cost is the sum of the rows above (or since the last
    subtotal). Any other row without a code stays a row, and is refused for its missing code."""
    total, problem = values.parse_amount(raw.get("total_cost_mad"))
    if problem or not total:
        return False
    costs = [row["total_cost_mad"] or 0 for row in sheet.rows]
    return total in (sum(costs[sheet.subtotal_from:]), sum(costs))


def read_row(sheet: ProjectSheet, cells: list[object], excel_row: int, mapped: dict[int, str],
             province_code: str) -> None:
    raw = {column: cells[i] if i < len(cells) else None for i, column in mapped.items()}
    code = values.parse_code(raw.get("project_code"))
    filled = [c for c in cells if c not in (None, "")]
    if not filled:
        sheet.skipped_rows += 1
        return
    if (code is None or _is_totals_row([raw.get("project_code")])) and _is_totals_row(filled):
        sheet.skipped_rows += 1
        sheet.subtotal_from = len(sheet.rows)
        return
    if code is None and values.parse_text(raw.get("title")) is None and _is_unlabelled_total(sheet, raw):
        sheet.skipped_rows += 1
        sheet.subtotal_from = len(sheet.rows)
        return
    if len(filled) == 1 and isinstance(filled[0], str) or code is None and not any(
            values.parse_amount(raw.get(c))[0] for c in AMOUNT_COLUMNS if c in raw):
        sheet.skipped_rows += 1  # a section heading or a note line, not a project
        return

    findings: list[Finding] = []

    def finding(rule_id: str, column: str | None, value: object, **params) -> None:
        findings.append(Finding(rule_id, sheet.name, excel_row,
                                sheet.headers.get(column) if column else None,
                                values.parse_text(value) if value is not None else None, code, params))

    row: dict = {"excel_row": excel_row, "project_code": code, "province_code": province_code}
    if "province_code" in raw and values.parse_text(raw["province_code"]):
        named = reference.find_province(raw["province_code"])
        if named is None:
            finding("E_PROVINCE_UNKNOWN", "province_code", raw["province_code"])
        elif named != province_code:
            finding("E_PROVINCE_MISMATCH", "province_code", raw["province_code"])
    for column in ("commune", "title", "promoter_name"):
        row[column] = values.parse_text(raw.get(column))
    if row["title"] is None:
        finding("W_TITLE_MISSING", "title", None)
    for column in AMOUNT_COLUMNS:
        amount, problem = values.parse_amount(raw.get(column))
        if problem:
            finding(problem, column, raw.get(column))
        elif amount is None and column in REQUIRED_AMOUNTS:
            finding("E_AMOUNT_MISSING", column, None)
        row[column] = amount
    for column in COUNT_COLUMNS:
        row[column], problem = values.parse_count(raw.get(column))
        if problem:
            finding(problem, column, raw.get(column))
    row["approval_year"], problem = values.parse_year(raw.get("approval_year"))
    if problem:
        finding(problem, "approval_year", raw.get("approval_year"))
    row["start_date"], problem = values.parse_date(raw.get("start_date"))
    if problem:
        finding(problem, "start_date", raw.get("start_date"))
    for column, domain in LABEL_COLUMNS.items():
        row[column + "_code"] = None
        label = values.parse_text(raw.get(column))
        if label:
            row[column + "_code"] = label_code(domain, label)
            if row[column + "_code"] is None:
                finding("W_LABEL_UNKNOWN", column, label)
    row["programme_code"] = None
    label = values.parse_text(raw.get("programme"))
    if label:
        kind = label_code("programme_kind", label)
        row["programme_code"] = kind and programme_code(kind, row["approval_year"])
        if row["programme_code"] is None:
            finding("W_LABEL_UNKNOWN", "programme", label)
    row["cells"] = cells  # the row of the sheet as read (no copy), for the quality tables if refused
    sheet.rows.append(row)
    sheet.findings.extend(findings)
