"""The column-wise reader against the per-cell reader (the oracle): the same cells, exactly.

Every committed fixture, the sample generator's 75 provincial files, the layout variants of the
property tests and hypothesis-drawn sheets of hostile cells (numbers, texts that look like
numbers, dates, true/false, blanks, totals and sums rows) are read both ways.
"""
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from variant_support import write_layout_variants, write_provincial_files, write_text_table

from etl.columns import read_columns
from etl.read import UnreadableFile, read_file

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_FILES = sorted(p.name for p in FIXTURES.iterdir()
                       if p.suffix not in (".json", ".py") and not p.name.startswith("."))


def outcome(read, path):
    try:
        return read(path), None
    except UnreadableFile as exc:
        return None, (exc.rule_id, exc.params, exc.detail_fr)


def assert_same(path: Path, province: str = "MA-TAO"):
    """Read ``path`` both ways; the refusal, the sheets and every cell (type and value) are equal."""
    raw, refused = outcome(read_file, path)
    columns, refused_columns = outcome(read_columns, path)
    assert refused_columns == refused, path.name
    if raw is None:
        return None
    assert [(s.name, s.hidden, s.file_format, s.hidden_rows) for s in columns] == [
        (s.name, s.hidden, s.file_format, s.hidden_rows) for s in raw], path.name
    for old, new in zip(raw, columns):
        if not old.hidden:
            assert new.rows() == old.rows, (path.name, old.name)
            assert new.merged == list(old.merged or []), (path.name, old.name)
    return raw


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_every_fixture_reads_the_same_both_ways(name):
    assert_same(FIXTURES / name)


def test_the_generators_75_provincial_files_read_the_same_both_ways(tmp_path):
    for path, province in write_provincial_files(tmp_path):
        assert assert_same(path, province)


def test_layout_variants_read_the_same_both_ways(tmp_path):
    for path in write_layout_variants(tmp_path):
        assert_same(path)


HEADER = ["N°", "Code projet", "Intitulé du projet", "Coût global (DH)", "Contribution INDH",
          "Contribution porteur", "Autres partenaires", "Nombre de bénéficiaires", "Année d'approbation",
          "Date de démarrage", "Secteur d'activité", "Programme", "Province"]

texts_like_numbers = st.sampled_from([
    "1.125", "1,125", "12", "0.5", "1 250 000,00", "1.250.000,00 DH", "1,250,000.00", "(300)", "−500", "30 %",
    "٣٥", "2.5", "12,0", "2013", "1989", "40249", "40249.5", "12/03/2010", "2010-03-12 00:00:00",
    "2010-03-12 08:30:00", "true", "false", "TOTAL", "Total province", "المجموع", "  ", "", "abc", "1e5",
    "Agriculture", "Couture", "Milieu rural", "Taounate", "Tanger-Assilah", "Atlantide", "0,250", "0.0000001"])
numbers = st.one_of(st.integers(-10, 3_000_000).map(float), st.sampled_from(
    [1.125, 0.125, 1.005, 2.5, 12.0, 1989.0, 2013.0, 40249.0, 40249.75, 32874.0, 1e20, 1e-7, 0.3, -5.0]),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
dates = st.one_of(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(lambda d: d.replace(microsecond=0)),
                  st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)))
cells = st.one_of(st.none(), texts_like_numbers, numbers, dates, st.booleans(),
                  st.text(alphabet="aT0 1,.-", max_size=6))


@st.composite
def hostile_sheets(draw):
    rows = [["Royaume du Maroc"], [], HEADER]
    for index in range(draw(st.integers(1, 25))):
        row = draw(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)))
        if draw(st.booleans()):
            row[1] = f"P-{index}"
        rows.append(row)
    return rows


def _write_xlsx(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=hostile_sheets())
def test_hostile_cells_read_the_same_both_ways(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("hostile") / "projets.xlsx"
    _write_xlsx(path, rows)
    assert_same(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=hostile_sheets(), delimiter=st.sampled_from([";", ",", "\t"]))
def test_hostile_text_tables_read_the_same_both_ways(tmp_path_factory, rows, delimiter):
    path = tmp_path_factory.mktemp("hostile") / "projets.csv"
    assert_same(write_text_table(path, rows, delimiter))
