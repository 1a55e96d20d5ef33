"""The publish DAG's work: rebuild the marts in one transaction, then write the published files.

Published files (``$IGA_HOME/published/<time>/``, ``published/latest`` points at the newest):
a CSV, an XLSX (French and Arabic headers) and a Parquet file per mart view, PNG charts of the
main indicators, a self-contained national HTML report embedding them, and ``manifest.json``
(generation time, submissions included, row counts, SHA-256 of every file).
"""
from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import os
import shutil
from decimal import Decimal
from html import escape
from pathlib import Path

from sqlalchemy import text

from etl import reference
from etl.config import SQL_DIR, settings
from etl.formatting import format_amount, format_count, format_share
from etl.warehouse import engine
from etl.workbook import neutralise

# The views analysts read, and the order of the published files; all computed from mart.indicator.
EXPORT_QUERIES = {
    "national_summary": "SELECT * FROM mart.national_summary",
    "region_summary": "SELECT * FROM mart.region_summary ORDER BY region_code",
    "province_summary": "SELECT * FROM mart.province_summary ORDER BY region_code, province_code",
    "breakdown_summary": "SELECT * FROM mart.breakdown_summary ORDER BY dimension, code NULLS LAST",
    "province_year_summary":
        "SELECT * FROM mart.province_year_summary ORDER BY province_code, approval_year NULLS LAST",
    "reporting_completeness":
        "SELECT * FROM mart.reporting_completeness ORDER BY region_code, province_code, period",
}


def refresh_marts() -> str:
    """Rebuild every mart from the current projects; readers see the old or the new, never half."""
    refreshed_at = dt.datetime.now(dt.timezone.utc)
    with engine().begin() as conn:
        conn.execute(text((SQL_DIR / "mart" / "indicator.sql").read_text()), {"refreshed_at": refreshed_at})
    return refreshed_at.isoformat()


def column_labels() -> dict[str, tuple[str, str]]:
    """Column name -> (French label, Arabic label), from the data dictionary."""
    return {row["column"]: (row["label_fr"], row["label_ar"])
            for row in reference.read_csv("data_dictionary.csv") if row["column"]}


