"""The column-wise normaliser's cells against the per-cell path, fast enough for mutation testing.

``tests/test_columnar.py`` proves :mod:`etl.columnar` over every fixture and hypothesis-drawn
sheets, in minutes. Here the cells that decide between a reading and the next (each limit, each
pattern's edge, each kind of cell) sit in one sheet of a few hundred rows, read once as a workbook
and once as a text table, each both ways: mutmut runs these tests against every mutant of
``etl/columnar.py`` (``[tool.mutmut]`` in pyproject.toml, docs/mutation.md). Every expected value
is the per-cell path's (``etl.read`` + ``etl.normalise``), never a copy of the new path's output.
"""
import datetime as dt
import re

import pytest
from test_columnar import BASE_ROW, COLUMNS, GROUPS, HEADER, assert_same, described, write_xlsx
from variant_support import write_text_table

from etl import columnar, normalise, values
from etl.columns import read_columns
from etl.matching import resolve_label
from etl.normalise import LABEL_COLUMNS
from etl.read import MAX_CELL_CHARS, read_file

pytestmark = pytest.mark.unit

FIRST, LAST = values.FIRST_SERIAL, values.LAST_SERIAL
TOP_MAD = values.MAX_AMOUNT_MAD
# Each list: cells for one kind of column, at the edges of the vectorised readings and beyond.
AMOUNTS = [
    # number cells: whole, a centime, finer than a centime, at 2**52, at the ceiling, signed zero
    0.0, -0.0, 1.0, -5.0, 250000.0, 1.125, 0.125, 1.005, 2.675, 0.015, 0.001, 0.004, 0.005, 1234567.891,
    1.0000000001, 12.3400000001, 0.1 + 0.2, 2.0**52, 2.0**52 - 1, 2.0**52 + 2, 2.0**53, 2.0**53 + 2, 45035996273704.96,
    45035996273704.97, 2.0**52 / 100 + 0.5, float(TOP_MAD), float(TOP_MAD) + 0.01, float(TOP_MAD + 1), -float(TOP_MAD),
    -float(TOP_MAD) - 1, 1e15, 1e15 + 0.5, 1e20, 1e-7, 1e308, -1e308, 2.5e-5, 99.999999999,
    # texts the fast pattern reads, and the ones next to them it must leave
    "1 250 000,00", "1.250.000,00 DH", "1,250,000.00", "1\u00a0250\u00a0000,50", "1\u202f250,5", "98 500 DH",
    "1250000", "1250000,5", "1.250.000", "1,250,000", "1.250.000,00", "1.250.000,50 DH", "1.250.000,5", "0,250", "0,25", "0,2", "0,", ",25", "0.125",
    "1,255", "12,345", "12.5", "0", "00012", "0012,50", "1.25.000", "1,25,000.00", "1  250", "1 25", "1 2500",
    "1 250 000,00 dh", "1 250 000,00 Dh", "1 250 000,00 DHS", "1 250 000,00 dhs", "1,250,000.00 MAD",
    "1,250,000.00 mad", "1 250 000,00 MAD", "1 250 000,00 درهم", "1 250 000,00DH", "1 250 000,00 D", "1 250 000,00 H",
    " 1 250 ", "\t1250\n", "\x0b1250\x0c", "1250\r", "\u20031250", "1250\u2003", "\u00a01250\u202f", "99 DH ",
    "99999999999999", "999999999999999", "9999999999999,99", "1000000000000000", "10 000 000 000", "10 000 000 000,00",
    "10 000 000 000,01", "10.000.000.001,00", "-10 000 000 000,00", "99999999999999999", "1" * 64, "1" * 65,
    "1" * 63 + " ", "-1.250.000,00", "-1 250,00", "(1 250,00)", "(1 250,00", "1 250,00)", "1٬250٬000", "١٢٥٠٠٠",
    "٣٥٫٥", "−500", "+500", "1e5", "30 %", "abc", "1250000.005", "1,250,000.005", "1.250.000,005",
    True, False,
]
COUNTS = [
    0.0, -0.0, 1.0, 12.0, 2.5, -1.0, -3.0, 999999.0, 1e6, 1e6 + 1, 1e6 - 0.5, 1e20, 1e308, 0.1,
    "12", "2.5", "12,0", "12.00", "1 200", "-3", "+3", "1000000", "1000001", "9999999", "10000000", "12345678", "٣٥",
    "0", "000", "0000012", "1.250", "abc", "12 ", " 12", "1e3", True, False,
]
YEARS = [
    2013.0, 1900.0, 2100.0, 1899.0, 2101.0, 2013.5, 1899.5, 2100.5, 0.0, -2013.0, 13.0, 1e308,
    "2013", "1900", "2100", "1899", "2101", "0999", "2013.0", "13", "12/03/2013", "٢٠١٣", " 2014 ", "2013-05-01",
    "20130", "201", True,
]
DATES = [
    dt.date(2010, 3, 12), dt.datetime(2010, 3, 12, 10, 30), dt.datetime(2010, 3, 12, 0, 0, 0, 500000),
    dt.date(1990, 1, 1), dt.date(1989, 12, 31), dt.date(1900, 3, 1), dt.date(1900, 1, 1), dt.date(2099, 12, 31),
    dt.date(2100, 12, 31), dt.date(2101, 1, 1), dt.date(2999, 1, 1), dt.date(3000, 1, 1), dt.time(10, 30),
    float(FIRST), float(FIRST - 1), FIRST - 0.5, FIRST + 0.5, float(LAST), LAST + 0.5, LAST + 0.999, float(LAST + 1),
    40249.0, 40249.5, 40249.75, -40249.0, 2013.0, 0.0, 1e6,
    "12/03/2010", "12/03/2010 10:30", "2010-03-12", "2010-03-12T10:00", "2010-03-12 10:00:00", "31/02/2010",
    "2010-02-31", "2010", "40249", "40249.5", "12.03.2010", "3/4/2011", "١٢/٠٣/٢٠١٠", "hier", True,
]
LABELS = [
    "Agriculture", "agricole", "AGRICULTURE", "Agricultre", "Pêche au large", "Elevage", " Couture ", "Approuvé",
    "En cours", "en  cours", "Achevé", "Association", "Coopérative", "GIE", "Milieu rural", "Précarité",
    "Programme transversal", "Precarite", "Rural", "Urbain", "الفلاحة", "جمعية", "xyz", " ", "\u00a0", 12.0, True,
]
CODES = [
    "P-1", "TAO-0001", "SOUS-1", "Ensemble", "ensemble", "EN-1", "en", "Cumul", "cumul", "CU-3", "Total", "total",
    "TOTAL GENERAL", "TO-1", "to", "T0-1", "T-1", "S/Total", "s/total", "S-1", "S", "s", "S1", "S_1", "SO-2", "so",
    "Sous-total", "Grand total", "GR-1", "gr-12", "G-1", "E-1", "C-1", "-1", "#1", "(P-1)", "  P-2  ", "P  3",
    "P\u00a04", "P\t5", "ٍP-٤", "é-1", "12345", "x" * 200, 12345.0, 12.5, -3.0, 0.0, -0.0, 2.0**53 - 1, 2.0**53,
    2.0**53 + 2, 1e20, 1e308, True,
]
TEXTS = ["Rucher", "Atelier de couture", "Tissa  centre", " Ghafsai", "Ghafsai ", "a\u00a0b", "a\tb", "a\nb",
         "\u2003", " ", "x" * 300, 12.0, 2.5, True]
