"""`make bench`: the pipeline against the physical floor, measured in the same run on the same data.

Each case runs several times and reports medians; results go to bench/results.json and to the
table between the bench markers in README.md, with the machine they ran on.

    python -m bench.run            # everything (about 8-10 minutes on 2 cores, first run included)
    python -m bench.run --quick    # 10k rows only, no 1M case: a smoke run of the harness
    python -m bench.run --only portal   # the portal's cases alone, merged into the last results
    python -m bench.run --only scheduler   # the national cycle under the real scheduler, likewise
    python -m bench.run --only findings    # a warning on every row of 100,000, likewise
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
README = REPO / "README.md"
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"


def median_time(function, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_kb / 1024 ** 2, 1),
            "python": platform.python_version(), "os": platform.platform()}


class Warehouse:
    """A migrated template on the embedded server (or IGA_BENCH_DATABASE_URL); a fresh copy per run."""

    def __init__(self):
        from sqlalchemy import create_engine, text

        from etl.migrate import migrate
        from etl.warehouse import embedded_url, normalise_url

        configured = os.environ.get("IGA_BENCH_DATABASE_URL")
        self.embedded = not configured
        base = normalise_url(configured) if configured else embedded_url(WORK / "pgdata")
        from sqlalchemy.engine import make_url

        self.base = make_url(base)
        self.admin = create_engine(self.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []
        self.template = self._create(None)
        engine = create_engine(self.url(self.template))
        migrate(engine)
        engine.dispose()
        with self.admin.connect() as conn:
            self.server_version = conn.execute(text("SHOW server_version")).scalar()

    def _create(self, template: str | None) -> str:
        from sqlalchemy import text

        name = f"iga_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text("CREATE DATABASE " + name + (" TEMPLATE " + template if template else "")))
        self.names.append(name)
        return name

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def fresh(self) -> str:
        return self.url(self._create(self.template))

    def close(self) -> None:
        from sqlalchemy import text

        from etl.warehouse import _engine_for, stop_embedded

        _engine_for.cache_clear()
        with self.admin.connect() as conn:
            for name in reversed(self.names):
                conn.execute(text("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"))
        self.admin.dispose()
        if self.embedded:
            stop_embedded(WORK / "pgdata")


def workbook(rows: int, warn_every_row: bool = False) -> Path:
    from bench.workbook import write_big_workbook

    path = WORK / f"projects_{rows}{'_warnings' if warn_every_row else ''}.xlsx"
    if not path.exists():
        print(f"  writing a {rows:,}-row workbook (once; cached in {path.parent})", flush=True)
        write_big_workbook(path.with_suffix(".part.xlsx"), rows, warn_every_row=warn_every_row)
        path.with_suffix(".part.xlsx").replace(path)
    return path


def floor_once(path: Path, url: str) -> tuple[float, float]:
    """The fastest read of the workbook this machine has (the better of calamine's raw read and
    fastexcel's read to Arrow, both timed here) + COPY of as many 20-column rows into an unlogged table."""
    import fastexcel
    from python_calamine import CalamineWorkbook
    from sqlalchemy import create_engine

    started = time.perf_counter()
    fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, skip_rows=0, dtypes="string").to_arrow()
    arrow_seconds = time.perf_counter() - started
    started = time.perf_counter()
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    read_seconds = min(time.perf_counter() - started, arrow_seconds)
    rows = grid[4:]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    engine = create_engine(url)
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("CREATE UNLOGGED TABLE floor_copy (" + ", ".join(f"c{i} text" for i in range(20)) + ")")
        buffer.seek(0)
        started = time.perf_counter()
        cursor.copy_expert("COPY floor_copy FROM STDIN WITH (FORMAT csv)", buffer)
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE floor_copy")
    engine.dispose()
    return read_seconds, copy_seconds


def pipeline_once(path: Path, url: str) -> dict[str, float]:
    """Read, normalise, validate, load and publish one file, in this process; seconds per stage."""
    from sqlalchemy import create_engine

    from etl.examine import examine
    from etl.load import load_submission
    from etl.publish import refresh_marts
    from etl.read import sha256_of

    os.environ["IGA_WAREHOUSE_URL"] = url
    engine = create_engine(url)
    stages = {}
    started = time.perf_counter()
    exam = examine(path, "MA-TAO", "2013")
    stages["read_normalise_validate"] = time.perf_counter() - started
    mark = time.perf_counter()
    with tempfile.TemporaryDirectory() as archive:
        summary = load_submission(engine, exam, f"MA-TAO/2013/{path.name}", sha256_of(path),
                                  path.stat().st_size, Path(archive))
    stages["load"] = time.perf_counter() - mark
    mark = time.perf_counter()
    refresh_marts()
    stages["publish_marts"] = time.perf_counter() - mark
    stages["total"] = time.perf_counter() - started
    assert summary["status"] == "partial", summary
    engine.dispose()
    return stages


