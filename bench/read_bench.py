"""How long reading a big provincial workbook takes, against calamine's raw read of the same file.

    .venv/bin/python bench/read_bench.py [--rows 100000] [--runs 5]

Writes (once, cached in bench/work/) a workbook of ``--rows`` projects and 20 columns as clerks
type them: a title block, French headers with units, a "N°" and an "Observations" column, amounts
as text in several styles ("1 250 000,00", "1.250.000,00 DH", non-breaking spaces, Arabic-Indic
digits) or numbers, dates as date cells, "12/03/2010" or ISO text, labels in spelling variants,
blank rows and a totals row. Then times, median of ``--runs``:

- calamine raw: ``CalamineWorkbook`` open + ``to_python()`` of the sheet (the floor);
- read_file: the reader's own read (content sniffing, zip-bomb and row-limit checks, calamine);
- read + normalise: ``read_file`` + ``read_project_sheets`` (header mapping, every value parsed
  to canonical values, totals/blank rows recognised, findings).

It checks the rows read equal the rows written before printing the table.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import median_time  # noqa: E402
from etl import sample  # noqa: E402
from etl.normalise import read_project_sheets  # noqa: E402
from etl.read import read_file  # noqa: E402


def build_workbook(path: Path, rows: int) -> list[tuple[int, object]]:
    from openpyxl import Workbook

    layout = sample.Layout(file_format="xlsx", numbering_column=True, title_rows=3, blank_every=50,
                           totals_label="TOTAL GENERAL", seed=7,
                           amount_styles=sample.AMOUNT_STYLES, date_styles=("date", "dmy", "iso"))
    projects = sample.random_projects(random.Random(7), rows, "MA-TAO", last_year=2013)
    for index, project in enumerate(projects):  # codes unique over 100,000 rows
        project["project_code"] = f"TAO-{project['approval_year']}-{index + 1:06d}"
    grid, expected, _merged = sample.layout_grid(projects, layout, "MA-TAO", "2013")
    header_row = 3 + 1  # title rows, then a blank row
    grid[header_row].append("Observations")
    for row in grid[header_row + 1:]:
        row.append(random.choice([None, "RAS", "Suivi en cours", "Visite du 12/05/2013"]))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Projets AGR")
        for row in grid:
            sheet.append(row)
        partial = path.with_name(path.name + ".part")
        book.save(partial)
        partial.replace(path)
    return [(row["total_cost_mad"], row["start_date"]) for row in expected]


def calamine_raw(path: Path):
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as f:
        workbook = CalamineWorkbook.from_filelike(f)
        return workbook.get_sheet_by_name(workbook.sheet_names[0]).to_python()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peak-memory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_memory:
        read_project_sheets(read_file(args.peak_memory), "MA-TAO")
        status = Path("/proc/self/status").read_text()  # VmHWM: this process's peak resident memory
        print(int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024)
        return
    path = HERE / "work" / f"projets_{args.rows}.xlsx"
    started = time.perf_counter()
    existed = path.exists()
    expected = build_workbook(path, args.rows)
    gc.collect()  # the generated rows are gone: time the reader in a process holding little else
    print(f"workbook: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} projects x 20 columns; "
          f"{'cached' if existed else f'written in {time.perf_counter() - started:.1f} s'})")

    raw_s, raw = median_time(lambda: calamine_raw(path), args.runs)
    read_s, _ = median_time(lambda: read_file(path), args.runs)
    full_s, (sheets, findings) = median_time(lambda: read_project_sheets(read_file(path), "MA-TAO"), args.runs)

    rows = [row for sheet in sheets for row in sheet.rows]
    problems = [f for sheet in sheets for f in sheet.findings if f.severity != "info"]
    assert len(rows) == len(expected) and not problems, (len(rows), len(expected), problems[:3])
    assert [(r["total_cost_mad"], r["start_date"]) for r in rows] == expected

    # Peak memory of reading alone, in a fresh process (this one also holds the generated rows).
    child = subprocess.run([sys.executable, __file__, "--peak-memory", str(path)], check=True,
                           capture_output=True, text=True)
    peak_mb = float(child.stdout.strip())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.runs} runs; peak RSS of read + normalise in a fresh process: {peak_mb:.0f} MB")
    print(f"{'step':<44}{'seconds':>10}{'x calamine':>12}")
    for name, seconds in (("calamine raw read (to_python)", raw_s),
                          ("read_file (checks + calamine)", read_s),
                          ("read_file + read_project_sheets (normalise)", full_s)):
        print(f"{name:<44}{seconds:>10.2f}{seconds / raw_s:>12.1f}")
    print(f"rows: {len(raw)} in the sheet, {len(rows)} projects read, all equal to the rows written")


if __name__ == "__main__":
    main()
