"""The publish DAG's work: refresh the marts in one transaction, then write the published files."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import text

from etl.config import SQL_DIR, settings
from etl.warehouse import engine

# Order matters: the region and national rows roll up the province rows.
MARTS = ("province_summary", "region_summary", "national_summary")
EXPORT_QUERIES = {
    "province_summary": "SELECT * FROM mart.province_summary ORDER BY region_code, province_code",
    "region_summary": "SELECT * FROM mart.region_summary ORDER BY region_code",
    "national_summary": "SELECT * FROM mart.national_summary",
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def refresh_marts() -> str:
    """Rebuild every mart from the current projects; readers see the old or the new, never half."""
    refreshed_at = dt.datetime.now(dt.timezone.utc)
    with engine().begin() as conn:
        for mart in MARTS:
            conn.execute(text((SQL_DIR / "mart" / f"{mart}.sql").read_text()), {"refreshed_at": refreshed_at})
    return refreshed_at.isoformat()


def neutralise(value: object) -> object:
    """A published cell must never run as a formula in a spreadsheet."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_exports() -> str:
    """CSV of every mart plus a manifest, in ``published/<timestamp>/`` and ``published/latest``."""
    root = settings().published
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = root / stamp
    folder.mkdir(parents=True)
    manifest = {"generated_at": stamp, "files": {}}
    with engine().connect() as conn:
        manifest["submissions_included"] = conn.execute(text(
            "SELECT coalesce(array_agg(DISTINCT submission_id ORDER BY submission_id), '{}') FROM core.project"
        )).scalar_one()
        for mart in MARTS:
            result = conn.execute(text(EXPORT_QUERIES[mart]))
            path = folder / f"{mart}.csv"
            with open(path, "w", newline="", encoding="utf-8-sig") as f:
                writer = csv.writer(f)
                writer.writerow(result.keys())
                rows = 0
                for row in result:
                    writer.writerow([neutralise(v) for v in row])
                    rows += 1
            manifest["files"][path.name] = {"rows": rows, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    latest = root / "latest"
    tmp = root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(folder.name)
    tmp.replace(latest)
    return str(folder)
