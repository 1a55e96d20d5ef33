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
from etl.matching import Match, column_names, exact_header, label_names, match_header, resolve_label
from etl.read import MAX_CELL_CHARS, RawSheet

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
    period_year: int | None = None  # the submission's period: its phase stands in for a missing year
    # (column, label as typed) -> (how it was read, first Excel row, rows) for labels read by resemblance
    label_guesses: dict[tuple[str, str], tuple[Match, int, int]] = field(default_factory=dict)
    # The column sheet the rows were read from (etl.columnar): a row read column-wise keeps no
    # "cells"; the few a report needs (a refused row) are taken from here.
    source: object = field(default=None, repr=False, compare=False)
    # Running sums of the rows' total cost (cost_sums[i]: the first i rows), extended as rows come:
    # a row of sums is told in constant time, not by adding up every row above it again.
    cost_sums: list[int] = field(default_factory=lambda: [0], repr=False, compare=False)
    cost_sums_of: object = field(default=None, repr=False, compare=False)  # the rows list they sum

    def running_costs(self) -> list[int]:
        """``cost_sums`` brought up to date with ``rows`` (appended to, or replaced by etl.columnar)."""
        if self.cost_sums_of is not self.rows or len(self.cost_sums) > len(self.rows) + 1:
            self.cost_sums, self.cost_sums_of = [0], self.rows
        sums = self.cost_sums
        for row in self.rows[len(sums) - 1:]:
            sums.append(sums[-1] + (row["total_cost_mad"] or 0))
        return sums

    def note_label_guess(self, column: str, label: str, found: Match, excel_row: int) -> None:
        seen = self.label_guesses.get((column, label))
        self.label_guesses[column, label] = (found, excel_row, 1) if seen is None else (seen[0], seen[1], seen[2] + 1)

    def cells_as_read(self, row: dict) -> dict[str, object]:
        """A row's cells as the clerk typed them, by header (kept for a refused row)."""
        cells = row.get("cells")
        if cells is None:
            cells = self.source.row(row["excel_row"] - 1)
        return {self.headers[column]: cells[index] if index < len(cells) else None
                for index, column in self.columns.items()}


def phase_note(year: object, period_year: int | None) -> dict[str, str]:
    """What a finding says when the INDH phase was taken from the submission's period, not from
    the row's approval year (``year``: the year as read, None when missing or unreadable)."""
    if period_year is None:
        return {}
    why_fr = ("faute d'année d'approbation lisible" if year is None
              else f"l'année d'approbation {year} n'étant dans aucune phase")
    why_ar = "لغياب سنة مصادقة مقروءة" if year is None else f"لأن سنة المصادقة {year} خارج مراحل المبادرة"
    return {"note_fr": f", retenue d'après la période {period_year} {why_fr}",
            "note_ar": f"، اعتُمدت حسب الفترة {period_year} {why_ar}"}


@functools.lru_cache(maxsize=1024)
def programme_code(kind: str, approval_year: int | None) -> str | None:
    return reference.programme_code(kind, approval_year)


def map_headers(row: list[object], resemblance: bool = True) -> dict[int, str]:
    """Column index -> canonical column, for the cells of one row that are known headers
    (``resemblance``: also those read by resemblance, see :func:`choose_columns`)."""
    return choose_columns({index: [str(cell)] for index, cell in enumerate(row) if cell not in (None, "")},
                          resemblance)[0]


