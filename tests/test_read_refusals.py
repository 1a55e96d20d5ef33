"""Files refused whole: each with its own reason in French and Arabic, and nothing loaded."""
import io
import shutil
import struct
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, text

from etl.cli import main
from etl.examine import examine
from etl.ingest import ingest_file

FIXTURES = Path(__file__).parent / "fixtures"


def small_workbook(rows=3, header=True) -> bytes:
    book = Workbook()
    if header:
        book.active.append(["Code projet", "Intitulé", "Coût global", "Contribution INDH"])
    for i in range(rows):
        book.active.append([f"A-{i}", "Rucher", 1000, 700])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A workbook-looking zip whose one sheet inflates to 200 MB of zeros (about 200 kB on disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"\0" * (1 << 20)
            for _ in range(200):
                sheet.write(block)
    return buffer.getvalue()


def lying_zip_bomb() -> bytes:
    """A bomb whose zip headers claim its sheet is 1 kB: the reader must not trust them."""
    real_size = 64 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", bytes(real_size))
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        start = data.find(signature)
        while start != -1:
            if struct.unpack_from("<I", data, start + offset)[0] == real_size:
                struct.pack_into("<I", data, start + offset, 1024)
            start = data.find(signature, start + 4)
    return bytes(data)


def word_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


# name -> (how to make it, rule id, a phrase of the French reason, a phrase of the Arabic one)
CASES = {
    "empty.xlsx": (lambda: b"", "FILE_EMPTY", "vide", "فارغ"),
    "blank_workbook.xlsx": (lambda: small_workbook(rows=0, header=False), "FILE_EMPTY", "vide", "فارغ"),
    "separators_only.csv": (lambda: "\ufeff;;;\r\n;;;\r\n".encode("utf-8"), "FILE_EMPTY", "vide", "فارغ"),
    "truncated.xlsx": (lambda: (FIXTURES / "refuse_truncated.xlsx").read_bytes(), "FILE_CORRUPT",
                       "incomplet ou endommagé", "غير مكتمل"),
    "garbage.xlsx": (lambda: b"PK\x03\x04" + bytes(range(256)) * 4, "FILE_CORRUPT", "endommagé", "تالف"),
    "password.xlsx": (lambda: (FIXTURES / "refuse_password.xlsx").read_bytes(), "FILE_ENCRYPTED",
                      "protégé par un mot de passe", "محمي بكلمة مرور"),
    "web.xls": (lambda: (FIXTURES / "hand_web_export.xls").read_bytes(), "FILE_NOT_SPREADSHEET",
                "une page web (HTML)", "صفحة ويب"),
    "scan.xlsx": (lambda: (FIXTURES / "hand_scan.pdf").read_bytes(), "FILE_NOT_SPREADSHEET",
                  "un document PDF", "وثيقة PDF"),
    "letter.docx.xlsx": (word_document, "FILE_NOT_SPREADSHEET", "un document Word", "وثيقة Word"),
    "photo.xlsx": (lambda: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(200), "FILE_NOT_SPREADSHEET",
                   "binaire", "ثنائي"),
    "letter.csv": (lambda: (FIXTURES / "hand_letter.txt").read_bytes(), "FILE_NO_HEADER",
                   "Aucune feuille", "لا تحتوي"),
    "bomb.xlsx": (zip_bomb, "FILE_ZIP_BOMB", "décompresse", "فك ضغطه"),
    "lying_bomb.xlsx": (lying_zip_bomb, "FILE_CORRUPT", "endommagé", "تالف"),
    "big.xlsx": (lambda: small_workbook() + bytes(2 * 1024 * 1024), "FILE_TOO_LARGE", "au-delà de la limite de 1 Mo",
                 "الحد الأقصى 1"),
    "long.xlsx": (lambda: small_workbook(rows=60), "FILE_TOO_MANY_ROWS", "plus de 50 lignes", "50"),
    "long.csv": (lambda: ("Code projet;Intitulé;Coût global;Contribution INDH\n"
                          + "A;B;1;1\n" * 60).encode(), "FILE_TOO_MANY_ROWS", "plus de 50 lignes", "50"),
}


@pytest.fixture
def limits(monkeypatch):
    monkeypatch.setenv("IGA_MAX_FILE_MB", "1")
    monkeypatch.setenv("IGA_MAX_ROWS", "50")
    monkeypatch.setenv("IGA_MAX_UNCOMPRESSED_MB", "100")


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_refusal_gives_its_reason(tmp_path, limits, name):
    make, rule_id, phrase_fr, phrase_ar = CASES[name]
    path = tmp_path / name
    path.write_bytes(make())
    exam = examine(path, "MA-TAO", "2013")
    assert exam.status == "refused"
    assert exam.refused_reason.rule_id == rule_id
    message_fr, message_ar = exam.refused_reason.messages()
    assert phrase_fr in message_fr and phrase_ar in message_ar
    assert exam.rows == [] and exam.rejected == []


@pytest.mark.unit
def test_limits_are_not_hit_by_ordinary_files(tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(small_workbook(rows=40))
    assert examine(path, "MA-TAO", "2013").status == "loaded"


@pytest.mark.integration
def test_refused_files_load_nothing_and_the_rest_of_the_run_goes_on(warehouse_url, iga_home, limits):
    folder = iga_home / "landing" / "MA-TAO" / "2013"
    folder.mkdir(parents=True)
    for name, (make, *_rest) in CASES.items():
        (folder / name).write_bytes(make())
    shutil.copyfile(FIXTURES / "taounate_two_line_header.xlsx", folder / "good.xlsx")
    summaries = {name: ingest_file(f"MA-TAO/2013/{name}") for name in sorted(CASES) + ["good.xlsx"]}
    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        submissions = {row.file_name: row for row in conn.execute(text(
            "SELECT file_name, status, reason, reason_ar, rows_loaded, sha256, archive_path FROM core.submission"))}
        loaded = dict(conn.execute(text(
            "SELECT s.file_name, count(v.*) FROM core.submission s "
            "LEFT JOIN core.project_version v USING (submission_id) GROUP BY s.file_name")).all())
        reasons = dict(conn.execute(text(
            "SELECT s.file_name, f.rule_id FROM quality.finding f JOIN core.submission s USING (submission_id) "
            "WHERE f.severity = 'error' AND f.excel_row IS NULL")).all())
    engine.dispose()
    for name, (_make, rule_id, phrase_fr, phrase_ar) in CASES.items():
        assert summaries[name]["status"] == "refused", name
        assert submissions[name].status == "refused" and submissions[name].rows_loaded == 0
        assert phrase_fr in submissions[name].reason and phrase_ar in submissions[name].reason_ar, name
        assert loaded[name] == 0, name
        assert reasons[name] == rule_id, name
        # The original is archived unchanged, under its SHA-256.
        assert Path(submissions[name].archive_path).read_bytes() == (folder / name).read_bytes()
    assert submissions["good.xlsx"].status == "loaded" and loaded["good.xlsx"] == 15


@pytest.mark.unit
def test_iga_check_refuses_with_exit_code_2(iga_home, capsys):
    assert main(["check", str(FIXTURES / "refuse_password.xlsx"), "--province", "MA-TAO", "--period", "2013"]) == 2
    out = capsys.readouterr().out
    assert "FILE_ENCRYPTED" in out and "mot de passe" in out
    assert main(["check", str(FIXTURES / "berkane_arabic.xls"), "--province", "MA-BER", "--period", "2013"]) == 0
