"""The column-wise normaliser against the per-cell one (the oracle): the same rows and findings.

Each file is read both ways: ``etl.read`` + ``etl.normalise`` (a Python object per cell, every cell
through ``etl.values``) and ``etl.columns`` + ``etl.columnar``. The sheets found, their headers,
every row (canonical values, Excel row, sheet, and the cells as read) and every finding (each
field, in order) must be equal: over every committed fixture, the sample generator's 75 files, its
layout variants, and hypothesis-drawn sheets of the cells the parsers find hard.
"""
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from variant_support import write_layout_variants, write_provincial_files, write_text_table

from etl import columnar, normalise, sample
from etl.columns import read_columns
from etl.read import UnreadableFile, read_file

pytestmark = pytest.mark.unit

TESTS = Path(__file__).parent
FILES = sorted(p for folder in ("fixtures", "corpus") for p in (TESTS / folder).iterdir()
               if p.suffix not in (".json", ".py") and not p.name.startswith("."))


def described(sheets, findings) -> list:
    """Everything a clerk, the checks and the load see of the normalised sheets."""
    result = [[dataclasses.astuple(f) for f in findings]]
    for sheet in sheets:
        result.append((sheet.name, sheet.header_row, sheet.headers, sheet.columns, sheet.skipped_rows,
                       sheet.subtotal_from, sheet.period_year,
                       [{k: (v, type(v)) for k, v in row.items() if k != "cells"} for row in sheet.rows],
                       [sheet.cells_as_read(row) for row in sheet.rows],
                       [dataclasses.astuple(f) for f in sheet.findings]))
    return result


def assert_same(path: Path, province: str = "MA-TAO", period_year: int | None = 2013) -> int:
    """Normalise ``path`` both ways; returns how many rows were read (to know the test read some)."""
    try:
        raw = read_file(path)
    except UnreadableFile:
        with pytest.raises(UnreadableFile):
            read_columns(path)
        return 0
    old = described(*normalise.read_project_sheets(raw, province, period_year))
    new = described(*columnar.read_project_sheets(read_columns(path), province, period_year))
    assert new[0] == old[0], path.name
    assert len(new) == len(old), path.name
    for new_sheet, old_sheet in zip(new[1:], old[1:]):
        assert new_sheet[:7] == old_sheet[:7], path.name
        for new_row, old_row in zip(new_sheet[7], old_sheet[7]):
            assert new_row == old_row, path.name
        assert new_sheet[7:] == old_sheet[7:], path.name
    return sum(len(sheet[7]) for sheet in old[1:])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_normalises_the_same_both_ways(path):
    assert_same(path)


def test_the_generators_75_provincial_files_normalise_the_same_both_ways(tmp_path):
    for path, province in write_provincial_files(tmp_path):
        assert assert_same(path, province)


def test_layout_variants_normalise_the_same_both_ways(tmp_path):
    for index, path in enumerate(write_layout_variants(tmp_path, both_languages=True)):
        assert assert_same(path, period_year=(None, 2013, 2021)[index % 3])


COLUMNS = ["project_code", "title", "commune", "promoter_name", "total_cost_mad", "indh_contribution_mad",
           "promoter_contribution_mad", "partner_contribution_mad", "beneficiaries", "women", "youth",
           "jobs_created", "approval_year", "start_date", "sector", "status", "promoter_type", "programme"]
HEADER = ["N°", *(sample.FRENCH_HEADERS[c] for c in COLUMNS), "Province", "Observations"]
AMOUNT_TEXTS = [
    "1 250 000,00", "1.250.000,00 DH", "1,250,000.00", "1\u00a0250\u00a0000,50", "1\u202f250,5", "98 500 DH",
    "1250000", "1250000,5", "1.250.000", "1,250,000", "-1.250.000,00", "-1 250,00", "(1 250,00)", "(1 250,00",
    "1 250,00)", "1٬250٬000", "١٢٥٠٠٠", "٣٥٫٥", "−500", "0,250", "0.125", "1,255", "1250000.005", "12,345",
    "1 250 000,00 dh", "1,250,000.00 MAD", " 1 250 ", "\t1250\n", "99999999999999999", "1e5", "30 %", "abc",
    "1 250 000,00 DHS", "1 250 000,00 درهم", "12.5", "0", "00012", "1.25.000", "1,25,000.00", "1  250"]
COUNT_TEXTS = ["12", "2.5", "12,0", "12.00", "1 200", "-3", "1000001", "٣٥", "0", "1.250", "abc", "12 "]
YEAR_TEXTS = ["2013", "2013.0", "1899", "2101", "13", "12/03/2013", "٢٠١٣", " 2014 ", "2013-05-01"]
DATE_TEXTS = ["12/03/2010", "12/03/2010 10:30", "2010-03-12", "2010-03-12T10:00", "31/02/2010", "2010",
              "40249", "40249.5", "12.03.2010", "3/4/2011", "١٢/٠٣/٢٠١٠", "hier"]
