"""Column-wise normalisation: a project sheet's canonical rows read from its Arrow columns.

The per-cell reader (:mod:`etl.normalise`) reads every cell with :mod:`etl.values`, two million
Python objects for 100,000 rows. Here each mapped column is read at once (:mod:`etl.columns` gives
the columns): what clerks type most is read by Arrow and numpy (number cells, ``1 250 000,00``,
``1.250.000,00 DH``, ``1,250,000.00``, plain codes and texts, whole counts and years, date cells
and serials); every other distinct cell is read once by the per-cell parser itself, and every
distinct label once through the reference lookups (a dictionary join, not a lookup per row).

A row the columns cannot settle without doubt goes through :func:`etl.normalise.read_row` in its
place among the others, which gives it its findings exactly as the per-cell path does: a row
without a code, a totals, sums, section or note line, a hidden row, a row with any cell that has a
finding, a label read by resemblance, a programme outside its phase. The vectorised readings
claim only what they read exactly as :mod:`etl.values` does (ASCII digits and spaces; anything
with other digits, other whitespace or signs is left to the parser, which knows Python's rules).
``tests/test_columnar.py`` compares both paths, rows and findings, over every fixture, the sample
generator's files and hypothesis-drawn sheets.
"""
from __future__ import annotations

from itertools import compress
from pathlib import Path

from etl import normalise, reference, values
from etl.columns import DATE, NUMBER, PYTHON_SPACES, TEXT, Column, ColumnReaderFailed, ColumnSheet, TooWideForColumns, has_filled_cell, read_columns
from etl.config import settings
from etl.findings import Finding
from etl.matching import resolve_label
from etl.normalise import (
    AMOUNT_COLUMNS,
    COUNT_COLUMNS,
    HEADER_SEARCH_ROWS,
    LABEL_COLUMNS,
    REQUIRED_AMOUNTS,
    ProjectSheet,
    collect_project_sheets,
    is_totals_row,
    label_guess_findings,
    open_project_sheet,
    programme_code,
    read_sheet_row,
)
from etl.read import MAX_CELL_CHARS, read_file

# A code as parse_code leaves it: printable ASCII words separated by one space.
CODE_TEXT = r"^[\x21-\x7e]+( [\x21-\x7e]+)*$"
# A code that may be a totals label ("Total", "S/Total", "Ensemble", "Cumul", "Grand total" ...):
# left to the per-cell test.
MAY_BE_TOTAL = r"^([^A-Za-z0-9]|[Tt][Oo]|[Ss][Oo]|[Ss][^A-Za-z0-9_]|[Ss]$|[Ee][Nn]|[Cc][Uu]|[Gg][Rr])"
# A text parse_text leaves as it is: no whitespace in Python's sense but one space between words.
PLAIN_TEXT = f"^[^{PYTHON_SPACES}]+( [^{PYTHON_SPACES}]+)*$"
# The amounts etl.values reads by its fast pattern, in ASCII digits and spaces only.
_SPACE = r"[ \t\n\r\f\x{0b}\x{a0}\x{202f}]*"
AMOUNT_TEXT = (
    "^" + _SPACE + r"(?:(?P<a>[0-9]{1,3}(?:[ \x{a0}\x{202f}][0-9]{3})+|[0-9]+)(?:,(?P<af>[0-9]{1,2}))?"
    r"|(?P<b>[0-9]{1,3}(?:\.[0-9]{3})+),(?P<bf>[0-9]{1,2})"
    r"|(?P<c>[0-9]{1,3}(?:,[0-9]{3})+)\.(?P<cf>[0-9]{1,2}))"
    "(?:" + _SPACE + r"(?:[dD][hH][sS]?|[mM][aA][dD]))?" + _SPACE + "$")
MAX_WHOLE_DIGITS = 15  # dirhams in int64 centimes without overflow (the ceiling is far below)
COUNT_TEXT = r"^[0-9]{1,7}$"
YEAR_TEXT = r"^[0-9]{4}$"
DATE_CELL = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}"  # a date cell as calamine renders it
EPOCH_DAYS = 25_569  # days from Excel's epoch (1899-12-30) to 1970-01-01
COLUMNS_MAX_WIDTH = 256  # a project sheet has about 20 columns; 16,384 is a far reference
ROW_KEYS = ("project_code", "commune", "title", "promoter_name", *AMOUNT_COLUMNS, *COUNT_COLUMNS,
            "approval_year", "start_date", *(column + "_code" for column in LABEL_COLUMNS), "programme_code")


