"""Reports a clerk acts on: every wrong cell at its Excel row and column, no right cell, FR + AR."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text

from etl.cli import main
from etl.config import settings
from etl.examine import examine
from etl.ingest import ingest_file, list_new_files
from etl.quality_checks import warehouse_checks
from etl.reports import send_digest, send_submission_reports, write_check_report
from etl.sample import generate

HEADER = ["Code projet", "Intitulé du projet", "Secteur d'activité", "Année d'approbation", "Coût global (DH)",
          "Contribution INDH", "Contribution porteur", "Autres partenaires", "Nombre de bénéficiaires",
          "Dont femmes", "Dont jeunes", "Emplois créés"]
FIRST_ROW = 5  # title block (3 rows), header on row 4
# Cells made wrong on purpose: row offset -> [(column header, value, rule it must raise)]
WRONG_CELLS = {
    1: [("Coût global (DH)", "à compléter", "E_AMOUNT_INVALID")],
    2: [("Dont femmes", 25, "E_WOMEN_ABOVE_BENEFICIARIES")],
    3: [("Code projet", "T-DUP", "E_CODE_DUPLICATE")],
    4: [("Année d'approbation", 2004, "E_YEAR_OUT_OF_RANGE")],
    5: [("Dont jeunes", 30, "E_YOUTH_ABOVE_BENEFICIARIES")],
    6: [("Code projet", None, "E_CODE_MISSING")],
    7: [("Contribution porteur", "50 000,00", "W_PROMOTER_SHARE_LOW"),
         ("Autres partenaires", "44 000,00", None)],  # parts still add up: only the share is wrong
    9: [("Secteur d'activité", "Astronautique", "W_LABEL_UNKNOWN")],
    10: [("Année d'approbation", "deux mille", "E_YEAR_INVALID")],
    11: [("Nombre de bénéficiaires", "vingt", "E_COUNT_INVALID")],
    12: [("Année d'approbation", 2014, "W_YEAR_AFTER_PERIOD")],
    13: [("Nombre de bénéficiaires", 1, "W_COST_PER_BENEFICIARY_OUTLIER"), ("Dont femmes", 0, None),
         ("Dont jeunes", 0, None)],
    14: [("Code projet", "T-DUP", "E_CODE_DUPLICATE")],
}
ROWS = 24


def good_row(i: int) -> dict:
    total = 200_000 + 5_000 * i
    return dict(zip(HEADER, [f"T-{i:03d}", f"Rucher {i}", "Apiculture", 2012, total, total * 0.6, total * 0.3,
                             total * 0.1, 20, 8, 5, 4]))


def clerk_workbook(path, province="Taounate"):
    """A workbook with a title block, known wrong cells and a totals row; returns the wrong cells."""
    book = Workbook()
    sheet = book.active
    sheet.title = "AGR 2013"
    sheet.append([f"INDH — Province de {province}"])
    sheet.append(["Situation des projets AGR au 31/12/2013"])
    sheet.append([])
    sheet.append(HEADER)
    expected = set()
    for i in range(ROWS):
        cells = good_row(i)
        for column, value, rule_id in WRONG_CELLS.get(i, []):
            cells[column] = value
            if rule_id:
                expected.add((FIRST_ROW + i, column, rule_id))
        sheet.append([cells[c] for c in HEADER])
    sheet.append(["TOTAL", None, None, None, 99_999_999])
    book.save(path)
    return expected


def findings_of(rows):
    return {(r["excel_row"], r["column_header"], r["rule_id"]) for r in rows if r["severity"] in ("error", "warning")}


@pytest.mark.unit
def test_every_wrong_cell_is_reported_at_its_excel_row_and_no_right_cell_is(tmp_path):
    expected = clerk_workbook(tmp_path / "agr.xlsx")
    exam = examine(tmp_path / "agr.xlsx", "MA-TAO", "2013")
    warehouse_checks(exam, None)  # what `iga check` adds on a machine without a warehouse
    html_path, xlsx_path = write_check_report(exam, tmp_path / "report")

    sheet = load_workbook(xlsx_path)["Anomalies"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(("sheet", "excel_row", "column_header", "value", "project_code", "rule_id", "severity",
                      "message_fr", "message_ar"), (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    for row in rows:
        row["severity"] = {"erreur / خطأ": "error", "avertissement / تنبيه": "warning"}.get(row["severity"])
    assert findings_of(rows) == expected
    assert {r["sheet"] for r in rows} == {"AGR 2013"}
    assert all(r["message_fr"] and re.search(r"[\u0600-\u06ff]", r["message_ar"]) for r in rows)
    assert header[1].startswith("Ligne Excel")
    # The row number links back to that row of the original workbook.
    link = sheet.cell(2, 2).hyperlink.target
    assert link == f"agr.xlsx#'AGR 2013'!A{rows[0]['excel_row']}"

    # The refused rows are exactly those with an error; the others (warnings included) load.
    refused = {row["excel_row"] for _, row in exam.rejected}
    assert refused == {r for r, _, rule in expected if rule.startswith("E_")}
    assert len(exam.rows) + len(exam.rejected) == ROWS

    html = html_path.read_text(encoding="utf-8")
    for excel_row, column, rule_id in expected:
        assert re.search(rf"<td>AGR 2013</td><td>{excel_row}</td><td>{re.escape(column).replace(chr(39), '&#x27;')}"
                         rf"</td>.*?<td>{rule_id}</td>", html), (excel_row, column, rule_id)
    assert f"<td>{ROWS}</td><td>{len(exam.rows)}</td><td>{len(exam.rejected)}</td>" in html


@pytest.mark.unit
def test_iga_check_prints_the_same_findings_as_the_report(tmp_path, iga_home, capsys):
    expected = clerk_workbook(tmp_path / "agr.xlsx")
    code = main(["check", str(tmp_path / "agr.xlsx"), "--province", "MA-TAO", "--period", "2013"])
    out = capsys.readouterr().out
    assert code == 1
    printed = set(re.findall(r"^\s+(?:error|warning)\s+(\S+)\s+\[AGR 2013\] row (\d+) «(.+?)»:", out, re.M))
    assert {(int(row), column, rule) for rule, row, column in printed} == expected
    assert "E_CODE_DUPLICATE" in out and "By rule:" in out
    assert (iga_home / "reports" / "check" / "agr.html").exists()
    assert (iga_home / "reports" / "check" / "agr-anomalies.xlsx").exists()
    assert not (iga_home / "pgdata").exists()  # no warehouse was started for a check


@pytest.mark.unit
def test_generated_national_sample_wrong_rows_are_all_reported(tmp_path):
    sample = generate(tmp_path / "landing", provinces=["MA-BER", "MA-ERR"], errors_per_file=6)
    for path in sample.files:
        exam = examine(path, path.parent.parent.name, "2013")
        errors = {f.excel_row for f in exam.findings if f.severity == "error"}
        assert errors == set(sample.wrong_rows[str(path)])


@pytest.mark.integration
def test_check_before_upload_gives_the_answer_the_upload_records(warehouse_url, iga_home, capsys):
    # Berkane already reported a project under the code Taounate's clerk is about to use.
    berkane = settings().landing / "MA-BER" / "2013" / "agr.xlsx"
    berkane.parent.mkdir(parents=True)
    clerk_workbook(berkane, "Berkane")
    for path in list_new_files():
        ingest_file(path)
    taounate = settings().landing / "MA-TAO" / "2013" / "agr.xlsx"
    taounate.parent.mkdir(parents=True)
    expected = clerk_workbook(taounate)

    assert main(["check", str(taounate), "--province", "MA-TAO", "--period", "2013"]) == 1
    out = capsys.readouterr().out
    assert "compared with the warehouse" in out
    assert re.search(r"W_CODE_OTHER_PROVINCE\s+\[AGR 2013\] row 5 «Code projet»: .*autre province", out)
    assert "Berkane" not in out and "MA-BER" not in out  # Taounate's clerk is not told whose code it is
    checked = load_workbook(iga_home / "reports" / "check" / "agr-anomalies.xlsx")["Anomalies"]
    before = {(r[1], r[2], r[5]) for r in checked.iter_rows(min_row=2, values_only=True)}

    (relative,) = list_new_files()
    ingest_file(relative)
    with create_engine(warehouse_url).connect() as conn:
        after = set(conn.execute(text(
            "SELECT excel_row, column_header, rule_id FROM quality.finding f JOIN core.submission s "
            "USING (submission_id) WHERE s.province_code = 'MA-TAO'")).tuples())
    assert before == after
    assert expected <= after and ("W_CODE_OTHER_PROVINCE" in {rule for _, _, rule in after})

    # Taounate's report (its mail body and attachment) says "another province"; the national digest
    # names both provinces for each shared code.
    send_submission_reports()
    (report,) = (iga_home / "reports" / "MA-TAO").glob("submission-*.html")
    workbook = report.with_name(report.stem + "-anomalies.xlsx")
    cells = " ".join(str(c) for row in load_workbook(workbook).active.iter_rows(values_only=True) for c in row)
    for text_ in (report.read_text(encoding="utf-8"), cells):
        assert "autre province" in text_ and "Berkane" not in text_ and "MA-BER" not in text_
    digest = Path(send_digest()).read_text(encoding="utf-8")
    assert re.search(r"T-000</td><td>Berkane \(MA-BER\), Taounate \(MA-TAO\)", digest)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAYOUT_PROBE = """<script>
