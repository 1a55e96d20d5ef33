"""Files of every kind a province sends, read to the exact canonical rows (or findings on cells)."""
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from etl.examine import examine
from etl.normalise import read_project_sheets
from etl.read import choose_delimiter, decode_text, read_file

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures"
GENERATED = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def canonical(sheet_name, row, keys):
    got = {key: row.get(key) for key in keys if key != "sheet"}
    got["sheet"] = sheet_name
    return got


def expected_rows(name):
    data = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    for row in data["rows"]:
        row["start_date"] = dt.date.fromisoformat(row["start_date"])
    return data["province"], data["rows"]


@pytest.mark.parametrize("name", GENERATED)
def test_committed_fixtures_load_to_the_centime(name):
    province, expected = expected_rows(name)
    exam = examine(FIXTURES / name, province, "2013")
    assert exam.status == "loaded", exam.reason_text()
    assert [canonical(sheet.name, row, expected[0]) for sheet, row in exam.rows] == expected
    assert [f.rule_id for f in exam.findings if f.severity != "info"] == []
    assert sum(row["total_cost_mad"] for _, row in exam.rows) == sum(r["total_cost_mad"] for r in expected)


def test_the_format_is_told_by_content_not_extension():
    assert read_file(FIXTURES / "csv_saved_as.xlsx")[0].file_format == "csv"
    assert read_file(FIXTURES / "xlsx_saved_as.xls")[0].file_format == "xlsx"
    assert read_file(FIXTURES / "berkane_arabic.xls")[0].file_format == "xls"
    assert read_file(FIXTURES / "errachidia.ods")[0].file_format == "ods"


def test_hidden_and_other_sheets_are_named_not_loaded():
    exam = examine(FIXTURES / "taounate_two_line_header.xlsx", "MA-TAO", "2013")
    assert [sheet.name for sheet in exam.sheets] == ["Projets AGR"]
    info = {(f.rule_id, f.value) for f in exam.findings if f.severity == "info"}
    assert {("SHEET_HIDDEN", "Ancienne version"), ("SHEET_SKIPPED", "Présentation"),
            ("COLUMN_UNMAPPED", "N°")} <= info


def test_hand_made_windows_1252_csv_with_every_trap():
    """Typed as a clerk's Excel saves « CSV (séparateur : point-virgule) » on a French Windows."""
    exam = examine(FIXTURES / "hand_taounate_cp1252.csv", "MA-TAO", "2013")
    rows = [(row["excel_row"], row["project_code"], row["title"], row["total_cost_mad"],
             row["indh_contribution_mad"], row["promoter_contribution_mad"], row["start_date"])
            for _, row in exam.rows]
    assert rows == [
        (6, "TAO-001", "Unité de valorisation du lait", 125_000_000, 87_500_000, 37_500_000, dt.date(2010, 3, 12)),
        (7, "TAO-002", "Atelier de couture", 9_850_050, 6_895_035, 2_955_015, dt.date(2011, 5, 2)),
        (10, "TAO-004", "Pressoir d'huile d'olive", 110_000_000, 77_000_000, 33_000_000, dt.date(2013, 1, 1)),
    ]
    cells = {(f.rule_id, f.sheet, f.excel_row, f.column_header, f.value) for f in exam.findings}
    assert cells == {
        ("COLUMN_UNMAPPED", "hand_taounate_cp1252", 5, "N°", "N°"),
        ("COLUMN_UNMAPPED", "hand_taounate_cp1252", 5, "Observations", "Observations"),
        ("E_AMOUNT_INVALID", "hand_taounate_cp1252", 9, "Coût global (DH)", "à compléter"),
        ("E_AMOUNT_PERCENT", "hand_taounate_cp1252", 9, "Contribution porteur", "30 %"),
        ("W_DATE_YEAR_ONLY", "hand_taounate_cp1252", 9, "Date de démarrage", "2012"),
    }
    assert [row["project_code"] for _, row in exam.rejected] == ["TAO-003"]  # refused, kept, not zeroed


def test_several_project_sheets_each_load(tmp_path):
    book = Workbook()
    header = ["Code projet", "Intitulé", "Coût global", "Contribution INDH"]
    for title, rows in (("Phase 1", [["P1-1", "Rucher", 1000, 700]]),
                        ("Phase 2", [["P2-1", "Couture", "2 000,50", 1400], ["P2-2", "Four", 300, 210]])):
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    book.remove(book["Sheet"])
    book.save(tmp_path / "phases.xlsx")
    exam = examine(tmp_path / "phases.xlsx", "MA-TAO", "2013")
    assert [(sheet.name, row["excel_row"], row["project_code"], row["total_cost_mad"]) for sheet, row in exam.rows] == [
        ("Phase 1", 2, "P1-1", 100_000), ("Phase 2", 2, "P2-1", 200_050), ("Phase 2", 3, "P2-2", 30_000)]