def read_project_sheets(sources: list[ColumnSheet], province_code: str, period_year: int | None = None
                        ) -> tuple[list[ProjectSheet], list[Finding]]:
    """:func:`etl.normalise.read_project_sheets` on column sheets: the same sheets, rows and findings."""
    return collect_project_sheets(
        sources, lambda source: read_project_sheet(source, province_code, period_year), has_filled_cell)


def read_file_sheets(path: Path, province_code: str, period_year: int | None = None
                     ) -> tuple[list[ProjectSheet], list[Finding]]:
    """The project sheets of a file and the findings on its other sheets; both readers give the same.

    Files from ``IGA_COLUMNS_FROM_KB`` on are read column-wise; smaller ones, and these, go through
    the per-cell reader: a sheet wider than :data:`COLUMNS_MAX_WIDTH` (a column each costs more
    than its few cells), a file fastexcel stops on (the per-cell reader refuses it with its reason,
    or recovers the rows of a sheet calamine panics on, each lost row a finding) and a text table
    with a cell longer than Excel holds (cut and reported on its cell there). A refusal of the
    column reader is final: both readers refuse the same files, for the same reasons.
    Raises :class:`~etl.read.UnreadableFile`.
    """
    sources = None
    if path.stat().st_size >= settings().columns_from_kb * 1024:
        try:
            sources = read_columns(path, max_columns=COLUMNS_MAX_WIDTH)
        except (ColumnReaderFailed, TooWideForColumns):
            sources = None
    if sources is None or any(source.file_format == "csv" and has_long_cell(source) for source in sources):
        return normalise.read_project_sheets(read_file(path), province_code, period_year)
    return read_project_sheets(sources, province_code, period_year)


def has_long_cell(source: ColumnSheet) -> bool:
    import pyarrow.compute as pc

    return any((pc.max(pc.utf8_length(column.text)).as_py() or 0) >= MAX_CELL_CHARS
               for column in source.columns.values())


class LazyMerged:
    """A sheet's merged ranges, read only when the header search asks (an xlsx part is inflated again)."""

    def __init__(self, source: ColumnSheet):
        self.source = source

    def __bool__(self) -> bool:
        return bool(self.source.merged)

    def __iter__(self):
        return iter(self.source.merged)


def read_project_sheet(source: ColumnSheet, province_code: str, period_year: int | None = None
                       ) -> ProjectSheet | None:
    """:func:`etl.normalise.read_project_sheet` on a column sheet; None when it has no project header."""
    opened = open_project_sheet(source.name, source.rows(0, HEADER_SEARCH_ROWS + 1), LazyMerged(source),
                                period_year)
    if opened is None:
        return None
    sheet, first_row = opened
    sheet.source = source
    if source.height >= first_row:
        read_rows(sheet, source, first_row - 1, province_code)
    sheet.findings.extend(label_guess_findings(sheet))
    return sheet