def choose_columns(texts: dict[int, list[str]], resemblance: bool = True) -> tuple[dict[int, str], dict[int, str]]:
    """(column index -> canonical column, index -> the text it was read from) for a header line.

    ``texts`` gives each cell's candidate texts, best first (a two-line header tries the two lines
    together, then each). Exact mappings are taken first and are never displaced; the other cells
    are then read word by word (:mod:`etl.matching`). A column two cells claim goes to the first
    exact one, else to the strictly better guess; two equal guesses are both left unmapped.
    """
    mapped: dict[int, str] = {}
    read_from: dict[int, str] = {}
    for index, candidates in texts.items():
        for text in candidates:
            column = exact_header(text)
            if column is not None and column not in mapped.values():
                mapped[index], read_from[index] = column, text
                break
    guesses: dict[str, list[tuple[int, int, str]]] = {}
    for index, candidates in texts.items():
        if index in mapped or not resemblance:
            continue
        best = max(((match_header(text), text) for text in candidates), key=lambda pair: pair[0].score * bool(
            pair[0].target), default=None)
        if best is None or not best[0].guessed or best[0].target in mapped.values():
            continue
        guesses.setdefault(best[0].target, []).append((best[0].score, index, best[1]))
    for column, claims in guesses.items():
        claims.sort(reverse=True)
        if len(claims) == 1 or claims[0][0] > claims[1][0]:
            _, index, text = claims[0]
            mapped[index], read_from[index] = column, text
    return dict(sorted(mapped.items())), read_from


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
    labels = _parent_labels(parent, child, merged or [], row_index)
    texts: dict[int, list[str]] = {}
    for index in range(len(labels)):
        upper = labels[index]
        lower = child[index] if index < len(child) else None
        candidates = []
        if upper not in (None, "") and lower not in (None, ""):
            candidates.append(f"{str(upper).strip()} {str(lower).strip()}")
        candidates.extend(str(c).strip() for c in (lower, upper) if c not in (None, ""))
        if candidates:
            texts[index] = candidates
    return choose_columns(texts)


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
    # A row with a number or an amount in it is a project row, not a header: exact headers only
    # (reading each distinct cell of the first rows by resemblance would cost more than the rest).
    singles = [map_headers(row, _may_be_header_line(row)) for row in window]
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


def is_totals_row(cells: list[object]) -> bool:
    for cell in cells:
        # Folding every cell of every row is the slowest part of reading a big sheet; a cheap look
        # at its first letters leaves only the cells that may be a totals label to fold.
        if isinstance(cell, str) and _TOTAL_START.match(cell):
            key = reference.text_key(cell)
            if key in _TOTAL_WORDS or key.startswith(_TOTAL_PREFIXES):
                return True
    return False


def read_project_sheets(raw_sheets: list[RawSheet], province_code: str, period_year: int | None = None
                        ) -> tuple[list[ProjectSheet], list[Finding]]:
    """The project sheets of a file, and what the clerk is told about the other sheets.

    A workbook may hold a cover page, lists for drop-downs, a pivot table or a chart: the project
    sheets are the ones whose header is recognised, and each is loaded. Hidden sheets are not read
    (they usually hold old copies or lists): they are named as information so nothing is silent.
    """
    # Reading builds millions of small objects and no reference cycles: the cyclic collector would
    # only rescan them (about a fifth of the time on 100,000 rows). Reference counting still frees.
    return collect_project_sheets(raw_sheets, lambda raw: read_project_sheet(raw, province_code, period_year),
                                  lambda raw: any(any(c not in (None, "") for c in row) for row in raw.rows))


def collect_project_sheets(raw_sheets, read_sheet, has_filled_cell) -> tuple[list[ProjectSheet], list[Finding]]:
    """The sheets ``read_sheet`` reads as project tables, and the findings on the others (a sheet is
    a RawSheet here, a column sheet in :mod:`etl.columnar`)."""
    sheets: list[ProjectSheet] = []
    findings: list[Finding] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        _read_sheets(raw_sheets, read_sheet, has_filled_cell, sheets, findings)
    finally:
        if collecting:
            gc.enable()
    return sheets, findings


def _read_sheets(raw_sheets, read_sheet, has_filled_cell, sheets, findings) -> None:
    for raw in raw_sheets:
        if raw.hidden:
            findings.append(Finding("SHEET_HIDDEN", raw.name, value=raw.name))
            continue
        sheet = read_sheet(raw)
        if sheet is not None:
            sheets.append(sheet)
        elif has_filled_cell(raw):
            findings.append(Finding("SHEET_SKIPPED", raw.name, value=raw.name))
    if len(raw_sheets) > 1:  # a workbook of several sheets: say which were read as project tables
        for sheet in sheets:
            findings.append(Finding("SHEET_USED", sheet.name, value=sheet.name,
                                    params={"header_row": sheet.header_row, "rows": len(sheet.rows)}))