def test_header_starting_anywhere_with_blank_rows_and_columns(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet["D7"] = "  CODE   PROJET "
    sheet["F7"] = "intitule du projet"
    sheet["G7"] = "Montant en MAD"
    sheet["H7"] = "Part INDH [DH]"
    sheet["D9"] = "X-1"
    sheet["F9"] = "Gîte"
    sheet["G9"] = "1 250 000 DH"
    sheet["H9"] = "٨٧٥٠٠٠"
    book.save(tmp_path / "far.xlsx")
    raw = read_file(tmp_path / "far.xlsx")
    sheets, _ = read_project_sheets(raw, "MA-TAO")
    assert sheets[0].header_row == 7
    assert [(r["excel_row"], r["project_code"], r["total_cost_mad"], r["indh_contribution_mad"])
            for r in sheets[0].rows] == [(9, "X-1", 125_000_000, 87_500_000)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "cp1256", "utf-16"])
def test_encodings_are_detected(encoding):
    text = "Code projet;Intitulé;Coût global\nA-1;Élevage caprin à Ghafsaï;1 250,00\n"
    if encoding == "cp1256":
        text = "رمز المشروع;عنوان المشروع;الكلفة الإجمالية\nA-1;تربية الماعز بغفساي;1 250,00\n"
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_separators_are_detected_even_with_decimal_commas(delimiter):
    amount = '"1 250,50"' if delimiter == "," else "1 250,50"
    lines = ["Situation des AGR", "", delimiter.join(["Code projet", "Intitulé", "Coût global", "Contribution INDH"])]
    lines += [delimiter.join([f"A-{i}", "Rucher", amount, amount]) for i in range(5)]
    assert choose_delimiter("\n".join(lines)) == delimiter


def test_the_first_sheet_without_a_header_is_named_when_another_is_used(tmp_path):
    book = Workbook()
    book.active.title = "Graphique"
    book.active["A1"] = "Répartition par secteur"
    data = book.create_sheet("Données")
    data.append(["Code projet", "Intitulé", "Coût global", "Contribution INDH"])
    data.append(["A-1", "Rucher", 1000, 700])
    book.save(tmp_path / "two.xlsx")
    exam = examine(tmp_path / "two.xlsx", "MA-TAO", "2013")
    assert [s.name for s in exam.sheets] == ["Données"]
    skipped = [f for f in exam.findings if f.rule_id == "SHEET_SKIPPED"]
    assert [f.value for f in skipped] == ["Graphique"]
    assert "Graphique" in skipped[0].messages()[0] and "Graphique" in skipped[0].messages()[1]
    used = [f for f in exam.findings if f.rule_id == "SHEET_USED"]
    assert [f.value for f in used] == ["Données"]
    assert "à la ligne 1, 1 ligne(s)" in used[0].messages()[0]


def test_hidden_rows_are_loaded_and_named(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Code projet", "Intitulé", "Coût global", "Contribution INDH", "Contribution porteur"])
    for i in range(1, 6):
        sheet.append([f"A-{i}", "Rucher", 1000, 700, 300])
    sheet.row_dimensions[3].hidden = True  # a project the clerk hid
    sheet.row_dimensions[9].hidden = True  # an empty row: nothing to say
    book.save(tmp_path / "hidden.xlsx")
    exam = examine(tmp_path / "hidden.xlsx", "MA-TAO", "2013")
    assert [row["project_code"] for _, row in exam.rows] == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert [(f.rule_id, f.excel_row, f.project_code) for f in exam.findings] == [("ROW_HIDDEN", 3, "A-2")]


def test_a_first_project_row_is_never_taken_for_a_second_header_line(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Code projet", "Intitulé", "Coût global", "Contribution INDH", "Observations"])
    # "Femmes" under Observations reads like a sub-column header the first line lacks.
    sheet.append(["A-1", "Rucher", "1 000,00", "700", "Femmes"])
    sheet.append(["A-2", "Four", 2000, 1400, None])
    book.save(tmp_path / "one_line.xlsx")
    sheets, _ = read_project_sheets(read_file(tmp_path / "one_line.xlsx"), "MA-TAO")
    assert [(r["excel_row"], r["project_code"]) for r in sheets[0].rows] == [(2, "A-1"), (3, "A-2")]