class Cells:
    """One mapped column over the data rows: texts (Arrow), kinds and numbers (numpy)."""

    def __init__(self, source: ColumnSheet, index: int, start: int):
        import numpy as np
        import pyarrow as pa

        size = source.height - start
        column = source.columns.get(index)
        self.blank = source.blank
        if column is None:
            column = Column(pa.nulls(size, pa.string()))
        else:
            column = Column(column.text.slice(start, size),
                            column.kind.slice(start, size) if column.kind is not None else None,
                            column.number.slice(start, size) if column.number is not None else None)
        self.column = column
        self.text = column.text
        self.present = column.text.is_valid().to_numpy(zero_copy_only=False)
        if column.kind is None:
            self.kind = np.where(self.present, TEXT, 0).astype(np.int8)
        else:
            self.kind = column.kind.to_numpy(zero_copy_only=False)
        self.number = (np.full(size, np.nan) if column.number is None
                       else column.number.to_numpy(zero_copy_only=False).astype(np.float64))
        self.is_number = (self.kind == NUMBER) & np.isfinite(self.number)

    def matches(self, pattern: str):
        """Text cells (not numbers or dates rendered as text) that match ``pattern`` (RE2)."""
        import pyarrow.compute as pc

        found = pc.fill_null(pc.match_substring_regex(self.text, pattern), False).to_numpy(zero_copy_only=False)
        return found & (self.kind == TEXT)

    def python_at(self, positions) -> list[object]:
        """The cells at these positions as python-calamine gives them to the per-cell path."""
        import pyarrow as pa

        taken = pa.array(positions, pa.int64())
        column = self.column
        part = Column(column.text.take(taken), column.kind.take(taken) if column.kind is not None else None,
                      column.number.take(taken) if column.number is not None else None)
        return part.cells(0, self.blank)

    def settle(self, fast, read_values: list, read) -> object:
        """Read with ``read`` (cell -> (value, readable)) each distinct cell the vectorised reading left;
        their values go into ``read_values``. Returns where the row can stay column-wise.

        Texts are read once per distinct text (a dictionary of the column); numbers, dates and
        true/false cells once per distinct value."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        settled = np.ones(len(self.present), dtype=bool)
        left = self.present & ~fast
        texts = left & (self.kind == TEXT)
        if texts.any():
            encoded = pc.dictionary_encode(pc.if_else(pa.array(texts), self.text, None))
            got = [read(text) for text in encoded.dictionary.to_pylist()]
            readings = np.empty(len(got), dtype=object)
            readings[:] = [value for value, _ in got]
            readable = np.array([good for _, good in got], dtype=bool)
            positions = np.flatnonzero(texts)
            indices = encoded.indices.to_numpy(zero_copy_only=False)[positions].astype(np.int64)
            for position, value in zip(positions.tolist(), readings[indices].tolist()):
                read_values[position] = value
            settled[positions] = readable[indices]
        rest = np.flatnonzero(left & ~texts)
        if rest.size:
            seen: dict = {}
            for position, cell in zip(rest.tolist(), self.python_at(rest)):
                key = (type(cell), repr(cell) if type(cell) is float else cell)  # 0.0 is not -0.0
                got = seen.get(key)
                if got is None:
                    got = seen[key] = read(cell)
                read_values[position] = got[0]
                if not got[1]:
                    settled[position] = False
        return settled


def _as_list(numbers, valid, arrow_type) -> list:
    import pyarrow as pa

    return pa.array(numbers, arrow_type, mask=~valid).to_pylist()


def read_code(cells: Cells) -> tuple[list, object]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    fast = cells.matches(CODE_TEXT) & ~cells.matches(MAY_BE_TOTAL)
    whole = cells.is_number & (np.floor(cells.number) == cells.number) & (np.abs(cells.number) < 2**53)
    codes = pc.if_else(pa.array(fast), cells.text, None).to_pylist()
    positions = np.flatnonzero(whole)
    for position, code in zip(positions.tolist(), pa.array(cells.number[positions].astype(np.int64)).cast(
            pa.string()).to_pylist()):
        codes[position] = code

    def read(cell):
        code = values.parse_code(cell)
        return code, code is not None and not (isinstance(cell, str) and is_totals_row([cell]))
    return codes, cells.settle(fast | whole, codes, read) & cells.present


def read_text(cells: Cells, required: bool) -> tuple[list, object]:
    fast = cells.matches(PLAIN_TEXT)
    texts = shared_texts(cells.text)

    def read(cell):
        text = values.parse_text(cell)
        return text, text is not None or not required
    settled = cells.settle(fast, texts, read)
    return texts, (settled & cells.present) if required else settled


def shared_texts(column) -> list:
    """The column as a list of str, one object per distinct text: a commune or a title repeated on
    thousands of rows is held once, not once per row."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(column)
    distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)
    distinct[:-1] = encoded.dictionary.to_pylist()
    distinct[-1] = None
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return distinct[indices].tolist()


def read_amount(cells: Cells, required: bool) -> tuple[list, object]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    number = cells.number
    cents = np.zeros(len(number), dtype=np.int64)
    whole = cells.is_number & (np.floor(number) == number) & (np.abs(number) < 2**52)
    cents[whole] = number[whole].astype(np.int64) * 100
    with np.errstate(over="ignore", invalid="ignore"):  # 1e308 x 100: the cell is left to the parser
        scaled = np.where(cells.is_number & ~whole, number, 0.0) * 100
        rounded = np.round(scaled)  # half to even, as Python's round(): only near-whole centimes are taken
        near = cells.is_number & ~whole & (np.abs(scaled - rounded) < 1e-6) & (np.abs(scaled) < 2**52)
    cents[near] = rounded[near].astype(np.int64)
    fast = whole | near
    typed = (cells.kind == TEXT) & (pc.fill_null(pc.utf8_length(cells.text), 0).to_numpy(zero_copy_only=False)
                                    <= values.MAX_NUMBER_TEXT)
    if typed.any():
        parts = pc.extract_regex(pc.if_else(pa.array(typed), cells.text, None), AMOUNT_TEXT)
        typed &= parts.is_valid().to_numpy(zero_copy_only=False)
        digits = pc.replace_substring_regex(pc.binary_join_element_wise(
            parts.field("a"), parts.field("b"), parts.field("c"), ""), "[^0-9]", "")
        typed &= pc.fill_null(pc.less_equal(pc.utf8_length(digits), MAX_WHOLE_DIGITS), False).to_numpy(
            zero_copy_only=False)
        fraction = pc.utf8_rpad(pc.binary_join_element_wise(parts.field("af"), parts.field("bf"), parts.field("cf"),
                                                            ""), 2, "0")
        mask = pa.array(typed)
        dirhams = pc.cast(pc.if_else(mask, digits, "0"), pa.int64()).to_numpy(zero_copy_only=False)
        centimes = pc.cast(pc.if_else(mask, fraction, "0"), pa.int64()).to_numpy(zero_copy_only=False)
        cents = np.where(typed, dirhams * 100 + centimes, cents)
        fast |= typed
    fast &= np.abs(cents) <= values.MAX_AMOUNT_CENTS  # beyond the ceiling: the parser says so
    amounts = _as_list(cents, fast, pa.int64())

    def read(cell):
        amount, problem = values.parse_amount(cell)
        if problem or amount is not None and not -values.MAX_AMOUNT_CENTS <= amount <= values.MAX_AMOUNT_CENTS:
            return None, False
        return amount, amount is not None or not required
    settled = cells.settle(fast, amounts, read)
    return amounts, (settled & cells.present) if required else settled