LABEL_TEXTS = ["Agriculture", "agricole", "AGRICULTURE", "Agricultre", "Pêche au large", "Elevage", " Couture ",
               "Approuvé", "En cours", "Achevé", "Association", "Coopérative", "GIE", "Milieu rural",
               "Précarité", "Programme transversal", "Precarite", "Rural", "الفلاحة", "جمعية"]
CODE_TEXTS = ["P-1", "TAO-0001", "SOUS-1", "Ensemble", "Cumul", "Total", "S/Total", "  P-2  ", "P  3", "ٍP-٤",
              "gr-12", "é-1", "12345"]
numbers = st.one_of(st.integers(-5, 3_000_000).map(float), st.sampled_from(
    [1.125, 0.125, 1.005, 2.675, 2.5, 12.0, 1989.0, 2013.0, 40249.0, 40249.75, 32874.0, 73415.9, 1e20, 1e-7,
     0.3, -5.0, 2.0**52, 2.0**53 + 2, 1e15 + 0.5, 1234567.891]))
dates = st.one_of(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0)), st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)))
anything = st.one_of(st.none(), numbers, dates, st.booleans(), st.sampled_from(
    AMOUNT_TEXTS + COUNT_TEXTS + YEAR_TEXTS + DATE_TEXTS + LABEL_TEXTS + CODE_TEXTS),
    st.text(alphabet="aT0 1,.-\u00a0٣", max_size=6))
TYPICAL = {
    "project_code": st.sampled_from(CODE_TEXTS), "title": st.sampled_from(["Atelier de couture", "Rucher", " ", ""]),
    "commune": st.sampled_from(["Ghafsai", "Tissa  centre", "Commune 3"]),
    "promoter_name": st.sampled_from(["Coopérative Al Amal", "Ahmed"]),
    "approval_year": st.one_of(st.integers(2003, 2024).map(float), st.sampled_from(YEAR_TEXTS)),
    "start_date": st.one_of(dates, st.sampled_from(DATE_TEXTS), st.sampled_from([40249.0, 40249.5, 2013.0])),
    "sector": st.sampled_from(LABEL_TEXTS), "status": st.sampled_from(LABEL_TEXTS),
    "promoter_type": st.sampled_from(LABEL_TEXTS), "programme": st.sampled_from(LABEL_TEXTS),
}
for _column in ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad", "partner_contribution_mad"):
    TYPICAL[_column] = st.one_of(numbers, st.sampled_from(AMOUNT_TEXTS))
for _column in ("beneficiaries", "women", "youth", "jobs_created"):
    TYPICAL[_column] = st.one_of(st.integers(0, 2000).map(float), st.sampled_from(COUNT_TEXTS))


@st.composite
def project_sheets(draw):
    """A title block, the header, then project rows, blank, section, totals and unlabelled sums rows."""
    rows = [["Royaume du Maroc — INDH"], [], HEADER]
    costs = []
    for index in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["project"] * 6 + ["blank", "section", "totals", "sums", "hostile"]))
        if kind == "blank":
            rows.append([])
        elif kind == "section":
            rows.append([None, draw(st.sampled_from(["Milieu rural", "Commune de Ghafsai", "Note : chiffres 2013"]))])
        elif kind == "totals":
            label = draw(st.sampled_from(sample.TOTALS_LABELS + ("Total province", "Ensemble", "Cumul")))
            rows.append([None, None, label, None, float(sum(costs))])
        elif kind == "sums":
            rows.append([None, None, None, None, float(sum(costs)), 1000.0])
        else:
            cells = {c: draw(TYPICAL[c]) for c in COLUMNS} if kind == "project" else {
                c: draw(anything) for c in COLUMNS}
            if kind == "project" and draw(st.booleans()):
                cells["project_code"] = f"P-{index}"
            row = [index + 1, *(cells[c] for c in COLUMNS),
                   draw(st.sampled_from(["Taounate", "MA-TAO", None, "Tanger-Assilah", "Atlantide", "  "])), None]
            costs.append(cells["total_cost_mad"] if isinstance(cells["total_cost_mad"], float) else 0)
            rows.append(row)
    return rows


def write_xlsx(path, rows, hidden_rows=(), hidden_sheet_first=False):
    from openpyxl import Workbook

    book = Workbook()
    if hidden_sheet_first:
        old = book.active
        old.title = "Ancienne version"
        old.append(HEADER)
        old.append([1, "OLD-1", "Ancien projet", "Ghafsai", "x", 1000.0, 500.0])
        old.sheet_state = "hidden"
        sheet = book.create_sheet("Projets AGR")
    else:
        sheet = book.active
    for row in rows:
        sheet.append(row)
    for excel_row in hidden_rows:
        sheet.row_dimensions[excel_row].hidden = True
    book.save(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=project_sheets(), hidden=st.lists(st.integers(4, 33), max_size=4), hidden_sheet=st.booleans(),
       period_year=st.sampled_from([None, 2013, 2021]))
def test_drawn_workbooks_normalise_the_same_both_ways(tmp_path_factory, rows, hidden, hidden_sheet, period_year):
    path = tmp_path_factory.mktemp("drawn") / "projets.xlsx"
    write_xlsx(path, rows, hidden, hidden_sheet)
    assert_same(path, period_year=period_year)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=project_sheets(), delimiter=st.sampled_from([";", ",", "\t"]))
