"""Property: random projects written through random layouts, encodings and formats read back exactly."""
import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import sample
from etl.normalise import read_project_sheets
from etl.read import read_file
from etl.values import parse_amount, parse_date

pytestmark = pytest.mark.unit

COLUMNS = list(sample.FRENCH_HEADERS)


@st.composite
def layouts(draw):
    file_format = draw(st.sampled_from(sample.FILE_FORMATS))
    language = draw(st.sampled_from(["fr", "ar", "en"]))
    encoding = "utf-8"
    if file_format == "csv":
        # A legacy code page holds one script: Windows-1256 for Arabic files, 1252 for French ones.
        encoding = draw(st.sampled_from({"ar": ["utf-8", "utf-8-sig", "cp1256", "utf-16"]}.get(
            language, ["utf-8", "utf-8-sig", "cp1252", "utf-16"])))
    optional = [c for c in COLUMNS if c not in ("project_code", "title", "total_cost_mad", "indh_contribution_mad")]
    kept = draw(st.lists(st.sampled_from(optional), unique=True, min_size=4, max_size=len(optional)))
    if "programme" in kept and "approval_year" not in kept:
        kept.append("approval_year")  # the programme's phase is told by the approval year
    columns = draw(st.permutations(["project_code", "title", "total_cost_mad", "indh_contribution_mad",
                                    "promoter_contribution_mad", *[c for c in kept if c != "promoter_contribution_mad"]]))
    return sample.Layout(
        file_format=file_format, encoding=encoding, language=language,
        delimiter=draw(st.sampled_from(sample.CSV_DELIMITERS)),
        header_case=draw(st.sampled_from(["as_typed", "upper", "no_accents", "spaced"])),
        header_variants=draw(st.booleans()), columns=list(columns),
        title_rows=draw(st.integers(0, 4)), two_line_header=draw(st.booleans()),
        numbering_column=draw(st.booleans()), blank_column=draw(st.booleans()),
        blank_every=draw(st.integers(0, 5)), section_rows=draw(st.booleans()),
        totals_label=draw(st.sampled_from([None, *(label for label in sample.TOTALS_LABELS
                                                    if encoding != "cp1252" or label.isascii())])),
        amount_styles=tuple(draw(st.lists(st.sampled_from(sample.AMOUNT_STYLES), min_size=1, unique=True))),
        date_styles=tuple(draw(st.lists(st.sampled_from(sample.DATE_STYLES), min_size=1, unique=True))),
        cover_sheet=draw(st.booleans()), hidden_sheet=draw(st.booleans()) and file_format in ("xlsx", "xls"),
        hidden_rows=draw(st.booleans()) and file_format in ("xlsx", "xlsm"),
        seed=draw(st.integers(0, 2**16)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), count=st.integers(1, 25), seed=st.integers(0, 2**16))
def test_any_layout_reads_back_the_same_canonical_rows(tmp_path_factory, layout, count, seed):
    projects = sample.random_projects(random.Random(seed), count, "MA-TAO", language=layout.language)
    path = tmp_path_factory.mktemp("variant") / f"projets.{layout.file_format}"
    expected = sample.write_variant(path, projects, layout)
    sheets, _ = read_project_sheets(read_file(path), "MA-TAO")
    written = set(layout.columns)
    keys = [k for k in expected[0] if k == "excel_row" or k.removesuffix("_code") in written
            or k in ("project_code", "sheet")]
    got = [{**{k: row.get(k) for k in keys if k != "sheet"}, "sheet": sheet.name}
           for sheet in sheets for row in sheet.rows]
    assert got == [{k: row[k] for k in keys} for row in expected]
    problems = [(f.rule_id, f.excel_row, f.column_header, f.value) for s in sheets for f in s.findings
                if f.severity != "info"]
    assert problems == []


@given(cents=st.integers(0, 10**12), style=st.sampled_from(sample.AMOUNT_STYLES))
def test_every_amount_style_reads_to_the_centime(cents, style):
    assert parse_amount(sample._amount_text(cents, style)) == (cents, None)


@given(day=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)), style=st.sampled_from(sample.DATE_STYLES))
def test_every_date_style_reads_to_the_day(day, style):
    assert parse_date(sample._date_cell(day, style)) == (day, None)