def stage_breakdown(path: Path) -> dict[str, float]:
    """Where the reading time goes on the path ``examine`` takes: the column-wise read (etl.columns),
    the column-wise normalisation (etl.columnar), GX validation; and, for comparison, the per-cell
    path (etl.read + etl.normalise, now the oracle of the tests) on the same file."""
    from etl import columnar, normalise
    from etl.columns import read_columns
    from etl.read import read_file
    from etl.validate import validate_rows

    started = time.perf_counter()
    sources = read_columns(path)
    read_seconds = time.perf_counter() - started
    mark = time.perf_counter()
    sheets, _ = columnar.read_project_sheets(sources, "MA-TAO", 2013)
    normalise_seconds = time.perf_counter() - mark
    mark = time.perf_counter()
    validate_rows(sheets, "2013")
    validate_seconds = time.perf_counter() - mark
    del sources, sheets
    mark = time.perf_counter()
    raw = read_file(path)
    per_cell_read_seconds = time.perf_counter() - mark
    mark = time.perf_counter()
    normalise.read_project_sheets(raw, "MA-TAO", 2013)
    return {"read": read_seconds, "normalise": normalise_seconds, "validate_gx": validate_seconds,
            "per_cell_read": per_cell_read_seconds, "per_cell_normalise": time.perf_counter() - mark}


def case_file(warehouse: Warehouse, rows: int, repeat: int) -> dict:
    path = workbook(rows)
    floors = [floor_once(path, warehouse.fresh()) for _ in range(repeat)]
    floor_read = statistics.median(f[0] for f in floors)
    floor_copy = statistics.median(f[1] for f in floors)
    runs = [pipeline_once(path, warehouse.fresh()) for _ in range(repeat)]
    result = {
        "rows": rows, "repeat": repeat,
        "floor_read_s": floor_read, "floor_copy_s": floor_copy, "floor_s": floor_read + floor_copy,
        "stages_s": {k: statistics.median(r[k] for r in runs) for k in runs[0]},
        "breakdown_s": stage_breakdown(path),
    }
    result["pipeline_s"] = result["stages_s"]["total"]
    result["ratio_to_floor"] = result["pipeline_s"] / result["floor_s"]
    result["us_per_row"] = result["pipeline_s"] / rows * 1e6
    return result


def findings_once(path: Path, url: str) -> dict[str, float]:
    """`iga check` (examine + its report) and the load with the submission report and mail."""
    from sqlalchemy import create_engine

    from etl.examine import examine
    from etl.load import load_submission
    from etl.read import sha256_of
    from etl.reports import send_submission_reports, write_check_report

    os.environ["IGA_WAREHOUSE_URL"] = url
    engine = create_engine(url)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        exam = examine(path, "MA-TAO", "2013")
        write_check_report(exam, Path(folder) / "check")
        check_seconds = time.perf_counter() - started
        mark = time.perf_counter()
        load_submission(engine, exam, f"MA-TAO/2013/{path.name}", sha256_of(path), path.stat().st_size,
                        Path(folder) / "archive")
        send_submission_reports()
        load_seconds = time.perf_counter() - mark
    engine.dispose()
    return {"check_s": check_seconds, "load_report_mail_s": load_seconds, "findings": len(exam.findings)}


FINDINGS_PROBE = ("import json, sys; from pathlib import Path; from etl.validate import _validator; _validator(); "
                  "from bench.run import findings_once; "
                  "print(json.dumps(findings_once(Path(sys.argv[1]), sys.argv[2])))")
FINDINGS_TIMEOUT_S = 600


