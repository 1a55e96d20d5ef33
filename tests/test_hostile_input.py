"""Hostile and clumsy input (issue 10): every finding as a class, each from a small generated file.

Whatever the bytes, a file ends loaded, loaded in part, or refused with its own reason; nothing
crashes, hangs or exhausts memory (the fuzz suite, ``make fuzz``, tries thousands more).
"""
import io
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bench.fuzz import HEADER, _ods_cell, _ods_row, good_row, ods_document, project_workbook
from etl.examine import examine
from etl.findings_xlsx import write_findings_xlsx
from etl.read import UnreadableFile, read_file

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True, params=["cells", "columns"])
def reader(request, monkeypatch):
    """Every case both ways: as small files are read (cell by cell) and as large ones are (column-wise)."""
    monkeypatch.setenv("IGA_COLUMNS_FROM_KB", "1000000" if request.param == "cells" else "0")
    return request.param


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rules(exam) -> set[str]:
    return {f.rule_id for f in exam.findings}


def with_sheet_xml(data: bytes, edit) -> bytes:
    """The workbook with its first sheet's XML passed through ``edit`` (bytes -> bytes)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for info in archive.infolist():
            payload = archive.read(info)
            rebuilt.writestr(info.filename, edit(payload) if info.filename.endswith("sheet1.xml") else payload)
    return out.getvalue()


# --- 2, 3: a sheet is sized by its extent before any cell is built ---------------------------

@pytest.mark.unit
@pytest.mark.parametrize("far", [[("XFD1048576", 2)], [("XFD1", 1), ("A50000", 2)], [("A1048576", 1)],
                                 [("ZZ150000", 1)]])
def test_a_far_cell_is_refused_before_calamine_builds_the_grid(tmp_path, far):
    path = write(tmp_path, "far.xlsx", project_workbook([good_row(1)], far=far))
    exam = examine(path, "MA-TAO", "2013")
    assert exam.refused_reason.rule_id in {"FILE_SHEET_TOO_LARGE", "FILE_TOO_MANY_ROWS"}
    french, arabic = exam.refused_reason.messages()
    assert french and arabic


@pytest.mark.unit
def test_cells_without_references_are_placed_and_counted(tmp_path):
    """A row of cells with no ``r`` attribute, then one far row: the exact walk finds the extent."""
    wide = b"<row>" + b'<c t="n"><v>1</v></c>' * 16_384 + b"</row>"
    data = with_sheet_xml(project_workbook([good_row(1)]), lambda xml: xml.replace(
        b"</sheetData>", wide + b'<row r="60000"><c t="n"><v>1</v></c></row></sheetData>'))
    with pytest.raises(UnreadableFile) as refused:
        read_file(write(tmp_path, "no_refs.xlsx", data))
    assert refused.value.rule_id == "FILE_SHEET_TOO_LARGE"


@pytest.mark.unit
@pytest.mark.parametrize("table, rule", [
    (_ods_row("".join(_ods_cell(h) for h in HEADER)) + _ods_row("".join(_ods_cell(v) for v in good_row(1)), 250_000),
     "FILE_TOO_MANY_ROWS"),
    (_ods_row(_ods_cell(1, 16_384), 1_000), "FILE_SHEET_TOO_LARGE"),
    (_ods_row('<table:table-cell table:number-columns-repeated="16384"/>', 1_000_000) + _ods_row(_ods_cell(5)),
     "FILE_TOO_MANY_ROWS"),
])
def test_ods_repetitions_count_as_the_cells_they_stand_for(tmp_path, table, rule):
    data = ods_document(table)
    assert len(data) < 5_000  # a few kilobytes, no compression involved
    assert examine(write(tmp_path, "repeat.ods", data), "MA-TAO", "2013").refused_reason.rule_id == rule


@pytest.mark.unit
def test_libreoffice_trailing_empty_repetitions_do_not_count(tmp_path):
    header = _ods_row("".join(_ods_cell(h) for h in HEADER) + '<table:table-cell table:number-columns-repeated="16000"/>')
    body = _ods_row("".join(_ods_cell(v) for v in good_row(1)) + '<table:table-cell table:number-columns-repeated="16000"/>')
    tail = _ods_row('<table:table-cell table:number-columns-repeated="16384"/>', 1_048_000)
    exam = examine(write(tmp_path, "lo.ods", ods_document(header + body + tail)), "MA-TAO", "2013")
    assert exam.refused_reason is None and exam.rows_read == 1


@pytest.mark.unit
def test_csv_separators_are_cells_before_they_are_strings(tmp_path):
    path = write(tmp_path, "wide.csv", (";".join(HEADER) + "\r\n" + ";" * 7_000_000).encode())
    assert examine(path, "MA-TAO", "2013").refused_reason.rule_id == "FILE_SHEET_TOO_LARGE"


# --- 4, 5: library errors and native panics end in a refusal or a finding ---------------------

def zip_with(data: bytes, patch) -> bytes:
    rebuilt = bytearray(data)
    patch(rebuilt)
    return bytes(rebuilt)


def _each(signature: bytes, data: bytearray):
    start = data.find(signature)
    while start >= 0:
        yield start
        start = data.find(signature, start + 4)


def unknown_compression(data: bytearray) -> None:
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        for start in _each(signature, data):
            struct.pack_into("<H", data, start + offset, 99)


def encrypted_flag(data: bytearray) -> None:
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        for start in _each(signature, data):
            data[start + offset] |= 1


def damaged_deflate(data: bytearray) -> None:
    for start in list(_each(b"PK\x03\x04", data))[1:]:
        name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
        body = start + 30 + name_length + extra_length
        data[body:body + 12] = b"\xff" * 12


def truncated_member(data: bytearray) -> None:
    central = data.find(b"PK\x01\x02")
    del data[central - 200:central]


@pytest.mark.unit
@pytest.mark.parametrize("patch", [unknown_compression, encrypted_flag, damaged_deflate, truncated_member])
def test_every_zip_member_error_is_a_refusal(tmp_path, patch):
    path = write(tmp_path, "zip.xlsx", zip_with(project_workbook([good_row(i) for i in range(20)]), patch))
    exam = examine(path, "MA-TAO", "2013")
    assert exam.refused_reason is not None and exam.refused_reason.rule_id.startswith("FILE_")


@pytest.mark.unit
def test_a_native_panic_costs_its_row_not_the_file(tmp_path):
    rows = [good_row(i) for i in range(3)]
    rows[1][4] = -1e13  # a date-formatted number calamine panics on (pyo3_runtime.PanicException)
    path = write(tmp_path, "panic.xlsx", project_workbook(rows, formats={"E3": "yyyy-mm-dd"}))
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "loaded" or exam.status == "partial"
    unreadable = [f for f in exam.findings if f.rule_id == "E_ROW_UNREADABLE"]
    assert [f.excel_row for f in unreadable] == [3]
    assert {row["excel_row"] for _, row in exam.rows} == {2, 4}


# --- 6, 9: extreme values and over-long cells are findings on their cells --------------------

@pytest.mark.unit
def test_extreme_values_are_findings_on_their_cells(tmp_path):
    rows = [good_row(i) for i in range(6)]
    rows[0][5] = 1e308
    rows[1][5] = 2e10
    rows[2][3] = float("inf")
    rows[3][8] = 2**64 + 1
    rows[4][6] = "9" * 5000
    path = write(tmp_path, "extreme.xlsx", project_workbook(rows))
    exam = examine(path, "MA-TAO", "2013")
    found = {(f.excel_row, f.rule_id) for f in exam.findings}
    assert {(2, "E_AMOUNT_TOO_LARGE"), (3, "E_AMOUNT_TOO_LARGE"), (5, "E_COUNT_TOO_LARGE"),
            (6, "E_AMOUNT_INVALID")} <= found
    assert {row["excel_row"] for _, row in exam.rows} == {4, 7}


@pytest.mark.unit
@pytest.mark.parametrize("parse, value, problem", [
    ("parse_year", float("inf"), "E_YEAR_INVALID"), ("parse_year", -float("inf"), "E_YEAR_INVALID"),
    ("parse_amount", 1e308, "E_AMOUNT_TOO_LARGE"), ("parse_amount", -1e308, "E_AMOUNT_TOO_LARGE"),
    ("parse_amount", "9" * 5000, "E_AMOUNT_INVALID"),
    ("parse_amount", float("inf"), "E_AMOUNT_INVALID"), ("parse_count", 2**64 + 1, "E_COUNT_TOO_LARGE"),
    ("parse_count", 1e300, "E_COUNT_TOO_LARGE"), ("parse_count", "9" * 5000, "E_COUNT_INVALID"),
    ("parse_date", float("inf"), "W_DATE_INVALID"), ("parse_date", -1e13, "W_DATE_INVALID"),
])
def test_no_value_makes_a_parser_raise(parse, value, problem):
    from etl import values

    assert getattr(values, parse)(value) == (None, problem)


@pytest.mark.unit
def test_a_csv_cell_longer_than_excel_holds_is_a_finding_not_a_refusal(tmp_path):
    lines = [";".join(HEADER)] + [";".join(str(v) for v in good_row(i)) for i in range(3)]
    lines[2] = lines[2].replace("Rucher collectif", "r" * 200_000)
    path = write(tmp_path, "long.csv", "\r\n".join(lines).encode("utf-8"))
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "partial"
    (long_cell,) = [f for f in exam.findings if f.rule_id == "E_CELL_TOO_LONG"]
    assert long_cell.excel_row == 3 and long_cell.params["length"] == 200_000


@pytest.mark.unit
def test_unparseable_number_literals_and_far_dates_are_findings(tmp_path):
    def spoil(xml: bytes) -> bytes:
        xml = xml.replace(b"<v>250000</v>", b"<v>1.2.3e</v>", 1)
        return xml.replace(b'<c r="E3" s="1" t="inlineStr"><is><t>12/03/2012</t></is></c>',
                           b'<c r="E3" t="d"><v>99999-99-99</v></c>')

    data = with_sheet_xml(project_workbook([good_row(1), good_row(2)], formats={"E3": "yyyy-mm-dd"}), spoil)
    exam = examine(write(tmp_path, "literal.xlsx", data), "MA-TAO", "2013")
    assert exam.refused_reason is None
    found = {(f.excel_row, f.rule_id) for f in exam.findings}
    assert (2, "E_AMOUNT_INVALID") in found and (3, "W_DATE_INVALID") in found


# --- 7, 8: the findings workbook: control characters, formulas, linear -----------------------

@pytest.mark.unit
def test_the_findings_workbook_takes_any_text_and_runs_no_formula(tmp_path):
    hostile = ["\x01bell", "form\x0cfeed", "\x1b[31mred", "=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)",
               "\t=1+1", "\r=1", "lone \udc80 surrogate", "x" * 40_000]
    findings = [{"sheet": text, "excel_row": 2, "column_header": text, "value": text, "project_code": text,
                 "rule_id": "E_CODE_MISSING", "severity": "error", "message_fr": text, "message_ar": text}
                for text in hostile]
    path = write_findings_xlsx(tmp_path / "f.xlsx", "=evil\x01.xlsx", findings, {"=Fichier": "=1+2"})
    book = load_workbook(path)
    cells = [c for row in book["Anomalies"].iter_rows(min_row=2) for c in row]
    cells += [c for row in book["Résumé"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert all(not str(c.value).startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells if c.value is not None)
    assert all(c.hyperlink is None for c in cells)  # no link from names that are not plain


@pytest.mark.unit
@pytest.mark.parametrize("file_name, linked", [("projets 2013.xlsx", True), ("\\\\evil\\share\\x.xlsx", False),
                                               ("http://evil/x.xlsx", False), ("../x.xlsx", False),
                                               ("=x.xlsx", False)])
def test_row_links_are_built_only_from_plain_names(tmp_path, file_name, linked):
    finding = {"sheet": "Projets", "excel_row": 5, "column_header": None, "value": None, "project_code": None,
               "rule_id": "E_CODE_MISSING", "severity": "error", "message_fr": "m", "message_ar": "m"}
    sheet = load_workbook(write_findings_xlsx(tmp_path / "f.xlsx", file_name, [finding]))["Anomalies"]
    link = sheet["B2"].hyperlink
    assert (link is not None) == linked
    if linked:
        assert link.target == "projets 2013.xlsx#'Projets'!A5"


@pytest.mark.unit
def test_the_findings_workbook_holds_every_finding_with_its_filter(tmp_path):
    findings = [{"sheet": "Projets", "excel_row": i, "column_header": "Coût", "value": str(i), "project_code": f"P{i}",
                 "rule_id": "W_TITLE_MISSING", "severity": "warning", "message_fr": "m", "message_ar": "م"}
                for i in range(2, 20_002)]
    book = load_workbook(write_findings_xlsx(tmp_path / "many.xlsx", "projets.xlsx", findings), read_only=True)
    sheet = book["Anomalies"]
    assert sum(1 for _ in sheet.iter_rows()) == 20_001
    book.close()


# --- 10: COPY never takes a value for NULL; 11: the archive name is not the clerk's ----------

@pytest.mark.integration
def test_backslash_n_nul_and_empty_text_are_values_not_null(warehouse_url, tmp_path):
    from sqlalchemy import create_engine, text

    from etl.load import load_submission
    from etl.read import sha256_of

    rows = [good_row(1), good_row(2), good_row(3)]
    rows[0][0], rows[0][1] = "\\N", "\\N"
    rows[1][1] = "nul\x00inside"  # loaded: through COPY
    rows[2][1], rows[2][5] = "nul\x00refused", -5  # refused: kept as JSON in quality.rejected_row
    path = tmp_path / ("x" * 247 + ".xlsx")  # 252 bytes: with ".part" the old archive name was 256
    path.write_bytes(project_workbook(rows))
    exam = examine(path, "MA-TAO", "2013")
    summary = load_submission(create_engine(warehouse_url), exam, f"MA-TAO/2013/{path.name}", sha256_of(path),
                              path.stat().st_size, tmp_path / "archive")
    assert summary["status"] == "partial" and summary["rows_loaded"] == 2
    with create_engine(warehouse_url).connect() as conn:
        stored = conn.execute(text("SELECT project_code, title FROM core.project_version ORDER BY source_row")).all()
        raw = conn.execute(text("SELECT raw FROM quality.rejected_row")).scalar_one()
        archive_path = conn.execute(text("SELECT archive_path FROM core.submission")).scalar_one()
    assert stored == [("\\N", "\\N"), ("TAO-0002", "nul\ufffdinside")]
    assert "nul\ufffdrefused" in raw.values()
    assert Path(archive_path).read_bytes() == path.read_bytes()
    assert path.name not in archive_path


# --- 12 (headers), 13: mails and the command line -----------------------------------------------

@pytest.mark.unit
def test_header_values_lose_line_breaks_and_control_characters():
    from etl.mail import Mail, build_message

    message = build_message(Mail(["a@indh.local"], "[INDH AGR] MA-TAO 2013\r\nBcc: x@evil : f\x01.xlsx", "<p>x</p>"),
                            "iga@indh.local")
    assert "Bcc" not in message.keys() and "\n" not in message["Subject"] and "\x01" not in message["Subject"]


@pytest.mark.unit
@pytest.mark.parametrize("variable, value, said", [
    ("IGA_WORKER_MEMORY_MB", "beaucoup", "IGA_WORKER_MEMORY_MB"),  # a configuration error (IgaError)
    ("IGA_POLICY_FILE", "/nonexistent/policy.csv", "FileNotFoundError"),  # a fault inside the check's child
])
def test_an_internal_error_exits_3_with_one_line(tmp_path, iga_home, capsys, monkeypatch, variable, value, said):
    from etl.cli import main

    path = write(tmp_path, "ok.xlsx", project_workbook([good_row(1)]))
    monkeypatch.setenv(variable, value)
    assert main(["check", str(path), "--province", "MA-TAO", "--period", "2013"]) == 3
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert capsys.readouterr().out == ""
    with pytest.raises(Exception):
        main(["check", str(path), "--province", "MA-TAO", "--period", "2013", "--debug"])


@pytest.mark.unit
def test_check_prints_the_first_fifty_findings_and_where_the_rest_are(tmp_path, iga_home, capsys):
    from etl.cli import main

    rows = [good_row(i) for i in range(120)]
    for row in rows:
        row[1] = None  # W_TITLE_MISSING on every row
    path = write(tmp_path, "many.xlsx", project_workbook(rows))
    assert main(["check", str(path), "--province", "MA-TAO", "--period", "2013"]) == 0
    out = capsys.readouterr().out
    listed = out.split("what to fix first (50 of ")[1].split("\n")
    assert sum(1 for line in listed if line.startswith(("  warning", "  error", "  info"))) == 50
    assert "more in the findings workbook" in out


@pytest.mark.unit
def test_iga_run_exits_3_on_a_pipeline_fault(iga_home, capsys, monkeypatch):
    from etl.cli import main

    monkeypatch.setenv("IGA_WAREHOUSE_URL", "mysql://warehouse.example/iga")
    assert main(["run"]) == 3
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.unit
@pytest.mark.parametrize("at", [128, 1024, 4096, 9000, 13_000])
def test_an_xls_with_bytes_inserted_is_refused_before_calamine_follows_its_pointers(tmp_path, at):
    data = (FIXTURES / "berkane_arabic.xls").read_bytes()
    path = write(tmp_path, "nuls.xls", data[:at] + b"\x00" * 16 + data[at:])
    with pytest.raises(UnreadableFile) as refused:
        read_file(path)
    assert refused.value.rule_id == "FILE_CORRUPT" and "OLE" in refused.value.detail_fr


@pytest.mark.unit
def test_a_sheet_keeps_no_more_links_than_excel_opens(tmp_path):
    """Excel repairs a sheet of more than 65,530 hyperlinks by dropping them: the rows past it keep their look."""
    from etl.workbook import MAX_LINKS_PER_SHEET

    findings = [{"sheet": "Projets", "excel_row": i, "column_header": "Coût", "value": "x", "project_code": f"P{i}",
                 "rule_id": "W_TITLE_MISSING", "severity": "warning", "message_fr": "m", "message_ar": "م"}
                for i in range(2, MAX_LINKS_PER_SHEET + 12)]
    path = write_findings_xlsx(tmp_path / "links.xlsx", "projets.xlsx", findings)
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
        relationships = archive.read("xl/worksheets/_rels/sheet1.xml.rels")
    assert sheet.count(b"<hyperlink ") == relationships.count(b"<Relationship ") == MAX_LINKS_PER_SHEET
    book = load_workbook(path, read_only=True)
    assert sum(1 for _ in book["Anomalies"].iter_rows()) == len(findings) + 1  # every finding is a row
    book.close()
