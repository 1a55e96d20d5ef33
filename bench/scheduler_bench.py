"""The national cycle under the real scheduler, the way operators run it (`make airflow`).

Airflow started as ``iga airflow`` starts it (:func:`etl.operate.start_local`: API server,
scheduler with its LocalExecutor, DAG processor, triggerer; SQLite metadata) on a temporary state
folder and a fresh warehouse; 75 generated provincial files dropped into the landing folder;
``iga_ingest`` triggered through the REST API; timed until the asset-triggered ``iga_publish`` run
has succeeded. Then every process is stopped and the case fails if any is left.

    python -m bench.run --only scheduler
"""
from __future__ import annotations

import dataclasses
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

TERMINAL = {"success", "failed"}
CYCLE_TIMEOUT_S = 1800


class Api:
    """The REST calls of the case, with one token."""

    def __init__(self, url: str, password: str):
        from etl.operate import api_token

        self.url = url
        self.token = api_token(url, "admin", password)

    def call(self, method: str, path: str, body: dict | None = None):
        from etl.operate import http_json

        status, answer = http_json(method, f"{self.url}/api/v2{path}", token=self.token, body=body, timeout=90)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {status} {answer}")
        return answer

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"]


def wait_for(what: str, check, processes, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if processes.exited():
            break
        time.sleep(every)
    raise RuntimeError(f"{what}: not done after {timeout:.0f}s (exited: {processes.exited()})\n"
                       + "\n".join(f"--- {name}:\n{processes.tail(name, 2000)}" for name in processes.started))


def _seconds(start: str | None, end: str | None) -> float | None:
    if not (start and end):
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def cycle_once(warehouse_url: str, staged: Path, extra: dict[str, str] | None = None) -> dict:
    """One cycle on a fresh state folder: start, drop ``staged``'s files, trigger, time, stop."""
    import psutil

    from etl import operate
    from etl.config import settings

    root = Path(tempfile.mkdtemp(prefix="iga-bench-airflow-"))
    current = dataclasses.replace(settings(), home=root / "state", landing=root / "state" / "landing")
    result: dict = {}
    processes = None
    try:
        started = time.perf_counter()
        processes = operate.start_local(current, warehouse_url, port=operate.free_port(), extra=extra)
        operate.wait_until_healthy(processes, timeout=300,
                                   need=("metadatabase", "scheduler", "dag_processor", "triggerer"))
        api = Api(processes.api_url, operate.admin_password(current.airflow_home))
        operate.wait_for_dags(api.url, api.token, {"iga_ingest", "iga_publish", "iga_quality"}, timeout=300)
        # The ingest DAG's first scheduled run starts as soon as it is deployed: let it find nothing.
        wait_for("the first scheduled ingest run", lambda: api.runs("iga_ingest") and all(
            r["state"] in TERMINAL for r in api.runs("iga_ingest")), processes, timeout=300)
        result["start_s"] = time.perf_counter() - started

        shutil.copytree(staged, current.landing)  # the drop: every file at once
        files = sorted(str(p.relative_to(current.landing)) for p in current.landing.rglob("*.xlsx"))
        started = time.perf_counter()
        run_id = api.call("POST", "/dags/iga_ingest/dagRuns",
                          {"logical_date": None, "note": "bench"})["dag_run_id"]

        def ingest_done():
            state = api.call("GET", f"/dags/iga_ingest/dagRuns/{run_id}")["state"]
            return state if state in TERMINAL else None

        result["ingest_state"] = wait_for("the triggered ingest run", ingest_done, processes, CYCLE_TIMEOUT_S)
        result["ingest_s"] = time.perf_counter() - started

        def published():
            runs = [r for r in api.runs("iga_publish") if r["run_type"] == "asset_triggered"]
            return runs if runs and all(r["state"] in TERMINAL for r in runs) else None

        publish_runs = wait_for("the asset-triggered publish run", published, processes, CYCLE_TIMEOUT_S)
        result["cycle_s"] = time.perf_counter() - started
        result["publish_state"] = sorted({r["state"] for r in publish_runs})
        tasks = [ti for ti in api.task_instances("iga_ingest", run_id) if ti["task_id"] == "ingest_file"]
        named = sorted(ti["rendered_map_index"] for ti in tasks)
        durations = [d for d in (_seconds(ti["start_date"], ti["end_date"]) for ti in tasks) if d is not None]
        result.update({
            "files": len(files), "file_tasks": len(tasks), "tasks_named_after_files": named == files,
            "file_tasks_succeeded": sum(ti["state"] == "success" for ti in tasks),
            "file_task_median_s": statistics.median(durations) if durations else None,
            "file_task_max_s": max(durations) if durations else None,
        })
    finally:
        leftovers = processes.stop() if processes is not None else []
        # Anything still running from this state folder, whatever started it (task runners, children).
        home = str(root)
        strays = []
        for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
            try:
                if any(home in value for value in (proc.info["environ"] or {}).values()):
                    strays.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])[:100]}")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        shutil.rmtree(root, ignore_errors=True)
    result["left_running"] = leftovers + [s for s in strays if s not in leftovers]
    if result["left_running"]:
        raise RuntimeError(f"processes left running after the cycle: {result['left_running']}")
    if result["ingest_state"] != "success" or result["publish_state"] != ["success"] or not result["tasks_named_after_files"]:
        raise RuntimeError(f"the cycle did not succeed: {result}")
    return result


def case_scheduler(warehouse, repeat: int = 1, extra: dict[str, str] | None = None) -> dict:
    """75 files of about 400 rows (the national cycle's) through the scheduler; medians of ``repeat``."""
    from etl.sample import generate

    with tempfile.TemporaryDirectory(prefix="iga-bench-landing-") as staging:
        expected = generate(Path(staging) / "landing", rows=(380, 421))
        load_average = Path("/proc/loadavg").read_text().split()[0]  # the machine may be shared
        runs = [cycle_once(warehouse.fresh(), Path(staging) / "landing", extra) for _ in range(repeat)]
    return {
        "files": runs[0]["files"], "rows": sum(t.projects for t in expected.provinces.values()), "repeat": repeat,
        "cycle_s": statistics.median(r["cycle_s"] for r in runs),
        "ingest_s": statistics.median(r["ingest_s"] for r in runs),
        "start_s": statistics.median(r["start_s"] for r in runs),
        "file_task_median_s": statistics.median(r["file_task_median_s"] for r in runs),
        "load_average": load_average, "runs": runs,
    }