PROVINCES = ["Taounate", "MA-TAO", None, "  "]  # all of the submission's province: no row findings
OTHER_PROVINCES = ["Tanger-Assilah", "Atlantide", "taounate", "TAOUNATE ", 12.0, True]
HARD = {"amounts": AMOUNTS, "counts": COUNTS, "year": YEARS, "date": DATES, "labels": LABELS, "texts": TEXTS,
        "code": CODES, **{column: LABELS for column in GROUPS["labels"]}}
# Which columns each list fills; a label alone in its column too (a row with an unknown label in one
# column goes to the per-cell path, which would hide what the others do).
FILLS = {**GROUPS, **{column: (column,) for column in GROUPS["labels"]}}


def hard_rows() -> list[list[object]]:
    """A title line, the header, then for each kind of column one row per hard cell (the rest of the
    row clean), interleaved with blank, one-cell, two-cell, totals and sums rows."""
    rows = [["Royaume du Maroc — INDH"], HEADER]
    for group, cells in HARD.items():
        for index, cell in enumerate(cells):
            row = dict(BASE_ROW, project_code=f"{group[:3].upper()}-{index}")
            row.update({column: cell for column in FILLS[group]})
            if group == "year":  # no programme: the phase of a year outside the calendar has none to tell of
                row["programme"] = None
            if group == "code":
                row["project_code"] = cell
            rows.append([index, *(row[c] for c in COLUMNS), PROVINCES[index % len(PROVINCES)], None])
            if index % 9 == 4:
                rows.append([])
            elif index % 9 == 7:
                rows.append([None, "Milieu rural"])
            elif index % 17 == 5:
                rows.append([None, None, "Total", None, 1000.0])
            elif index % 17 == 11:
                rows.append([None, None, None, None, 1000.0, 600.0])
    # Each column alone missing from an otherwise clean row, then rows of a single cell in each.
    for number, column in enumerate(COLUMNS):
        rows.append([number, *(None if c == column else BASE_ROW[c] for c in COLUMNS), "Taounate", None])
    for number, column in enumerate(COLUMNS):
        rows.append([None, *(BASE_ROW[c] if c == column else None for c in COLUMNS), None, None])
    # A programme read from the row's year or the period's: years in and out of the phases.
    for number, (programme, year) in enumerate([(p, y) for p in ("Milieu rural", "Précarité", "Programme transversal",
                                                                 "Urbain") for y in (2006.0, 2013.0, 2021.0, 1995.0,
                                                                                     None, "abc")]):
        row = dict(BASE_ROW, project_code=f"PR-{number}", programme=programme, approval_year=year)
        rows.append([number, *(row[c] for c in COLUMNS), None, None])
    # The province column: names of other provinces, unknown ones, odd cells.
    for number, province in enumerate(OTHER_PROVINCES):
        row = dict(BASE_ROW, project_code=f"PV-{number}")
        rows.append([number, *(row[c] for c in COLUMNS), province, None])
    # Optional cells left blank (a space in a workbook): the row stays clean.
    for number, column in enumerate(("commune", "promoter_name", "promoter_contribution_mad",
                                     "partner_contribution_mad", "women", "start_date", "sector", "programme")):
        row = dict(BASE_ROW, project_code=f"BL-{number}", **{column: " "})
        rows.append([number, *(row[c] for c in COLUMNS), None, None])
    # Rows that differ only in the sign of a zero or a number's type, read once per distinct cell.
    for number, cell in enumerate([0.0, -0.0, 0.0, "0", -0.0, 1.0, True, 1.0, "1"]):
        row = dict(BASE_ROW, project_code=f"Z-{number}", beneficiaries=cell, total_cost_mad=cell, title=cell,
                   commune=cell)
        rows.append([number, *(row[c] for c in COLUMNS), None, None])
    return rows