def open_project_sheet(name: str, rows: list[list[object]], merged, period_year: int | None = None
                       ) -> tuple[ProjectSheet, int] | None:
    """The sheet's header read from its first rows (``rows`` needs only the first
    ``HEADER_SEARCH_ROWS + 1``), with the header findings, and the Excel row of the first data row;
    None when it has no project header. The per-cell and the column-wise readers both start here."""
    found = find_header_lines(rows, merged)
    if found is None:
        return None
    header_index, mapped, lines, texts = found
    sheet = ProjectSheet(name, header_index + 1, {column: texts[i] for i, column in mapped.items()},
                         columns=dict(mapped), period_year=period_year)
    unmapped: list[tuple[int, str]] = []
    last_header = rows[header_index + lines - 1]
    for index, cell in enumerate(last_header):
        if cell not in (None, "") and index not in mapped:
            unmapped.append((header_index + lines, str(cell).strip()))
    if lines == 2:
        for index, cell in enumerate(rows[header_index]):
            if cell not in (None, "") and index not in mapped and (
                    index >= len(last_header) or last_header[index] in (None, "")):
                unmapped.append((header_index + 1, str(cell).strip()))
    sheet.findings.extend(header_findings(sheet, [texts[i] for i in mapped], sorted(unmapped)))
    return sheet, header_index + lines + 1


def read_project_sheet(raw: RawSheet, province_code: str, period_year: int | None = None) -> ProjectSheet | None:
    """Read one sheet as a project table; None when it has no project header.

    ``period_year``: the year of the submission's period; a row whose approval year is missing or
    outside every INDH phase has its programme resolved in that year's phase.
    """
    opened = open_project_sheet(raw.name, raw.rows, getattr(raw, "merged", None), period_year)
    if opened is None:
        return None
    sheet, first_row = opened
    mapped = sheet.columns
    for excel_row, detail in sorted((getattr(raw, "unreadable_rows", None) or {}).items()):
        if excel_row >= first_row:  # a value calamine could not convert cost this row only
            sheet.findings.append(Finding("E_ROW_UNREADABLE", raw.name, excel_row, params={"detail": detail}))
    for (excel_row, index), length in sorted((getattr(raw, "long_cells", None) or {}).items()):
        if excel_row >= first_row:
            cells = raw.rows[excel_row - 1]
            sheet.findings.append(Finding(
                "E_CELL_TOO_LONG", raw.name, excel_row, sheet.headers.get(mapped.get(index, "")),
                cells[index] if index < len(cells) else None,
                params={"length": length, "max_length": MAX_CELL_CHARS}))
    hidden = getattr(raw, "hidden_rows", None) or set()
    for offset, cells in enumerate(raw.rows[first_row - 1:], start=first_row):
        read_sheet_row(sheet, cells, offset, mapped, province_code, hidden)
    sheet.findings.extend(label_guess_findings(sheet))
    return sheet


def _names_fr_ar(targets, names: dict[str, tuple[str, str]]) -> tuple[str, str]:
    fr = " » ou « ".join(names.get(t, (t, t))[0] for t in targets)
    ar = " » أو « ".join(names.get(t, (t, t))[1] for t in targets)
    return fr, ar