def case_findings(warehouse: Warehouse, rows: int) -> dict:
    """The same file clean and with a warning on every row, through check, load, report and mail.

    Each in a fresh process (imports and the GX context warmed up before timing), stopped after
    ``FINDINGS_TIMEOUT_S``: a report writer that is quadratic in findings shows as a timeout.
    """
    result: dict = {"rows": rows, "timeout_s": FINDINGS_TIMEOUT_S}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name, warn in (("clean", False), ("warning_every_row", True)):
        path = workbook(rows, warn)
        try:
            done = subprocess.run([sys.executable, "-c", FINDINGS_PROBE, str(path), warehouse.fresh()], env=env,
                                  capture_output=True, text=True, check=True, timeout=FINDINGS_TIMEOUT_S)
            result[name] = json.loads(done.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            result[name] = None
    clean, warned = result["clean"], result["warning_every_row"]
    if clean and warned:
        result["ratio"] = ((warned["check_s"] + warned["load_report_mail_s"])
                           / (clean["check_s"] + clean["load_report_mail_s"]))
    return result


PEER_VENV = WORK / "peer-venv"


def case_peer(rows: int) -> dict | None:
    """Frictionless `validate` (structure only, no schema) on the same workbook, in its own venv.

    Frictionless refuses absolute paths outside its working folder: it runs from the file's folder.
    """
    if not (PEER_VENV / "bin" / "frictionless").exists():
        print("  installing frictionless 5.21.0 into bench/work/peer-venv (bench only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "--quiet", "frictionless[excel]==5.21.0"],
                       check=True)
    path = workbook(rows)
    started = time.perf_counter()
    subprocess.run([str(PEER_VENV / "bin" / "frictionless"), "validate", path.name], cwd=path.parent,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # exits 1: the file has errors
    return {"rows": rows, "frictionless_validate_s": time.perf_counter() - started}


PEAK_RSS = ("import re; print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)))")


def case_memory(warehouse: Warehouse, rows: int) -> dict:
    """Peak RSS of a fresh process that runs case 1 once, imports included: as the process starts
    (the imports come as the stages need them), and after :func:`etl.isolate.prepare_to_fork` (what
    a file's child inherits from its parent under `iga run` and the scheduler: GX, pandas, the
    suite, all mapped before the file is read).

    Read from /proc/self/status (VmHWM): getrusage's ru_maxrss survives fork and exec, so a child
    of this (large) process would report the parent's peak.
    """
    run_case = ("from pathlib import Path; from bench.run import pipeline_once; "
                "pipeline_once(Path(sys.argv[1]), sys.argv[2]); " + PEAK_RSS)
    preload = "from etl.isolate import prepare_to_fork; prepare_to_fork(); "
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def peak(code: str, *args: str) -> float:
        done = subprocess.run([sys.executable, "-c", "import sys; " + code, *args],
                              capture_output=True, text=True, env=env, check=True)
        return int(done.stdout.split()[-1]) / 1024

    path = str(workbook(rows))
    return {"rows": rows, "peak_rss_mb": peak(run_case, path, warehouse.fresh()),
            "peak_rss_preloaded_mb": peak(preload + run_case, path, warehouse.fresh()),
            "imports_only_rss_mb": peak(preload + PEAK_RSS)}


def case_national_cycle(warehouse: Warehouse, repeat: int) -> dict:
    """75 provincial files of about 400 rows through the real DAGs (`iga run`), start to published marts."""
    from etl.sample import generate

    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as home:
            landing = Path(home) / "landing"
            expected = generate(landing, rows=(380, 421))
            env = {**os.environ, "IGA_HOME": home, "IGA_LANDING": str(landing),
                   "IGA_WAREHOUSE_URL": warehouse.fresh()}
            env.pop("AIRFLOW_HOME", None)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "etl.cli", "run"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
    return {"files": 75, "rows": sum(t.projects for t in expected.provinces.values()),
            "repeat": repeat, "wall_s": statistics.median(times), "runs_s": times}


PARSE_PROBE = ("import sys, time, importlib.util; import airflow.sdk; started = time.perf_counter(); "
               "spec = importlib.util.spec_from_file_location('d', sys.argv[1]); "
               "spec.loader.exec_module(importlib.util.module_from_spec(spec)); "
               "print(time.perf_counter() - started)")


def case_dag_parse(repeat: int) -> dict:
    """Wall time of a fresh interpreter importing each DAG file, against importing airflow.sdk alone."""
    with tempfile.TemporaryDirectory(prefix="iga-bench-airflow-") as airflow_home:
        return _dag_parse(repeat, {**os.environ, "AIRFLOW_HOME": airflow_home})


def _dag_parse(repeat: int, env: dict) -> dict:
    def wall(args: list[str]) -> tuple[float, str]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, check=True)
        return time.perf_counter() - started, done.stdout.strip()

    baseline = statistics.median(wall(["-c", "import airflow.sdk"])[0] for _ in range(repeat))
    files = {}
    for dag in sorted((REPO / "dags").glob("*.py")):
        runs = [wall(["-c", PARSE_PROBE, str(dag)]) for _ in range(repeat)]
        files[dag.name] = {"wall_s": statistics.median(r[0] for r in runs),
                           "module_exec_s": statistics.median(float(r[1].splitlines()[-1]) for r in runs)}
        files[dag.name]["above_baseline_s"] = files[dag.name]["wall_s"] - baseline
    return {"baseline_import_airflow_sdk_s": baseline, "files": files}


def case_queries(url: str, repeat: int = 30) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    results = {}
    with engine.connect() as conn:
        for name in ("national_summary", "region_summary", "province_summary"):
            statement = text("SELECT * FROM mart." + name)
            conn.execute(statement).all()
            seconds, _ = median_time(lambda: conn.execute(statement).all(), repeat)
            results[name + "_ms"] = seconds * 1000
    engine.dispose()
    return results


def write_readme(results: dict) -> None:
    m = results["machine"]
    lines = [MARK_START, "",
             f"Measured by `make bench` on {results['date']}: {m['cpu']}, {m['cores']} cores, "
             f"{m['memory_gib']} GiB, Python {m['python']}, PostgreSQL {results['postgresql']} "
             f"(embedded). Medians; ratios are to the floor measured in the same run "
             f"(the better of calamine's raw read and fastexcel's read to Arrow, + COPY of the same number of "
             f"rows into an unlogged table). The machine was shared with other work while it ran.", "",
             "| case | measured | floor | ratio | target |", "|---|---|---|---|---|"]
    for key in ("file_10k", "file_100k", "file_1m"):
        if key in results:
            r = results[key]
            stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items() if k != "total")
            lines.append(f"| {r['rows']:,} rows: read → published marts ({stages} s) | {r['pipeline_s']:.2f} s "
                         f"({r['us_per_row']:.0f} µs/row) | {r['floor_s']:.2f} s | {r['ratio_to_floor']:.2f}x | "
                         f"{'linear growth' if key == 'file_10k' else '≤ 2x' + (', linear' if key == 'file_1m' else '')} |")
    if "memory" in results:
        r = results["memory"]
        lines.append(f"| peak memory (RSS), 100,000-row file, whole process (a fresh process, imports as the stages "
                     f"need them) | {r['peak_rss_mb']:.0f} MB | {r['imports_only_rss_mb']:.0f} MB (the imports of a "
                     f"preloaded parent alone) | | < 400 MB |")
        if "peak_rss_preloaded_mb" in r:
            lines.append(f"| the same, in a process that imported everything first (`prepare_to_fork`: what a file's "
                         f"child starts from under `iga run` and the scheduler) | {r['peak_rss_preloaded_mb']:.0f} MB | "
                         f"{r['imports_only_rss_mb']:.0f} MB (those imports alone) | | |")
    if "national_cycle" in results:
        r = results["national_cycle"]
        lines.append(f"| national cycle: 75 files, {r['rows']:,} rows, real DAGs (`iga run`, imports included) | "
                     f"{r['wall_s']:.1f} s | | | < 25 s |")
    if "scheduler_cycle" in results:
        r = results["scheduler_cycle"]
        lines.append(f"| national cycle under the real scheduler: 75 files dropped, `iga_ingest` triggered over REST "
                     f"until `iga_publish` succeeded (`iga airflow`, LocalExecutor; one file task "
                     f"{r['file_task_median_s']:.1f} s median; {r['date']}, load average {r['load_average']}) | "
                     f"{r['cycle_s']:.1f} s | | | < 60 s |")
    if "findings" in results:
        r = results["findings"]
        clean, warned = r["clean"], r["warning_every_row"]
        clean_s = f"{clean['check_s'] + clean['load_report_mail_s']:.2f} s (the clean file)" if clean else "timeout"
        if warned:
            lines.append(f"| {r['rows']:,} rows, a warning on every row ({warned['findings']:,} findings): `iga check` "
                         f"{warned['check_s']:.2f} s, load + report + mail {warned['load_report_mail_s']:.2f} s | "
                         f"{warned['check_s'] + warned['load_report_mail_s']:.2f} s | {clean_s} | "
                         f"{r.get('ratio', float('nan')):.2f}x | ≤ 3x |")
        else:
            lines.append(f"| {r['rows']:,} rows, a warning on every row: `iga check`, load, report, mail | "
                         f"not finished in {r['timeout_s']} s (the findings XLSX writer is quadratic) | {clean_s} | "
                         f"| ≤ 3x |")
    if "peer" in results and "file_100k" in results:
        r = results["peer"]
        ours = results["file_100k"]["pipeline_s"]
        lines.append(f"| peer: Frictionless `validate` (structure only, no schema), same {r['rows']:,}-row file | "
                     f"{r['frictionless_validate_s']:.1f} s | {ours:.2f} s (our whole pipeline) | "
                     f"{r['frictionless_validate_s'] / ours:.1f}x ours | |")
    if "dag_parse" in results:
        r = results["dag_parse"]
        worst = max(r["files"].items(), key=lambda item: item[1]["above_baseline_s"])
        lines.append(f"| DAG file parse, slowest ({worst[0]}), fresh interpreter | "
                     f"{worst[1]['wall_s']:.2f} s ({worst[1]['above_baseline_s'] * 1000:+.0f} ms; module "
                     f"{worst[1]['module_exec_s'] * 1000:.0f} ms) | {r['baseline_import_airflow_sdk_s']:.2f} s "
                     f"(`import airflow.sdk`) | | < 0.3 s above |")
    if "file_100k" in results:
        b = results["file_100k"]["breakdown_s"]
        lines.append(f"| validation alone (GX suite), 100,000 rows | {b['validate_gx']:.2f} s | "
                     f"{b['read']:.2f} s (read to Arrow) | {b['validate_gx'] / b['read']:.2f}x | |")
        lines.append(f"| normalisation alone, column-wise (etl.columnar: headers, values, findings), 100,000 rows | "
                     f"{b['normalise']:.2f} s | {b['read']:.2f} s (read to Arrow) | {b['normalise'] / b['read']:.2f}x | |")
        if "per_cell_read" in b:
            lines.append(f"| the per-cell path on the same file (the tests' oracle): read_file "
                         f"{b['per_cell_read']:.2f} s + normalise {b['per_cell_normalise']:.2f} s | "
                         f"{b['per_cell_read'] + b['per_cell_normalise']:.2f} s | "
                         f"{b['read'] + b['normalise']:.2f} s (column-wise read + normalise) | "
                         f"{(b['per_cell_read'] + b['per_cell_normalise']) / (b['read'] + b['normalise']):.2f}x | |")
    if "portal" in results:
        p = results["portal"]
        lines.append(f"| portal: dry run of a {p['dry_run_rows']:,}-row file, upload start → findings page "
                     f"(`iga portal` over loopback, {p['date']}) | {p['dry_run_s']:.2f} s | {p['examine_floor_s']:.2f} s "
                     f"(the examination alone) | {p['dry_run_s'] / p['examine_floor_s']:.2f}x | < 2 s |")
        lines.append(f"| portal: {p['clerks']} clerks at once (log in, upload {p['clerk_rows']} rows, dry run, "
                     f"submit) | {p['concurrent_wall_s']:.1f} s for all; dry run median "
                     f"{p['concurrent_dry_run_median_s']:.1f} s, slowest {p['concurrent_dry_run_max_s']:.1f} s | | | "
                     f"{p['concurrent_errors']} errors, {p['files_lost']} files lost of {p['clerks']} |")
    if "queries" in results:
        q = results["queries"]
        lines.append(f"| analyst queries on the marts (national / region / province summary) | "
                     f"{q['national_summary_ms']:.1f} / {q['region_summary_ms']:.1f} / "
                     f"{q['province_summary_ms']:.1f} ms | | | |")
    if "hostile" in results:
        wall, every = results["hostile"]["wall"], results["hostile"]["finding_every_row"]
        lines.append(f"| child wall (etl.isolate): `iga check`'s path on 10,000 rows in a child / in the process; "
                     f"fork and return alone {wall['fork_return_ms']:.0f} ms | {wall['check_10k_child_s']:.2f} s | "
                     f"{wall['check_10k_inline_s']:.2f} s | {wall['ratio']:.2f}x | |")
        lines.append(f"| file with a finding on every row: `iga check` on {every['rows']:,} rows "
                     f"({every['findings']:,} findings; HTML + XLSX reports alone {every['reports_s']:.1f} s, "
                     f"{every['reports_us_per_finding']:.0f} µs/finding) | {every['iga_check_s']:.1f} s | | | linear |")
    lines += ["", MARK_END]
    text = README.read_text(encoding="utf-8")
    if MARK_START in text:
        head, rest = text.split(MARK_START, 1)
        text = head + "\n".join(lines) + rest.split(MARK_END, 1)[1]
    else:
        text += "\n## Measured figures\n\n" + "\n".join(lines) + "\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k rows only, fewer repeats")
    parser.add_argument("--only", choices=("portal", "scheduler", "findings"),
                        help="run one case, merged into the last results")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("IGA_HOME", str(WORK / "home"))
    # The million-row case is over the default file limits meant for provincial uploads (rows, and
    # cells: 1,000,000 x 20 is over IGA_MAX_CELLS, and the file would be refused, not measured).
    os.environ.update({"IGA_MAX_FILE_MB": "1000", "IGA_MAX_ROWS": "2000000", "IGA_MAX_UNCOMPRESSED_MB": "5000",
                       "IGA_MAX_CELLS": "40000000"})
    results: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}
    last = BENCH_DIR / "results.json"
    if args.only and last.exists():  # the other cases keep their figures, date and machine
        results = json.loads(last.read_text())
    warehouse = Warehouse()
    results["postgresql"] = warehouse.server_version
    try:
        if args.only == "portal" or not args.only:
            from bench.portal_bench import case_portal

            print("case 8: the portal (dry run of 2,000 rows; 20 clerks at once)", flush=True)
            os.environ.update({"IGA_MAX_FILE_MB": "50", "IGA_MAX_ROWS": "200000"})
            results["portal"] = {**case_portal(warehouse), "date": time.strftime("%Y-%m-%d")}
            checkpoint(results)
            os.environ.update({"IGA_MAX_FILE_MB": "1000", "IGA_MAX_ROWS": "2000000"})
        if args.only == "scheduler" or not args.only:
            from bench.scheduler_bench import case_scheduler

            print("case 3b: national cycle under the real scheduler (`iga airflow`, REST trigger)", flush=True)
            results["scheduler_cycle"] = {**case_scheduler(warehouse), "date": time.strftime("%Y-%m-%d")}
            checkpoint(results)
        if args.only == "findings":
            print("case 6: a warning on every row, 100,000 rows", flush=True)
            results["findings"] = case_findings(warehouse, 100_000)
            checkpoint(results)
        if args.only:
            return _finish(results)
        repeat = 2 if args.quick else 3
        print("warm-up: imports, Great Expectations context, reference caches (not timed)", flush=True)
        pipeline_once(workbook(10_000), warehouse.fresh())
        print("case 2: 10,000 rows", flush=True)
        results["file_10k"] = case_file(warehouse, 10_000, repeat)
        checkpoint(results)
        if not args.quick:
            print("case 1: 100,000 rows", flush=True)
            results["file_100k"] = case_file(warehouse, 100_000, repeat)
            checkpoint(results)
            print("case 7: analyst queries", flush=True)
            url = warehouse.fresh()
            pipeline_once(workbook(100_000), url)
            results["queries"] = case_queries(url)
            checkpoint(results)
            print("case 5: peak memory", flush=True)
            results["memory"] = case_memory(warehouse, 100_000)
            checkpoint(results)
            print("case 6: a warning on every row, 100,000 rows", flush=True)
            results["findings"] = case_findings(warehouse, 100_000)
            checkpoint(results)
            print("case 9: the peer (Frictionless validate), 100,000 rows", flush=True)
            results["peer"] = case_peer(100_000)
            checkpoint(results)
            print("case 2: 1,000,000 rows", flush=True)
            results["file_1m"] = case_file(warehouse, 1_000_000, 1)
            checkpoint(results)
        print("case 3: national cycle through the DAGs", flush=True)
        results["national_cycle"] = case_national_cycle(warehouse, 1 if args.quick else 2)
        checkpoint(results)
        print("case 4: DAG parse time", flush=True)
        results["dag_parse"] = case_dag_parse(3 if args.quick else 5)
        checkpoint(results)
        if not args.quick:
            from bench.hostile_bench import cases as hostile_cases

            print("case 8: the child wall, and a file with a finding on every row", flush=True)
            results["hostile"] = hostile_cases(repeat)
            checkpoint(results)
    finally:
        warehouse.close()
    return _finish(results)


def checkpoint(results: dict) -> None:
    """The results so far in bench/results.json: a case that fails later loses only itself."""
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))


def _finish(results: dict) -> int:
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    write_readme(results)
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