window.addEventListener('load', () => {
  const box = el => el.getBoundingClientRect();
  const ar = document.querySelector('section[lang=ar] h1'), fr = document.querySelector('section[lang=fr] h1');
  const cell = document.querySelector('td[dir=rtl]');
  const out = {width: document.documentElement.clientWidth,
    ar_direction: getComputedStyle(ar).direction, ar_align: getComputedStyle(ar).textAlign,
    ar_right: box(ar).right, ar_text_right: (() => { const r = document.createRange(); r.selectNodeContents(ar);
      return r.getBoundingClientRect().right; })(),
    ar_text_left: (() => { const r = document.createRange(); r.selectNodeContents(ar);
      return r.getBoundingClientRect().left; })(),
    fr_direction: getComputedStyle(fr).direction, fr_text_left: (() => { const r = document.createRange();
      r.selectNodeContents(fr); return r.getBoundingClientRect().left; })(),
    cell_direction: cell ? getComputedStyle(cell).direction : null,
    arabic_glyph_width: (() => { const s = document.createElement('span'); s.textContent = 'تقرير الجودة';
      document.body.appendChild(s); return s.getBoundingClientRect().width; })()};
  const pre = document.createElement('pre'); pre.id = 'layout'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(*args, tmp_path):
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
        capture_output=True, text=True, timeout=120)


@pytest.mark.integration
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package: chromium)")
def test_the_report_renders_right_to_left_for_arabic_in_a_real_browser(tmp_path):
    clerk_workbook(tmp_path / "agr.xlsx")
    html_path, _ = write_check_report(examine(tmp_path / "agr.xlsx", "MA-TAO", "2013"), tmp_path / "report")
    probe = tmp_path / "probe.html"
    probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"),
                     encoding="utf-8")
    dumped = chromium("--window-size=1200,1600", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri(),
                      tmp_path=tmp_path)
    found = re.search(r'<pre id="layout">(.*?)</pre>', dumped.stdout)
    assert found, dumped.stderr[-2000:]
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["ar_direction"] == "rtl" and layout["fr_direction"] == "ltr"
    assert layout["cell_direction"] == "rtl"
    # The Arabic title hugs the right margin, the French one the left.
    assert layout["ar_text_right"] > layout["width"] * 0.9 and layout["ar_text_left"] > layout["width"] * 0.3
    assert layout["fr_text_left"] < layout["width"] * 0.1
    assert layout["arabic_glyph_width"] > 20  # Arabic text is drawn (a font has the glyphs)

    shot = tmp_path / "report.png"
    chromium("--window-size=1200,1600", f"--screenshot={shot}", html_path.as_uri(), tmp_path=tmp_path)
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.unit
def test_a_file_sent_for_the_wrong_province_is_refused_with_one_clear_reason(tmp_path, iga_home, capsys):
    book = Workbook()
    sheet = book.active
    sheet.append(["Province", *HEADER])
    for i in range(3):
        sheet.append(["Berkane", *good_row(i).values()])
    book.save(tmp_path / "agr.xlsx")
    assert main(["check", str(tmp_path / "agr.xlsx"), "--province", "MA-TAO", "--period", "2013"]) == 2
    out = capsys.readouterr().out
    assert "REFUSED — 3 project rows read, 0 would be loaded, 3 refused" in out
    assert "Reason: Le fichier a été déposé pour Taounate (MA-TAO) mais ses lignes indiquent la province " \
           "« Berkane »" in out
    html = (iga_home / "reports" / "check" / "agr.html").read_text(encoding="utf-8")
    assert "السبب: أودع الملف لإقليم تاونات (MA-TAO)" in html


@pytest.mark.unit
def test_a_report_of_many_findings_shows_the_first_of_each_table_and_counts_the_rest(tmp_path):
    from etl.reports import HTML_ROWS_PER_TABLE, fix_first_html

    many = HTML_ROWS_PER_TABLE + 1_500
    findings = [{"sheet": "AGR", "excel_row": row, "column_header": "Intitulé", "value": None, "project_code": f"P{row}",
                 "rule_id": "W_TITLE_MISSING", "severity": "warning", "message_fr": "Intitulé manquant",
                 "message_ar": "العنوان مفقود"} for row in range(2, 2 + many)]
    html = fix_first_html(findings)
    assert html.count("<td>W_TITLE_MISSING</td>") == HTML_ROWS_PER_TABLE
    assert "… et 1500 autre(s)" in html and "و1500 أخرى" in html
    assert f"<td>AGR</td><td>{HTML_ROWS_PER_TABLE + 1}</td>" in html  # the first rows, in order
    assert f"<td>AGR</td><td>{HTML_ROWS_PER_TABLE + 2}</td>" not in html
    few = fix_first_html(findings[:10])
    assert few.count("<td>W_TITLE_MISSING</td>") == 10 and "autre(s)" not in few