def suggestion_params(found: Match, names: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The « did you mean » of a header or label that was not mapped (empty when nothing is close)."""
    if found.how == "ambiguous" and found.suggestions:
        fr, ar = _names_fr_ar(found.suggestions, names)
        return {"suggestion_fr": f" Elle ressemble autant à « {fr} » : précisez-la.",
                "suggestion_ar": f" تشبه بنفس القدر « {ar} »: وضّحها."}
    if found.how == "close" and found.suggestions:
        fr, ar = _names_fr_ar(found.suggestions, names)
        return {"suggestion_fr": f" Vouliez-vous dire « {fr} » ?", "suggestion_ar": f" هل تقصد « {ar} »؟"}
    return {}


def header_findings(sheet: ProjectSheet, mapped_texts: list[str], unmapped: list[tuple[int, str]]
                    ) -> list[Finding]:
    """Info at the header: every column read from a header the lists do not give as it is typed
    (so a person confirms it), and every column not read, with a suggestion when one is close."""
    findings = []
    names = column_names()
    for text in mapped_texts:
        found = match_header(text)
        if found.guessed:
            fr, ar = names.get(found.target, (found.target, found.target))
            findings.append(Finding("COLUMN_GUESSED", sheet.name, sheet.header_row, text, text,
                                    params={"column_fr": fr, "column_ar": ar}))
    for excel_row, text in unmapped:
        found = match_header(text)
        params = suggestion_params(found, names)
        if found.guessed:  # read as a column another header of the sheet already gives
            fr, ar = names.get(found.target, (found.target, found.target))
            params = {"suggestion_fr": f" Elle ressemble à « {fr} », déjà lue dans une autre colonne.",
                      "suggestion_ar": f" يشبه « {ar} »، المقروء في عمود آخر."}
        findings.append(Finding("COLUMN_UNMAPPED", sheet.name, excel_row, text, text, params=params))
    return findings


def label_guess_findings(sheet: ProjectSheet) -> list[Finding]:
    """One info per label read by resemblance, at its first row, with the number of rows."""
    findings = []
    for (column, label), (found, first_row, rows) in sheet.label_guesses.items():
        domain = LABEL_COLUMNS.get(column, "programme_kind")
        fr, ar = label_names(domain).get(found.target, (found.target, found.target))
        findings.append(Finding("LABEL_GUESSED", sheet.name, first_row, sheet.headers.get(column), label,
                                params={"label_fr": fr, "label_ar": ar, "rows": rows}))
    return findings


def _is_unlabelled_total(sheet: ProjectSheet, raw: dict) -> bool:
    """A row of sums with no label: its total cost is the sum of the rows above (or since the last
    subtotal). Any other row without a code stays a row, and is refused for its missing code."""
    total, problem = values.parse_amount(raw.get("total_cost_mad"))
    if problem or not total:
        return False
    sums = sheet.running_costs()
    return total in (sums[-1] - sums[sheet.subtotal_from], sums[-1])


def read_sheet_row(sheet: ProjectSheet, cells: list[object], excel_row: int, mapped: dict[int, str],
                   province_code: str, hidden: set[int]) -> None:
    """:func:`read_row`, and a ROW_HIDDEN info when the row is loaded from a hidden row."""
    before = len(sheet.rows)
    read_row(sheet, cells, excel_row, mapped, province_code)
    if excel_row in hidden and len(sheet.rows) > before:  # loaded, but the clerk may not see it
        sheet.findings.append(Finding("ROW_HIDDEN", sheet.name, excel_row, value=sheet.rows[-1]["project_code"],
                                      project_code=sheet.rows[-1]["project_code"]))


def read_row(sheet: ProjectSheet, cells: list[object], excel_row: int, mapped: dict[int, str],
             province_code: str) -> None:
    raw = {column: cells[i] if i < len(cells) else None for i, column in mapped.items()}
    code = values.parse_code(raw.get("project_code"))
    filled = [c for c in cells if c not in (None, "")]
    if not filled:
        sheet.skipped_rows += 1
        return
    if (code is None or is_totals_row([raw.get("project_code")])) and is_totals_row(filled):
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
        if amount is not None and not -values.MAX_AMOUNT_CENTS <= amount <= values.MAX_AMOUNT_CENTS:
            amount, problem = None, "E_AMOUNT_TOO_LARGE"  # a sane ceiling: never an overflow downstream
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
            found = resolve_label(domain, label)
            row[column + "_code"] = found.target
            if found.target is None:
                finding("W_LABEL_UNKNOWN", column, label, **suggestion_params(found, label_names(domain)))
            elif found.how != "exact":
                sheet.note_label_guess(column, label, found, excel_row)
    row["programme_code"] = None
    label = values.parse_text(raw.get("programme"))
    if label:
        found = resolve_label("programme_kind", label)
        year = row["approval_year"]
        in_phases = year is not None and reference.phase_of_year(year) is not None
        phase_year = year if in_phases else sheet.period_year
        if found.target is None:
            finding("W_LABEL_UNKNOWN", "programme", label,
                    **suggestion_params(found, label_names("programme_kind")))
        else:
            if found.how != "exact":
                sheet.note_label_guess("programme", label, found, excel_row)
            row["programme_code"] = programme_code(found.target, phase_year)
            if row["programme_code"] is None and phase_year is not None:
                # The note says the period chose the phase: only when the row's own year could not.
                finding("W_PROGRAMME_NOT_IN_PHASE", "programme", label, phase=reference.phase_of_year(phase_year),
                        year=phase_year, **({} if in_phases else phase_note(year, sheet.period_year)))
    row["cells"] = cells  # the row of the sheet as read (no copy), for the quality tables if refused
    sheet.rows.append(row)
    sheet.findings.extend(findings)
