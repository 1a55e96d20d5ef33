"""Reading and checking one file, without a warehouse (what `iga check` does)."""
import datetime as dt

import pytest
from openpyxl import Workbook

from etl.examine import examine
from etl.sample import generate

pytestmark = pytest.mark.unit

HEADER = ["N°", "Code projet", "Intitulé du projet", "Coût global (DH)", "Contribution INDH",
          "Contribution porteur", "Nombre de bénéficiaires", "Dont femmes", "Année d'approbation",
          "Date de démarrage", "Secteur d'activité", "Observations"]


def workbook(path, rows, title_rows=3):
    book = Workbook()
    sheet = book.active
    sheet.title = "AGR"
    for i in range(title_rows):
        sheet.append([f"Royaume du Maroc — ligne de titre {i + 1}"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_title_block_totals_and_blank_rows_are_not_projects(tmp_path):
    path = workbook(tmp_path / "agr.xlsx", [
        [1, "TAO-1", "Rucher", "100 000,00", "70 000,00", "30 000,00", 10, 4, 2010, "12/03/2010", "Apiculture", ""],
        [],
        ["", "Programme transversal"],  # a section heading
        [2, "TAO-2", "Couture", 200000, 140000, 60000, 20, 20, "2011", dt.date(2011, 5, 2), "Couture", "ok"],
        ["", "TOTAL GENERAL", "", 300000, 210000, 90000, 30, 24],
    ])
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "loaded"
    assert [(sheet.name, row["excel_row"], row["project_code"]) for sheet, row in exam.rows] == [
        ("AGR", 5, "TAO-1"), ("AGR", 8, "TAO-2")]
    first = exam.rows[0][1]
    assert first["total_cost_mad"] == 10_000_000
    assert first["start_date"] == dt.date(2010, 3, 12)
    assert first["sector_code"] == "BEEKEEPING"
    # An unmapped column is reported as information, not loaded.
    assert [(f.rule_id, f.column_header) for f in exam.findings] == [("COLUMN_UNMAPPED", "N°"),
                                                                     ("COLUMN_UNMAPPED", "Observations")]


def test_each_wrong_cell_is_reported_at_its_excel_row(tmp_path):
    path = workbook(tmp_path / "agr.xlsx", [
        [1, "TAO-1", "Rucher", "100 000,00", "170 000,00", "30 000,00", 10, 4, 2010, None, "Apiculture"],
        [2, "TAO-2", "Couture", "cent mille", 70000, 30000, 10, 12, 2011, None, "Couture"],
        [3, None, "Sans code", 1000, 700, 300, 1, 0, 2011, None, "Couture"],
        [4, "TAO-4", "Ancien", 1000, 700, 300, 1, 0, 2001, None, "Couture"],
        [5, "TAO-5", "Bon", 1000, 700, 300, 1, 0, 2012, "pas de date", "Inconnu"],
    ])
    exam = examine(path, "MA-TAO", "2013")
    errors = {(f.excel_row, f.rule_id, f.column_header) for f in exam.findings if f.severity == "error"}
    assert errors == {
        (5, "E_INDH_ABOVE_TOTAL", "Contribution INDH"),
        (6, "E_AMOUNT_INVALID", "Coût global (DH)"),
        (6, "E_WOMEN_ABOVE_BENEFICIARIES", "Dont femmes"),
        (7, "E_CODE_MISSING", "Code projet"),
        (8, "E_YEAR_OUT_OF_RANGE", "Année d'approbation"),
    }
    warnings = {(f.excel_row, f.rule_id) for f in exam.findings if f.severity == "warning"}
    assert {(9, "W_DATE_INVALID"), (9, "W_LABEL_UNKNOWN")} <= warnings
    assert exam.status == "partial"
    assert [row["project_code"] for _, row in exam.rows] == ["TAO-5"]
    invalid = next(f for f in exam.findings if f.rule_id == "E_AMOUNT_INVALID")
    assert invalid.value == "cent mille"
    message_fr, message_ar = invalid.messages()
    assert "cent mille" in message_fr and "cent mille" in message_ar


def test_generated_files_report_exactly_the_wrong_rows(tmp_path):
    expected = generate(tmp_path, provinces=["MA-TAO", "MA-BER", "MA-ERR", "MA-CHE"], errors_per_file=6)
    for path in expected.files:
        exam = examine(path, path.parent.parent.name, path.parent.name)
        error_rows = sorted({f.excel_row for f in exam.findings if f.severity == "error"})
        assert error_rows == expected.wrong_rows[str(path)], path.name
        assert len(exam.rows) == expected.provinces[path.parent.parent.name].projects


@pytest.mark.parametrize("content, rule", [
    (b"", "FILE_EMPTY"),
    (b"PK\x03\x04 this is not really a workbook", "FILE_CORRUPT"),
    (b"<html><body>Export</body></html>", "FILE_NOT_SPREADSHEET"),
    ("Bonjour,\nvoici nos projets.\n".encode(), "FILE_NO_HEADER"),
])
def test_unreadable_files_are_refused_with_a_reason(tmp_path, content, rule):
    path = tmp_path / "projets.xlsx"
    path.write_bytes(content)
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "refused"
    assert exam.refused_reason.rule_id == rule
    assert exam.reason_text()


def test_missing_required_column_names_it_in_both_languages(tmp_path):
    path = tmp_path / "projets.csv"
    path.write_text("Code projet;Intitulé du projet;Coût global\nA1;Rucher;1000\n", encoding="utf-8")
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "refused"
    message_fr, message_ar = exam.refused_reason.messages()
    assert "Contribution INDH" in message_fr and "مساهمة المبادرة" in message_ar


def test_csv_in_windows_1256_with_arabic_headers(tmp_path):
    text = ("رمز المشروع;عنوان المشروع;الكلفة الإجمالية;مساهمة المبادرة الوطنية للتنمية البشرية;عدد المستفيدين\n"
            "BER-1;تعاونية;1 250 000,00;875 000,00;12\n"
            "المجموع;;1 250 000,00;875 000,00;12\n")
    path = tmp_path / "projets.csv"
    path.write_bytes(text.encode("cp1256"))
    exam = examine(path, "MA-BER", "2014-Q2")
    assert exam.status == "loaded"
    assert [(row["project_code"], row["total_cost_mad"], row["beneficiaries"]) for _, row in exam.rows] == [
        ("BER-1", 125_000_000, 12)]


def test_bad_folder_names_refuse_the_file(tmp_path):
    path = workbook(tmp_path / "agr.xlsx", [])
    assert examine(path, "Atlantis", "2013").refused_reason.rule_id == "FILE_PROVINCE_UNKNOWN"
    assert examine(path, "MA-TAO", "2013-14").refused_reason.rule_id == "FILE_PERIOD_INVALID"
    assert examine(path, "MA-TAO", "2013").refused_reason.rule_id == "FILE_NO_ROWS"


def test_a_refusal_detail_reaches_each_message_in_its_own_language():
    from etl.findings import Finding

    message_fr, message_ar = Finding("FILE_UNREADABLE", params={
        "detail": "le classeur est vide", "detail_ar": "المصنف فارغ"}).messages()
    assert message_fr.endswith("le classeur est vide") and message_ar.endswith("المصنف فارغ")
    # Without an Arabic detail, the one detail serves both (a technical message, e.g. calamine's).
    assert Finding("FILE_CORRUPT", params={"detail": "zip: bad CRC"}).messages()[1].endswith("zip: bad CRC")