def ooxml_escaped(cell: object) -> object:
    """A control character as OOXML writes it (``_x000B_``): openpyxl refuses it raw, readers decode it."""
    if isinstance(cell, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", cell)
    return cell


ROWS = hard_rows()
HIDDEN = [3, 4, 17, len(ROWS) - 1, len(ROWS)]  # the first data row, a blank row, the last rows


@pytest.fixture(scope="module")
def hard_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hard")
    write_xlsx(folder / "hard.xlsx", [[ooxml_escaped(cell) for cell in row] for row in ROWS], HIDDEN)
    write_text_table(folder / "hard.csv", ROWS)
    return folder


@pytest.mark.filterwarnings("error::RuntimeWarning")  # 1e308 x 100 overflows quietly, on purpose
@pytest.mark.parametrize("period_year", [2013, None, 2021])
def test_hard_cells_in_a_workbook_read_column_wise_as_cell_by_cell(hard_files, period_year):
    assert assert_same(hard_files / "hard.xlsx", period_year=period_year) > len(ROWS) / 2


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_hard_cells_in_a_text_table_read_column_wise_as_cell_by_cell(hard_files):
    assert assert_same(hard_files / "hard.csv") > len(ROWS) / 2


def clean_rows(sheet, hidden) -> list[int]:
    """The Excel rows of the per-cell path's sheet that the module's docstring says stay column-wise:
    rows with a code, without a finding of their own, not hidden, with every label read exactly."""
    with_findings = {finding.excel_row for finding in sheet.findings}
    labels = {index: LABEL_COLUMNS.get(column, "programme_kind") for index, column in sheet.columns.items()
              if column in (*LABEL_COLUMNS, "programme")}

    def exact(cells) -> bool:
        texts = {index: values.parse_text(cells[index]) for index in labels if index < len(cells)}
        return all(resolve_label(labels[index], text).how == "exact" for index, text in texts.items() if text)
    return [row["excel_row"] for row in sheet.rows
            if row["project_code"] is not None and row["excel_row"] not in with_findings
            and row["excel_row"] not in hidden and exact(row["cells"])]


@pytest.mark.parametrize("name", ["hard.xlsx", "hard.csv"])
def test_the_clean_rows_are_read_column_wise(hard_files, name):
    """The proofs above would pass if every row went to the per-cell path: the clean rows must not
    (a row read column-wise keeps no ``cells``; the per-cell path's rows do)."""
    path = hard_files / name
    old = normalise.read_project_sheets(read_file(path), "MA-TAO", 2013)[0][0]
    new = columnar.read_project_sheets(read_columns(path), "MA-TAO", 2013)[0][0]
    expected = clean_rows(old, HIDDEN if name.endswith("xlsx") else ())
    assert len(expected) > len(ROWS) / 3
    assert [row["excel_row"] for row in new.rows if "cells" not in row] == expected


def test_a_hidden_header_row_hides_no_data_row(tmp_path):
    row = dict(BASE_ROW)
    path = tmp_path / "hidden_header.xlsx"
    write_xlsx(path, [HEADER, [1, *(row[c] for c in COLUMNS), None, None], [2, *(row[c] for c in COLUMNS)]], [1])
    assert assert_same(path) == 2
    sheet = columnar.read_project_sheets(read_columns(path), "MA-TAO", 2013)[0][0]
    assert ["cells" in row for row in sheet.rows] == [False, False]


# --- what the vectorised readings claim ---------------------------------------------------------

FAST = {
    "project_code": ["TAO-0001", "P-1", "A", "X 12", "Z-9", 12345.0, 7.0, 0.0, 2.0**52],
    "title": ["Rucher collectif", "Atelier de couture", "Élevage ovin", "x"],
    "commune": ["Tissa", "Ghafsai", "Ain Aicha"],
    "promoter_name": ["Ahmed", "Coopérative Al Amal"],
    "amounts": [250000.0, 0.0, 1250.5, 0.29, 0.01, 1250.07, 9999999999.99, float(TOP_MAD), -5.0, "1 250 000,00", "1.250.000,00 DH", "1,250,000.00", "98 500 DH", "1250000", "0,25",
                "0,5", "1 250 000,00 dhs", "1,250,000.00 MAD", "1.250.000,00 Dh", "\u00a01\u00a0250\u202f000,50 ",
                "\t12\n", "1 250,00" + " " * 56, "1.250.000,50 DH", "1,250,000.05", "9999999999", "10 000 000 000,00", "10.000.000.000,00", "7 mad", "0" * 15],
    "counts": [12.0, 0.0, 1e6, "12", "0", "1000000", "0000012"],
    "approval_year": [2013.0, 2015.0, "2013", "2014", 1900.0, "2100"],
    "start_date": [dt.date(2010, 3, 12), dt.datetime(2013, 5, 1, 10, 30), dt.date(1990, 1, 1), dt.date(2100, 12, 31),
                   40249.0, 40249.5, float(FIRST), LAST + 0.5],
}
PARSERS = ("parse_code", "parse_amount", "parse_count", "parse_year", "parse_date")


def fast_rows(count: int = 40) -> list[list[object]]:
    """Clean rows of only the cells the module's docstring says are read by Arrow and numpy."""
    rows = [HEADER]
    for index in range(count):
        row = dict(BASE_ROW, **{column: FAST[column][index % len(FAST[column])]
                                for column in ("project_code", "title", "commune", "promoter_name", "approval_year",
                                               "start_date")})
        row["project_code"] = (f"{row['project_code']}-{index}" if isinstance(row["project_code"], str)
                               else row["project_code"] + index)
        if row["approval_year"] in (1900.0, "2100"):  # outside the phases: no programme to tell of
            row["programme"] = None
        for offset, column in enumerate(GROUPS["amounts"]):
            row[column] = FAST["amounts"][(index + offset * 7) % len(FAST["amounts"])]
        for offset, column in enumerate(GROUPS["counts"]):
            row[column] = FAST["counts"][(index + offset) % len(FAST["counts"])]
        rows.append([index, *(row[c] for c in COLUMNS), "Taounate", None])
    return rows


def parser_calls(monkeypatch, path, text_cells: bool) -> list:
    """The cells the column-wise path hands to the per-cell parsers (the real ones, called through)
    while it reads the rows (the header search reads the header cells with them too)."""
    calls, reading = [], []
    for name in PARSERS:
        def spy(cell, _name=name, _real=getattr(values, name)):
            if reading:
                calls.append((_name, cell))
            return _real(cell)
        monkeypatch.setattr(values, name, spy)

    def read_rows(*args, _real=columnar.read_rows):
        reading.append(True)
        _real(*args)
        reading.clear()
    monkeypatch.setattr(columnar, "read_rows", read_rows)
    sheets, _ = columnar.read_project_sheets(read_columns(path), "MA-TAO", 2013)
    monkeypatch.undo()
    assert all("cells" not in row for row in sheets[0].rows)  # none went to the per-cell path either
    assert len(sheets[0].rows) == 40
    # In a text table, number cells are written as Python writes floats ("12.0"), not a clerk's way.
    return [(name, cell) for name, cell in calls
            if not (text_cells and (name == "parse_date" or re.fullmatch(r"-?[0-9]+\.[0-9]+", cell)))]


def test_the_cells_the_docstring_names_are_read_without_the_per_cell_parsers(tmp_path, monkeypatch):
    path = tmp_path / "fast.xlsx"
    write_xlsx(path, fast_rows())
    assert_same(path)
    assert parser_calls(monkeypatch, path, text_cells=False) == []


def test_the_texts_of_a_text_table_are_read_without_the_per_cell_parsers(tmp_path, monkeypatch):
    """A text table has no number or date cells: amounts, counts, years and codes are read from their
    texts (dates, typed as text, go to the parser once per distinct text, and so do numbers written
    with a decimal point)."""
    path = write_text_table(tmp_path / "fast.csv", fast_rows())
    assert_same(path)
    assert parser_calls(monkeypatch, path, text_cells=True) == []


# --- sheets, headers and which reader a file goes to --------------------------------------------

def test_a_date_before_1900_is_read_column_wise_as_cell_by_cell(tmp_path):
    """A date cell before 1900 (openpyxl and LibreOffice write a negative serial, -18260 here):
    python-calamine gives the per-cell path ``time(0, 0)``, so no date and W_DATE_INVALID; fastexcel
    renders ``1850-01-02``, which :mod:`etl.columns` reads back as that time of day too (found by the
    mutation round of issue 13, when it loaded the date silently)."""
    row = dict(BASE_ROW, start_date=dt.date(1850, 1, 1))
    path = tmp_path / "old.xlsx"
    write_xlsx(path, [HEADER, [1, *(row[c] for c in COLUMNS), None, None]])
    assert_same(path)


@pytest.mark.parametrize("serial", [-700_000.5, -18_260.25, -1.25, -1, -0.25, 0, 0.5, 1, 1.5, 59, 60, 61,
                                    2_958_465, 2_958_466])
def test_date_formatted_serials_around_excels_range_read_column_wise_as_cell_by_cell(tmp_path, monkeypatch, serial):
    """A number formatted as a date, from far before Excel's epoch to past 9999-12-31: under 1
    python-calamine gives a time of day, past the last date the number; the column-wise path the same
    (past the last date, fastexcel reads no number: such a sheet goes to the per-cell reader)."""
    from openpyxl import load_workbook

    from etl.columns import LAST_DATE_SERIAL, ColumnReaderFailed

    path = tmp_path / "serial.xlsx"
    write_xlsx(path, [HEADER, [1, *(BASE_ROW[c] for c in COLUMNS), None, None]])
    book = load_workbook(path)
    sheet = book.active
    column = HEADER.index(next(h for h in HEADER if "marrage" in h)) + 1
    sheet.cell(2, column).value = serial
    sheet.cell(2, column).number_format = "yyyy-mm-dd hh:mm"
    book.save(path)
    if serial <= LAST_DATE_SERIAL:
        assert assert_same(path) == 1
        return
    with pytest.raises(ColumnReaderFailed):
        read_columns(path)
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    assert described(*columnar.read_file_sheets(path, "MA-TAO", 2013)) == described(
        *normalise.read_project_sheets(read_file(path), "MA-TAO", 2013))


def test_sheets_of_every_shape_in_one_workbook(tmp_path):
    """Two-line headers with merged group titles (one across a gap), a note sheet, an empty sheet, a header at the last
    row searched, a sheet without the optional columns, and sheets with no, one and two data rows."""
    import random

    from openpyxl import load_workbook

    from etl import sample

    path = tmp_path / "shapes.xlsx"
    sample.write_variant(path, sample.random_projects(random.Random(13), 3, "MA-TAO"),
                         sample.Layout(file_format="xlsx", title_rows=1, two_line_header=True, seed=1))
    book = load_workbook(path)
    # Merged over C:E, "Financement" is above "Porteur" across a gap: the promoter's contribution;
    # without the merge the title would stop at the gap and "Porteur" be the promoter.
    gap = book.create_sheet("Fusion")
    for cells in (["Code projet", "Intitulé du projet", "Financement", None, None], [None, None, "INDH", None, "Porteur"],
                  ["A-1", "Rucher", 10.0, None, 5.0]):
        gap.append(cells)
    gap.merge_cells("C1:E1")
    book.create_sheet("Note")["B2"] = "Voir l'onglet Projets"
    book.create_sheet("Vide")
    row = dict(BASE_ROW)
    project = [1, *(row[c] for c in COLUMNS)]
    required = ["project_code", "title", "total_cost_mad", "indh_contribution_mad"]
    for name, rows in (("Aucune", [HEADER]), ("Une", [HEADER, project]), ("Deux", [HEADER, project, [], project]),
                       ("Ligne 40", [[f"Note {i}"] for i in range(39)] + [HEADER, project]),
                       ("Obligatoires", [[sample.FRENCH_HEADERS[c] for c in required], [row[c] for c in required],
                                         ["P-2", "Rucher", 1000.0, 500.0]])):
        sheet = book.create_sheet(name)
        for cells in rows:
            sheet.append(cells)
    book.save(path)
    assert len(read_columns(path)[0].merged) == 3
    assert assert_same(path) == 3 + 1 + 1 + 2 + 1 + 2


def read_both_ways(path, period_year=2013):
    """``read_file_sheets`` (the reader it chooses) against the per-cell path; its sheets."""
    sheets, findings = columnar.read_file_sheets(path, "MA-TAO", period_year)
    assert described(sheets, findings) == described(*normalise.read_project_sheets(read_file(path), "MA-TAO",
                                                                                    period_year))
    return sheets


def column_wise(sheets) -> bool:
    return getattr(sheets[0], "source", None) is not None


def csv_of_size(path, size: int, long_cell: int = 0):
    """A small project table padded to exactly ``size`` bytes, with one cell ``long_cell`` long."""
    row = dict(BASE_ROW, title="Rucher" if not long_cell else "x" * long_cell)
    write_text_table(path, [HEADER, [1, *(row[c] for c in COLUMNS), None, None]])
    body = path.read_bytes()
    path.write_bytes(body + b"\n" * (size - len(body)))
    return path


def test_files_from_the_configured_size_on_are_read_column_wise(tmp_path, monkeypatch):
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "1")
    assert column_wise(read_both_ways(csv_of_size(tmp_path / "at.csv", 1024)))
    assert not column_wise(read_both_ways(csv_of_size(tmp_path / "under.csv", 1023)))
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "2")
    assert not column_wise(read_both_ways(csv_of_size(tmp_path / "at.csv", 2047)))


