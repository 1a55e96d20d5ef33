"""Done when: files of every kind go through `iga run` (the real DAGs) and load to the dirham, or
are refused with their reason while the others load."""
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from etl import reference
from etl.cli import main
from etl.config import settings

pytestmark = pytest.mark.dag

FIXTURES = Path(__file__).parent / "fixtures"
REFUSED = {"refuse_password.xlsx": "FILE_ENCRYPTED", "refuse_truncated.xlsx": "FILE_CORRUPT",
           "hand_web_export.xls": "FILE_NOT_SPREADSHEET", "hand_scan.pdf": "FILE_NOT_SPREADSHEET",
           "hand_letter.txt": "FILE_NO_HEADER"}


def test_every_fixture_through_iga_run(warehouse_url, iga_home, capsys):
    landing = settings().landing
    # (csv_saved_as.xlsx and xlsx_saved_as.xls are the same bytes as two others: duplicates here.)
    good = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json")
                  if "_saved_as" not in p.name)
    provinces = sorted(reference.provinces())
    placed = {}
    for index, name in enumerate(good + ["hand_taounate_cp1252.csv"] + sorted(REFUSED)):
        province = provinces[index]  # one province each: no file updates another's projects
        target = landing / province / "2013" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / name, target)
        placed[name] = province

    assert main(["run"]) == 0
    out = capsys.readouterr().out

    engine = create_engine(warehouse_url)
    with engine.connect() as conn:
        cost = dict(conn.execute(text(
            "SELECT province_code, sum(total_cost_mad) FROM core.project GROUP BY 1")).all())
        count = dict(conn.execute(text("SELECT province_code, count(*) FROM core.project GROUP BY 1")).all())
        lineage = conn.execute(text(
            "SELECT count(*) FROM core.project WHERE source_sheet IS NULL OR source_row IS NULL")).scalar_one()
        submissions = {row.file_name: row for row in conn.execute(text(
            "SELECT s.file_name, s.status, s.reason, f.rule_id FROM core.submission s "
            "LEFT JOIN quality.finding f ON f.submission_id = s.submission_id AND f.excel_row IS NULL "
            "AND f.severity = 'error'"))}
    engine.dispose()
    for name in good:
        rows = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))["rows"]
        province = placed[name]
        assert submissions[name].status == "loaded", (name, submissions[name].reason)
        assert count[province] == len(rows), name
        assert cost[province] == Decimal(sum(r["total_cost_mad"] for r in rows)) / 100, name
    hand = placed["hand_taounate_cp1252.csv"]
    assert submissions["hand_taounate_cp1252.csv"].status == "partial"
    assert cost[hand] == Decimal("2448500.50")  # the totals row of the file says so; row 9 refused
    for name, rule_id in REFUSED.items():
        assert submissions[name].status == "refused" and submissions[name].rule_id == rule_id, name
        assert placed[name] not in count, name
        assert f"refused: {placed[name]}/2013/{name}" in out
    assert lineage == 0