def write_csv(path: Path, columns: list[str], rows: list[tuple]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows([[neutralise(v) for v in row] for row in rows])


def write_xlsx(path: Path, columns: list[str], rows: list[tuple]) -> None:
    """The mart as a workbook: French and Arabic labels over the columns (etl.workbook: no live
    formula, no illegal character), then a sheet naming the columns."""
    from etl.workbook import Sheet, write_workbook

    labels = column_labels()
    header = [[labels.get(c, (c, c))[0] for c in columns], [labels.get(c, (c, c))[1] for c in columns]]
    names = [[column, *labels.get(column, (column, column))] for column in columns]
    write_workbook(path, [Sheet(path.stem[:31], header, rows, right_to_left_header_lines=(1,)),
                          Sheet("colonnes", [["colonne", "libellé", "التسمية"]], names, freeze=False)])


def write_parquet(path: Path, columns: list[str], rows: list[tuple]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for index, column in enumerate(columns):
        values = [row[index] for row in rows]
        if any(isinstance(v, Decimal) for v in values):
            arrays.append(pa.array(values, type=pa.decimal128(18, 4)))
        else:
            arrays.append(pa.array(values))
    pq.write_table(pa.Table.from_arrays(arrays, names=columns), path)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_exports() -> str:
    """Write every published file into a new folder and point ``published/latest`` at it.

    The folder is written under a hidden ``.<time>.partial`` name, flushed to disk, renamed, and only
    then does ``latest`` (a symlink replaced atomically) point at it: a kill or a crash at any moment
    leaves ``latest`` on the previous complete folder, and the next run removes the partial one.
    Every file is read from one snapshot of the marts (REPEATABLE READ), so they agree.
    """
    root = settings().published
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(".*.partial"):  # what a killed run left
        shutil.rmtree(leftover, ignore_errors=True)
    generated_at = dt.datetime.now(dt.timezone.utc)
    name = generated_at.strftime("%Y%m%dT%H%M%S%fZ")
    folder = root / f".{name}.partial"
    folder.mkdir()
    tables: dict[str, tuple[list[str], list[tuple]]] = {}
    with engine().connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        submissions = conn.execute(text(
            "SELECT coalesce(array_agg(DISTINCT submission_id ORDER BY submission_id), '{}') FROM core.project"
        )).scalar_one()
        for mart, query in EXPORT_QUERIES.items():
            result = conn.execute(text(query))
            tables[mart] = (list(result.keys()), [tuple(row) for row in result])
    for mart, (columns, rows) in tables.items():
        write_csv(folder / f"{mart}.csv", columns, rows)
        write_xlsx(folder / f"{mart}.xlsx", columns, rows)
        write_parquet(folder / f"{mart}.parquet", columns, rows)
    from etl.charts import write_charts

    charts = write_charts(folder, tables)
    (folder / "rapport_national.html").write_text(national_report_html(tables, charts, generated_at),
                                                  encoding="utf-8")
    manifest = {
        "generated_at": generated_at.isoformat(),
        "submissions_included": list(submissions),
        "row_counts": {mart: len(rows) for mart, (_, rows) in tables.items()},
        "files": {path.name: {"bytes": path.stat().st_size,
                              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
                  for path in sorted(folder.iterdir())},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    for path in folder.iterdir():
        _fsync(path)
    _fsync(folder)
    final = folder.rename(root / name)
    _fsync(root)
    latest = root / "latest"
    staging = root / ".latest.tmp"
    staging.unlink(missing_ok=True)
    staging.symlink_to(final.name)
    staging.replace(latest)
    _fsync(root)
    return str(final)


def _fmt(column: str, value: object) -> str:
    """A figure the way a French-speaking reader expects it: 1 250 000,00 and 31,5 %."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        if column.endswith("_share"):
            return format_share(value)
        return format_amount(value)
    if isinstance(value, int):
        return format_count(value)
    return escape(str(value))


def _table(columns: list[str], rows: list[tuple], show: list[str]) -> str:
    labels = column_labels()
    head = "".join(f"<th>{escape(labels.get(c, (c, c))[0])}<br><span dir='rtl'>{escape(labels.get(c, (c, c))[1])}</span></th>"
                   for c in show)
    index = [columns.index(c) for c in show]
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c, row[i])}</td>" for c, i in zip(show, index)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def national_report_html(tables: dict, charts: dict[str, Path], generated_at: dt.datetime) -> str:
    """One self-contained page: key figures, charts (embedded), region and province tables."""
    columns, (national,) = tables["national_summary"]
    figures = dict(zip(columns, national))
    images = "".join(
        f"<figure><img alt='{escape(title)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'><figcaption>{escape(title)}</figcaption></figure>"
        for title, path in charts.items())
    key = ("projects", "total_cost_mad", "indh_contribution_mad", "beneficiaries", "women", "youth",
           "jobs_created", "indh_share", "promoter_share", "cost_per_job_mad")
    labels = column_labels()
    cards = "".join(f"<div class='card'><b>{_fmt(k, figures[k])}</b><span>{escape(labels[k][0])}</span>"
                    f"<span dir='rtl'>{escape(labels[k][1])}</span></div>" for k in key)
    region_columns, region_rows = tables["region_summary"]
    province_columns, province_rows = tables["province_summary"]
    shown = ["projects", "total_cost_mad", "indh_contribution_mad", "beneficiaries", "women", "youth",
             "jobs_created", "promoter_share", "cost_per_job_mad"]
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>INDH — Activités génératrices de revenus — rapport national</title>
<style>body{{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222}}h1{{color:#0b5}}
.cards{{display:flex;flex-wrap:wrap;gap:10px}}.card{{border:1px solid #ccc;border-radius:6px;padding:8px 12px;
min-width:150px;display:flex;flex-direction:column}}.card b{{font-size:1.3em;white-space:nowrap}}
table{{border-collapse:collapse;font-size:12px;margin:12px 0}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}td{{white-space:nowrap}}
th{{background:#eef6ee}}figure{{display:inline-block;margin:8px}}img{{max-width:560px}}</style></head><body>
<h1>Activités génératrices de revenus — situation nationale</h1>
<h2 dir="rtl" lang="ar">الأنشطة المدرة للدخل — الوضعية الوطنية</h2>
<p>Projets en cours de validité dans l'entrepôt national, au {generated_at:%d/%m/%Y %H:%M} UTC;
{figures['provinces_reporting']} provinces et préfectures sur 75 ont des projets.</p>
<div class="cards">{cards}</div>
<h2>Indicateurs / المؤشرات</h2>{images}
<h2>Par région / حسب الجهة</h2>{_table(region_columns, region_rows, ["region_name_fr", "region_name_ar", *shown])}
<h2>Par province / حسب العمالة أو الإقليم</h2>{_table(province_columns, province_rows, ["province_code", "province_name_fr", *shown])}
</body></html>"""