def test_a_text_table_with_a_cell_longer_than_excel_holds_is_read_cell_by_cell(tmp_path, monkeypatch):
    """The per-cell reader cuts such a cell and reports it; the column reader would not."""
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    assert not column_wise(read_both_ways(csv_of_size(tmp_path / "long.csv", 40_000, MAX_CELL_CHARS + 1)))
    assert not column_wise(read_both_ways(csv_of_size(tmp_path / "long.csv", 40_000, MAX_CELL_CHARS)))
    assert column_wise(read_both_ways(csv_of_size(tmp_path / "long.csv", 40_000, MAX_CELL_CHARS - 1)))


@pytest.mark.parametrize(("far", "columns"), [("IV3", True), ("IW3", False)])
def test_a_sheet_wider_than_columns_serve_is_read_cell_by_cell(tmp_path, monkeypatch, far, columns):
    """Column IV is the 256th (``COLUMNS_MAX_WIDTH``): a sheet reaching further is read cell by cell."""
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    row = dict(BASE_ROW)
    path = tmp_path / "wide.xlsx"
    write_xlsx(path, [HEADER, [1, *(row[c] for c in COLUMNS), None, None], [2, *(row[c] for c in COLUMNS)]])
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.active[far] = "x"
    book.save(path)
    assert column_wise(read_both_ways(path)) == columns


def test_a_sheet_fastexcel_stops_on_is_read_cell_by_cell(tmp_path, monkeypatch):
    """A date-formatted number far outside the calendar panics in fastexcel; the per-cell reader
    reads the sheet (the cell is reported)."""
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    row = dict(BASE_ROW, start_date=-1e13)
    path = tmp_path / "panic.xlsx"
    write_xlsx(path, [HEADER, [1, *(row[c] for c in COLUMNS), None, None], [2, *(BASE_ROW[c] for c in COLUMNS)]])
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.active["O2"].number_format = "yyyy-mm-dd"
    book.save(path)
    assert not column_wise(read_both_ways(path))
