"""Every way a file is refused gives its reason in Arabic too (what the Arabic pages and reports show).

The refusals are generated, one per refusal rule of the catalogue (every ``file``-scoped error):
a rule added to the catalogue without a case here fails the test.
"""
import datetime as dt
import io
import os
import re

import pytest
from openpyxl import Workbook
from test_read_refusals import CASES

from bench.fuzz import _ods_cell, _ods_row, ods_document
from etl import reference
from etl.examine import examine
from etl.findings import LRM
from etl.ingest import entry_refusal, landing_entries, unreadable_refusal
from etl.isolate import ChildFailed, WorkerLimits, run_isolated

pytestmark = pytest.mark.unit
ARABIC = re.compile(r"[\u0600-\u06ff]")
HEADER = ["Code projet", "Intitulé du projet", "Coût global (DH)", "Contribution INDH"]


ROWS = tuple((f"P-{i}", "Rucher", 1000, 700) for i in range(3))


def workbook(header=HEADER, rows=ROWS, extra=None) -> bytes:
    book = Workbook()
    book.active.append(list(header) + ([extra[0]] if extra else []))
    for row in rows:
        book.active.append(list(row) + ([extra[1]] if extra else []))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def examined(tmp_path, name, data, province="MA-TAO", period="2013"):
    path = tmp_path / name
    path.write_bytes(data)
    return examine(path, province, period)


def from_case(name):
    """A file of tests/test_read_refusals.py (same limits as there: 1 MB, 50 rows)."""
    def make(tmp_path, monkeypatch):
        monkeypatch.setenv("IGA_MAX_FILE_MB", "1")
        monkeypatch.setenv("IGA_MAX_ROWS", "50")
        monkeypatch.setenv("IGA_MAX_UNCOMPRESSED_MB", "100")
        return examined(tmp_path, name, CASES[name][0]())
    return make


def landing(tmp_path, make_entry):
    """The refusal ingest records for the one entry ``make_entry`` puts in a landing folder."""
    folder = tmp_path / "landing" / "MA-TAO" / "2013"
    folder.mkdir(parents=True)
    make_entry(folder)
    (entry,) = landing_entries(tmp_path / "landing")
    return entry


def unreadable(tmp_path, _monkeypatch):
    entry = landing(tmp_path, lambda folder: (folder / "plante.xlsx").write_bytes(workbook()))
    with pytest.raises(ChildFailed) as failed:  # the reader's process killed: what ingest records
        run_isolated(os.abort, limits=WorkerLimits(memory_bytes=256 * 1024 * 1024, timeout_s=30))
    return unreadable_refusal(entry, failed.value)


REFUSALS = {
    "FILE_UNREADABLE": unreadable,
    "FILE_EMPTY": from_case("empty.xlsx"),
    "FILE_CORRUPT": from_case("truncated.xlsx"),
    "FILE_ENCRYPTED": from_case("password.xlsx"),
    "FILE_NOT_SPREADSHEET": from_case("scan.xlsx"),
    "FILE_ZIP_BOMB": from_case("bomb.xlsx"),
    "FILE_TOO_LARGE": from_case("big.xlsx"),
    "FILE_TOO_MANY_ROWS": from_case("long.csv"),
    "FILE_NO_HEADER": from_case("letter.csv"),
    "FILE_SHEET_TOO_LARGE": lambda tmp_path, _: examined(
        tmp_path, "wide.ods", ods_document(_ods_row(_ods_cell(1, 16_384), 1_000))),
    "FILE_MISSING_COLUMN": lambda tmp_path, _: examined(
        tmp_path, "columns.xlsx", workbook(HEADER[:3], [("P-1", "Rucher", 1000)])),
    "FILE_NO_ROWS": lambda tmp_path, _: examined(tmp_path, "header.xlsx", workbook(rows=())),
    "FILE_PROVINCE_UNKNOWN": lambda tmp_path, _: examined(tmp_path, "ok.xlsx", workbook(), province="INCONNU"),
    "FILE_PERIOD_INVALID": lambda tmp_path, _: examined(tmp_path, "ok.xlsx", workbook(), period="2013-14"),
    "FILE_PERIOD_FUTURE": lambda tmp_path, _: examined(tmp_path, "ok.xlsx", workbook(), period=str(dt.date.today().year + 1)),
    "FILE_PROVINCE_MISMATCH": lambda tmp_path, _: examined(
        tmp_path, "berkane.xlsx", workbook(extra=("Province", "Berkane"))),
    "FILE_NAME_INVALID": lambda tmp_path, _: entry_refusal(
        landing(tmp_path, lambda folder: (folder / ("n" * 230 + ".xlsx")).write_bytes(b"x"))),
    "FILE_NOT_REGULAR": lambda tmp_path, _: entry_refusal(
        landing(tmp_path, lambda folder: (folder / "raccourci.xlsx").symlink_to("/etc/passwd"))),
}


def test_every_refusal_rule_of_the_catalogue_has_a_generated_case():
    refusal_rules = {rule_id for rule_id, rule in reference.rules().items()
                     if rule.scope == "file" and rule.severity == "error"}
    assert refusal_rules == set(REFUSALS)


def assert_arabic_reason(exam):
    french, arabic = exam.reason_text(), exam.reason_text("ar")
    assert french and arabic and arabic != french
    assert ARABIC.search(arabic)  # (a French reason may quote an Arabic header)
    assert "{" not in arabic  # every placeholder filled
    return french, arabic


@pytest.mark.parametrize("rule_id", sorted(REFUSALS))
def test_each_refusal_has_its_reason_in_arabic(tmp_path, monkeypatch, rule_id):
    exam = REFUSALS[rule_id](tmp_path, monkeypatch)
    assert exam.status == "refused" and exam.refused_reason.rule_id == rule_id
    french, arabic = assert_arabic_reason(exam)
    assert (french, arabic) == exam.refused_reason.messages()


def test_a_file_whose_every_row_is_wrong_says_so_in_arabic(tmp_path):
    exam = examined(tmp_path, "negatifs.xlsx", workbook(rows=[(f"P-{i}", "Rucher", -1000, 700) for i in range(3)]))
    assert exam.status == "refused" and exam.refused_reason is None and len(exam.rejected) == 3
    assert "toutes les lignes" in assert_arabic_reason(exam)[0]


def test_figures_in_an_arabic_reason_keep_their_reading_order(tmp_path, monkeypatch):
    """A cell reference (letters then digits) is one left-to-right run in the Arabic text."""
    exam = REFUSALS["FILE_SHEET_TOO_LARGE"](tmp_path, monkeypatch)
    assert f"{LRM}XFD1000{LRM}" in exam.reason_text("ar") and LRM not in exam.reason_text()


def test_a_loaded_file_has_no_reason_in_either_language(tmp_path):
    exam = examined(tmp_path, "ok.xlsx", workbook())
    assert exam.status == "loaded" and exam.reason_text() is None and exam.reason_text("ar") is None