def test_drawn_text_tables_normalise_the_same_both_ways(tmp_path_factory, rows, delimiter):
    path = tmp_path_factory.mktemp("drawn") / "projets.csv"
    assert_same(write_text_table(path, rows, delimiter))


BASE_ROW = {"project_code": "P", "title": "Rucher", "commune": "Ghafsai", "promoter_name": "Ahmed",
            "total_cost_mad": "1 000", "indh_contribution_mad": "600", "promoter_contribution_mad": "300",
            "partner_contribution_mad": 100.0, "beneficiaries": "3", "women": 1.0, "youth": "1", "jobs_created": 2.0,
            "approval_year": "2013", "start_date": "12/03/2013", "sector": "Agriculture", "status": "En cours",
            "promoter_type": "GIE", "programme": "Milieu rural"}
GROUPS = {"amounts": ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                      "partner_contribution_mad"),
          "counts": ("beneficiaries", "women", "youth", "jobs_created"), "year": ("approval_year",),
          "date": ("start_date",), "labels": ("sector", "status", "promoter_type", "programme"),
          "texts": ("title", "commune", "promoter_name"), "code": ("project_code",)}


def test_the_hard_cells_are_read_column_wise_as_cell_by_cell(tmp_path):
    """Each hard cell in each kind of column of an otherwise clean row: the same values and findings."""
    rows = [HEADER]
    hard = AMOUNT_TEXTS + COUNT_TEXTS + YEAR_TEXTS + DATE_TEXTS + LABEL_TEXTS + CODE_TEXTS + [
        1.125, 0.125, 1.005, 2.675, 1234567.891, 2.0**52, 1e20, 40249.75, 2013.0, -5.0, 12.0, 2.5]
    for index, cell in enumerate(hard):
        for group, columns in GROUPS.items():
            row = dict(BASE_ROW, project_code=f"{group[:2].upper()}-{index}")
            row.update({column: cell for column in columns})
            rows.append([index, *(row[c] for c in COLUMNS), "Taounate" if index % 2 else None, None])
    path = tmp_path / "hard.xlsx"
    write_xlsx(path, rows)
    assert assert_same(path) > len(rows) / 2
    assert assert_same(write_text_table(tmp_path / "hard.csv", rows)) > len(rows) / 2


# --- which reader a file goes to -------------------------------------------------------------

def test_a_sheet_wider_than_columns_serve_is_read_cell_by_cell(tmp_path, monkeypatch):
    """A far reference (XFD) makes 16,384 columns of 20 rows: a column each would cost seconds."""
    from bench.fuzz import good_row, project_workbook
    from etl.columns import TooWideForColumns

    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    path = tmp_path / "far.xlsx"
    path.write_bytes(project_workbook([good_row(i) for i in range(19)], far=[("XFD20", 1)]))
    with pytest.raises(TooWideForColumns):
        read_columns(path, max_columns=columnar.COLUMNS_MAX_WIDTH)
    assert described(*columnar.read_file_sheets(path, "MA-TAO", 2013)) == described(
        *normalise.read_project_sheets(read_file(path), "MA-TAO", 2013))


def test_a_refusal_by_the_column_reader_is_final(tmp_path, monkeypatch):
    """Both readers refuse the same files for the same reasons: a refused file is not read twice."""
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    path = tmp_path / "wide.csv"
    path.write_bytes(("Code projet;Coût global\r\n" + ";" * 7_000_000).encode())

    def second_read(*args):
        raise AssertionError("the per-cell reader read a file the column reader refused")

    monkeypatch.setattr(columnar, "read_file", second_read)
    with pytest.raises(UnreadableFile) as refused:
        columnar.read_file_sheets(path, "MA-TAO", 2013)
    assert refused.value.rule_id == "FILE_SHEET_TOO_LARGE"


def test_a_sheet_fastexcel_panics_on_goes_to_the_per_cell_reader(tmp_path, monkeypatch):
    from bench.fuzz import good_row, project_workbook
    from etl.columns import ColumnReaderFailed

    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "0")
    rows = [good_row(i) for i in range(3)]
    rows[1][4] = -1e13  # a date-formatted number the Rust readers panic on
    path = tmp_path / "panic.xlsx"
    path.write_bytes(project_workbook(rows, formats={"E3": "yyyy-mm-dd"}))
    with pytest.raises(ColumnReaderFailed):
        read_columns(path)
    sheets, _ = columnar.read_file_sheets(path, "MA-TAO", 2013)
    assert [row["excel_row"] for row in sheets[0].rows] == [2, 4]


@pytest.mark.parametrize(("size_kb", "columns"), [(0, True), (1_000_000, False)])
def test_files_from_the_configured_size_are_read_column_wise(tmp_path, monkeypatch, size_kb, columns):
    from bench.fuzz import good_row, project_workbook

    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", str(size_kb))
    path = tmp_path / "small.xlsx"
    path.write_bytes(project_workbook([good_row(i) for i in range(5)]))
    sheets, _ = columnar.read_file_sheets(path, "MA-TAO", 2013)
    assert (getattr(sheets[0], "source", None) is not None) == columns