def _whole_numbers(cells: Cells, text_pattern: str, low: int, high: int) -> tuple[list, object]:
    """Whole number cells and texts of digits within [low, high]: the fast paths of counts and years."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    number = cells.number
    result = np.zeros(len(number), dtype=np.int64)
    fast = cells.is_number & (np.floor(number) == number) & (number >= low) & (number <= high)
    result[fast] = number[fast].astype(np.int64)
    typed = cells.matches(text_pattern)
    if typed.any():
        read_numbers = pc.cast(pc.if_else(pa.array(typed), cells.text, "0"), pa.int64()).to_numpy(
            zero_copy_only=False)
        typed &= (read_numbers >= low) & (read_numbers <= high)
        result = np.where(typed, read_numbers, result)
        fast |= typed
    return _as_list(result, fast, pa.int64()), fast


def read_count(cells: Cells) -> tuple[list, object]:
    counts, fast = _whole_numbers(cells, COUNT_TEXT, 0, values.MAX_COUNT)
    return counts, cells.settle(fast, counts, lambda cell: _no_problem(values.parse_count(cell)))


def read_year(cells: Cells) -> tuple[list, object]:
    years, fast = _whole_numbers(cells, YEAR_TEXT, 1900, 2100)
    return years, cells.settle(fast, years, lambda cell: _no_problem(values.parse_year(cell)))


def _no_problem(read: tuple[object, str | None]) -> tuple[object, bool]:
    return read[0], read[1] is None


def read_date(cells: Cells) -> tuple[list, object]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    number = cells.number
    days = np.zeros(len(number), dtype=np.int64)
    serial = cells.is_number & (number >= values.FIRST_SERIAL) & (number < values.LAST_SERIAL + 1)
    days[serial] = np.floor(number[serial]).astype(np.int64) - EPOCH_DAYS
    dated = (cells.kind == DATE) & pc.fill_null(pc.match_substring_regex(cells.text, DATE_CELL), False).to_numpy(
        zero_copy_only=False)
    if dated.any():
        day = pc.strptime(pc.utf8_slice_codeunits(pc.if_else(pa.array(dated), cells.text, None), 0, 10),
                          format="%Y-%m-%d", unit="s", error_is_null=True)
        read_days = pc.cast(pc.cast(day, pa.date32()), pa.int32())
        dated &= read_days.is_valid().to_numpy(zero_copy_only=False)
        days = np.where(dated, pc.fill_null(read_days, 0).to_numpy(zero_copy_only=False).astype(np.int64), days)
    fast = serial | dated
    dates = _as_list(days.astype(np.int32), fast, pa.date32())
    return dates, cells.settle(fast, dates, lambda cell: _no_problem(values.parse_date(cell)))


def read_label(cells: Cells, domain: str) -> tuple[list, object]:
    """Each distinct label resolved once; a label read by resemblance or unknown stays with the per-cell
    path, which tells the clerk."""
    import numpy as np

    codes = [None] * len(cells.present)

    def read(cell):
        label = values.parse_text(cell)
        if not label:
            return None, True
        found = resolve_label(domain, label)
        return found.target, found.target is not None and found.how == "exact"
    return codes, cells.settle(np.zeros(len(codes), dtype=bool), codes, read)


def read_province(cells: Cells, province_code: str):
    import numpy as np

    def read(cell):
        return None, not values.parse_text(cell) or reference.find_province(cell) == province_code
    return cells.settle(np.zeros(len(cells.present), dtype=bool), [None] * len(cells.present), read)


def resolve_programmes(kinds: list, years: list, period_year: int | None) -> tuple[list, object]:
    """The programme of each row from its kind and the phase of its approval year (else the period's)."""
    import numpy as np

    codes = [None] * len(kinds)
    settled = np.ones(len(kinds), dtype=bool)
    seen: dict = {}
    for position, (kind, year) in enumerate(zip(kinds, years)):
        if kind is None:
            continue
        got = seen.get((kind, year))
        if got is None:
            in_phases = year is not None and reference.phase_of_year(year) is not None
            phase_year = year if in_phases else period_year
            code = programme_code(kind, phase_year)
            got = seen[kind, year] = (code, code is not None or phase_year is None)
        codes[position] = got[0]
        if not got[1]:
            settled[position] = False
    return codes, settled


def filled_counts(source: ColumnSheet, start: int):
    """How many cells of each row from ``start`` hold something (the per-cell path's ``filled``)."""
    import numpy as np
    import pyarrow.compute as pc

    counts = np.zeros(source.height - start, dtype=np.int32)
    for column in source.columns.values():
        text = column.text.slice(start)
        counts += pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    return counts


def read_rows(sheet: ProjectSheet, source: ColumnSheet, start: int, province_code: str) -> None:
    """The rows from index ``start`` (the first after the header) into ``sheet``, in the sheet's order."""
    import numpy as np

    size = source.height - start
    by_column = {column: Cells(source, index, start) for index, column in sheet.columns.items()}
    absent = Cells(ColumnSheet(source.name, height=size), 0, 0)

    def cells(column: str) -> Cells:
        return by_column.get(column, absent)

    filled = filled_counts(source, start)
    blank = filled == 0
    fast = filled >= 2
    for excel_row in source.hidden_rows:  # loaded, but the clerk is told: the per-cell path says it
        if start < excel_row <= source.height:
            fast[excel_row - 1 - start] = False
    read: dict[str, list] = {}
    read["project_code"], settled = read_code(cells("project_code"))
    fast &= settled
    if "province_code" in by_column:
        fast &= read_province(by_column["province_code"], province_code)
    for column in ("commune", "title", "promoter_name"):
        read[column], settled = read_text(cells(column), column == "title")
        fast &= settled
    for column in AMOUNT_COLUMNS:
        read[column], settled = read_amount(cells(column), column in REQUIRED_AMOUNTS)
        fast &= settled
    for column in COUNT_COLUMNS:
        read[column], settled = read_count(cells(column))
        fast &= settled
    read["approval_year"], settled = read_year(cells("approval_year"))
    fast &= settled
    read["start_date"], settled = read_date(cells("start_date"))
    fast &= settled
    for column, domain in LABEL_COLUMNS.items():
        read[column + "_code"], settled = read_label(cells(column), domain)
        fast &= settled
    kinds, settled = read_label(cells("programme"), "programme_kind")
    fast &= settled
    read["programme_code"], settled = resolve_programmes(kinds, read["approval_year"], sheet.period_year)
    fast &= settled & ~blank
    excel_rows = range(start + 1, source.height + 1)
    rows = [{"excel_row": excel_row, "project_code": code, "province_code": province_code, "commune": commune,
             "title": title, "promoter_name": promoter, "total_cost_mad": total, "indh_contribution_mad": indh,
             "promoter_contribution_mad": own, "partner_contribution_mad": partner, "beneficiaries": beneficiaries,
             "women": women, "youth": youth, "jobs_created": jobs, "approval_year": year, "start_date": date,
             "sector_code": sector, "status_code": status, "promoter_type_code": promoter_type,
             "programme_code": programme}
            for (excel_row, code, commune, title, promoter, total, indh, own, partner, beneficiaries, women, youth,
                 jobs, year, date, sector, status, promoter_type, programme)
            in compress(zip(excel_rows, *(read[key] for key in ROW_KEYS)), fast.tolist())]
    sheet.skipped_rows += int(blank.sum())
    others = np.flatnonzero(~fast & ~blank)
    if not others.size:
        sheet.rows = rows
        return
    before_each = np.searchsorted(np.flatnonzero(fast), others).tolist()
    taken = 0
    for position, before, row_cells in zip(others.tolist(), before_each, source.rows_at((start + others).tolist())):
        sheet.rows.extend(rows[taken:before])
        taken = before
        read_sheet_row(sheet, row_cells, start + position + 1, sheet.columns, province_code, source.hidden_rows)
    sheet.rows.extend(rows[taken:])
