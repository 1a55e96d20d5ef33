"""Airflow run the way operators run it: real processes, the scheduler, the REST API.

With PostgreSQL and Redis on this machine (127.0.0.1:5432, :6379), the production path: the
CeleryExecutor on Redis, the metadata in a PostgreSQL database of its own, and the API server,
scheduler, DAG processor and a Celery worker started one by one. Where either is missing,
``airflow standalone`` (LocalExecutor, SQLite metadata), the path ``make airflow`` takes.
``IGA_TEST_AIRFLOW=standalone`` forces the latter.

Either way: files dropped into the landing folder, the ingest DAG triggered over the REST API,
then the asset-triggered publish (and quality) runs awaited, and the warehouse totals checked
against the generator's. Every process started is stopped; databases and Redis keys are dropped.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
import uuid

import pytest

pytestmark = pytest.mark.scheduler

MACHINE_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
MACHINE_REDIS = ("127.0.0.1", 6379)
DAG_IDS = {"iga_ingest", "iga_publish", "iga_quality"}
PROVINCES = ["MA-BER", "MA-CHE", "MA-ERR"]
TERMINAL = {"success", "failed"}


def redis_answers() -> bool:
    try:
        with socket.create_connection(MACHINE_REDIS, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def machine_postgres():
    """An AUTOCOMMIT engine on the machine's PostgreSQL, or None where it does not answer."""
    from sqlalchemy import create_engine, text

    engine = create_engine(MACHINE_PG, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


class Cluster:
    """Airflow processes for one test, and everything to undo afterwards."""

    def __init__(self, processes, mode: str, password: str):
        self.processes = processes
        self.mode = mode
        self.password = password
        self.token = None

    @property
    def api(self) -> str:
        return self.processes.api_url

    def call(self, method: str, path: str, body: dict | None = None):
        from etl.operate import http_json

        # A fresh API server can stall for tens of seconds on a loaded machine (its first task
        # execution request, measured at 21 s at load 8): a slow answer is not a wrong one.
        status, answer = http_json(method, f"{self.api}/api/v2{path}", token=self.token, body=body, timeout=90)
        assert status < 300, f"{method} {path}: HTTP {status} {answer}"
        return answer

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=200")["task_instances"]

    def diagnostics(self) -> str:
        """Component logs, and the log of every task instance that did not succeed."""
        parts = []
        for name in self.processes.started:
            parts.append(f"===== {name} log (tail) =====\n{self.processes.tail(name, 3000)}")
        try:
            for dag_id in sorted(DAG_IDS):
                for run in self.runs(dag_id):
                    parts.append(f"===== {dag_id} {run['dag_run_id']} {run['run_type']}: {run['state']}")
                    for ti in self.task_instances(dag_id, run["dag_run_id"]):
                        parts.append(f"  {ti['task_id']}[{ti['map_index']}] {ti.get('rendered_map_index')}: "
                                     f"{ti['state']} (try {ti['try_number']})")
                        if ti["state"] not in ("success", "skipped") and ti["try_number"]:
                            log = self.call("GET", f"/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/"
                                                   f"{ti['task_id']}/logs/{ti['try_number']}?map_index={ti['map_index']}")
                            content = log.get("content") if isinstance(log, dict) else log
                            text = "\n".join(str(e.get("event", e)) if isinstance(e, dict) else str(e)
                                             for e in (content if isinstance(content, list) else [content]))
                            parts.append(f"  --- task log ---\n{text[-4000:]}")
        except Exception as error:  # the diagnostics must not hide the failure they explain
            parts.append(f"(could not read runs through the API: {error!r})")
        return "\n".join(parts)


@contextlib.contextmanager
def start_cluster(mode: str | None, warehouse_url: str, log_dir, extra: dict[str, str] | None = None):
    """Airflow on the CeleryExecutor (``mode`` "celery": Redis and PostgreSQL of this machine) or
    standalone (LocalExecutor, SQLite); ``None`` picks Celery where both answer. Everything it
    started, created or queued is undone when the block ends."""
    from etl import operate
    from etl.config import settings

    current = settings()
    current.airflow_home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    (current.airflow_home / operate.PASSWORDS_FILE).write_text(json.dumps({"admin": password}))
    run_tag = f"iga_sched_{uuid.uuid4().hex[:10]}"
    extra = {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(current.airflow_home / "logs"),
        **(extra or {}),
    }
    pg = None if mode == "standalone" else machine_postgres()
    celery = pg is not None and redis_answers()
    if mode == "celery" and not celery:
        pytest.skip("the CeleryExecutor path needs PostgreSQL on 127.0.0.1:5432 and Redis on :6379")
    port = operate.free_port()
    leftovers: list[str] = []
    # Each resource is released even when a later step of the set-up fails.
    with contextlib.ExitStack() as undo:
        if pg is not None:
            undo.callback(pg.dispose)
        if celery:
            from sqlalchemy import text

            def drop_database():
                with pg.connect() as conn:
                    conn.execute(text("DROP DATABASE IF EXISTS " + run_tag + " WITH (FORCE)"))

            with pg.connect() as conn:
                conn.execute(text("CREATE DATABASE " + run_tag))  # a generated name; DDL takes no parameters
            undo.callback(drop_database)
            undo.callback(drop_redis_keys, f"{run_tag}:")
            extra.update({
                "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
                # Other runs share this Redis: every key of ours carries the run's prefix and queue.
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"{run_tag}:",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": run_tag,
            })
            env = operate.airflow_env(current, warehouse_url, port=port,
                                      metadata_url=MACHINE_PG.rsplit("/", 1)[0] + "/" + run_tag,
                                      executor="CeleryExecutor", extra=extra)
            processes = operate.AirflowProcesses(env=env, log_dir=log_dir)
            undo.callback(lambda: leftovers.extend(processes.stop()))
            processes.run("db", "migrate")
            processes.start("api-server", "api-server")
            processes.start("scheduler", "scheduler")
            processes.start("dag-processor", "dag-processor")
            processes.start("celery-worker", "celery", "worker", "--queues", run_tag, "--concurrency", "2")
        else:
            processes = operate.start_local(current, warehouse_url, port=port, extra=extra)
            undo.callback(lambda: leftovers.extend(processes.stop()))
        yield Cluster(processes, "celery" if celery else "standalone", password)
    assert leftovers == [], f"processes left running: {leftovers}"
    if celery:
        assert drop_redis_keys(f"{run_tag}:") == 0, "Redis keys of this run left"


@pytest.fixture
def cluster(iga_home, warehouse_url, smtp_inbox, tmp_path):
    mode = "standalone" if os.environ.get("IGA_TEST_AIRFLOW") == "standalone" else None
    with start_cluster(mode, warehouse_url, tmp_path / "component-logs", {
            "AIRFLOW_CONN_IGA_SMTP": smtp_inbox.connection, "IGA_OPERATOR_EMAILS": "ops@indh.local"}) as started:
        yield started


def drop_redis_keys(prefix: str) -> int:
    import redis

    client = redis.Redis(*MACHINE_REDIS, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
        return len(list(client.scan_iter(match=prefix + "*", count=500)))
    finally:
        client.close()


def wait_for(what: str, check, cluster: Cluster, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if cluster.processes.exited():
            break
        time.sleep(2)
    pytest.fail(f"[{cluster.mode}] {what}: not done after {timeout:.0f}s "
                f"(exited: {cluster.processes.exited()})\n{cluster.diagnostics()}")


def test_scheduler_loads_dropped_files_and_publish_follows_the_asset(cluster, smtp_inbox, warehouse_url, monkeypatch,
                                                                    tmp_path):
    from sqlalchemy import create_engine, text

    from etl import operate
    from etl.config import settings
    from etl.sample import generate

    operate.wait_until_healthy(cluster.processes, timeout=240)
    cluster.token = operate.api_token(cluster.api, "admin", cluster.password)
    operate.wait_for_dags(cluster.api, cluster.token, DAG_IDS, timeout=180)
    dags = {d["dag_id"]: d for d in cluster.call("GET", "/dags?limit=100")["dags"]}
    assert {dag_id: dags[dag_id]["is_paused"] for dag_id in DAG_IDS} == dict.fromkeys(DAG_IDS, False)
    # The ingest DAG's first scheduled run starts as soon as it is deployed: let it find nothing.
    wait_for("the first scheduled ingest run", lambda: all(r["state"] in TERMINAL for r in cluster.runs("iga_ingest")),
             cluster, timeout=180)

    landing = settings().landing
    expected = generate(landing, seed=7, provinces=PROVINCES, rows=(6, 14), errors_per_file=1)
    relative = sorted(str(p.relative_to(landing)) for p in expected.files)
    # Errachidia delivers through the provinces' portal instead of the drop folder: its clerk uploads
    # and submits, and that submission is what asks Airflow's REST API for the ingest run.
    import shutil

    from portal_support import make_portal

    errachidia = next(p for p in expected.files if p.parent.parent.name == "MA-ERR")
    kept = tmp_path / errachidia.name
    shutil.move(errachidia, kept)
    for variable, value in (("IGA_AIRFLOW_API_URL", cluster.api), ("IGA_AIRFLOW_API_USER", "admin"),
                            ("IGA_AIRFLOW_API_PASSWORD", cluster.password)):
        monkeypatch.setenv(variable, value)
    portal = make_portal(warehouse_url)
    clerk = portal.login("das.err@indh.local", portal.account("das.err@indh.local", "MA-ERR"))
    page = portal.upload(clerk, kept).headers["location"]
    assert portal.submit(clerk, page).headers["location"].endswith("outcome=submitted")
    assert sorted(str(p.relative_to(landing)) for p in landing.rglob("*.xlsx")) == relative
    with create_engine(warehouse_url).connect() as conn:
        run_id, note = conn.execute(text("SELECT dag_run_id, trigger_note FROM portal.upload")).one()
    assert run_id, note
    assert clerk.get(f"{page}/status.json").json()["stage"] in ("received", "loading")

    def ingest_done():
        state = cluster.call("GET", f"/dags/iga_ingest/dagRuns/{run_id}")["state"]
        return state if state in TERMINAL else None

    assert wait_for("the triggered ingest run", ingest_done, cluster, timeout=240) == "success", cluster.diagnostics()

    def followers_done():
        publish, quality = cluster.runs("iga_publish"), cluster.runs("iga_quality")
        queued = cluster.call("GET", "/dags/iga_publish/assets/queuedEvents")["total_entries"]
        asset_runs = [r for r in publish if r["run_type"] == "asset_triggered"]
        settled = all(r["state"] in TERMINAL for r in publish + quality)
        return (asset_runs, quality) if asset_runs and settled and queued == 0 else None

    publish_runs, quality_runs = wait_for("the asset-triggered publish runs", followers_done, cluster, timeout=240)
    assert {r["state"] for r in publish_runs} == {"success"}, cluster.diagnostics()
    assert {r["state"] for r in quality_runs} == {"success"}, cluster.diagnostics()

    # One mapped task per file, named after it, each file loaded by exactly one task in one run.
    loaded_by = []
    for ingest_run in cluster.runs("iga_ingest"):
        loaded_by += [ti["rendered_map_index"] for ti in cluster.task_instances("iga_ingest", ingest_run["dag_run_id"])
                      if ti["task_id"] == "ingest_file" and ti["map_index"] >= 0]
    assert sorted(loaded_by) == relative

    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            submissions = conn.execute(text(
                "SELECT landing_path, status FROM core.submission ORDER BY landing_path")).all()
            national = conn.execute(text("SELECT * FROM mart.national_summary")).mappings().one()
    finally:
        engine.dispose()
    assert [s.landing_path for s in submissions] == relative
    assert clerk.get(f"{page}/status.json").json()["stage"] == "partial"  # the clerk's page follows it
    assert {s.status for s in submissions} == {"partial"}  # one refused row per file, by design
    want = expected.national
    assert (national["projects"], national["beneficiaries"], national["women"], national["youth"],
            national["jobs_created"], national["provinces_reporting"]) == (
        want.projects, want.beneficiaries, want.women, want.youth, want.jobs_created, len(PROVINCES))
    assert int(national["total_cost_mad"] * 100) == want.total_cost_cents
    assert int(national["indh_contribution_mad"] * 100) == want.indh_contribution_cents

    # The quality runs mailed each province's owners through the SMTP connection the workers got.
    recipients = {r for rcpts, _ in smtp_inbox.messages for r in rcpts}
    assert {"das.ber@indh.local", "das.che@indh.local", "das.err@indh.local"} <= recipients


@pytest.fixture
def state_root():
    """A state folder the embedded server's own user can reach (pytest's tmp_path is root-only)."""
    import shutil
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="iga-airflow-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_iga_airflow_start_shows_the_ui_and_three_dags_and_stop_leaves_nothing(state_root):
    """What `make airflow` does for a newcomer, on the embedded defaults of a fresh state folder."""
    import subprocess
    import sys
    from pathlib import Path

    import psutil

    from etl import operate

    iga = str(Path(sys.executable).parent / "iga")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "IGA_"))}
    env["IGA_HOME"] = str(state_root / "state")
    port = operate.free_port()
    started = subprocess.run([iga, "airflow", "start", "--port", str(port)], env=env, capture_output=True,
                             text=True, timeout=400)
    airflow_home = state_root / "state" / "airflow"
    state = operate.load_state(airflow_home)
    try:
        assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
        password_file = airflow_home / operate.PASSWORDS_FILE
        assert f"UI and REST API at http://127.0.0.1:{port}" in started.stdout
        assert str(password_file) in started.stdout
        status, page = operate.http_json("GET", f"http://127.0.0.1:{port}/", timeout=90)
        assert status == 200 and "<html" in str(page).lower()
        token = operate.api_token(f"http://127.0.0.1:{port}", "admin", operate.admin_password(airflow_home))
        operate.wait_for_dags(f"http://127.0.0.1:{port}", token, DAG_IDS, timeout=120)
        assert subprocess.run([iga, "airflow", "status"], env=env, capture_output=True, timeout=60).returncode == 0
        # Nothing it started listens beyond loopback (the log servers of 8793/8794 are not started).
        tree = [psutil.Process(pid) for pid in state["pids"].values()]
        tree += [child for proc in tree for child in proc.children(recursive=True)]
        listening = set()
        for proc in tree:
            try:  # short-lived children (task runners) may be gone by now
                listening |= {(proc.pid, " ".join(proc.cmdline())[:60], conn.laddr.ip, conn.laddr.port)
                              for conn in proc.net_connections(kind="inet") if conn.status == psutil.CONN_LISTEN}
            except psutil.NoSuchProcess:
                continue
        assert {(ip, port_) for _, _, ip, port_ in listening} == {("127.0.0.1", port)}, listening
        # The admin password: in a 0600 file in a 0700 folder, and in no log.
        assert (password_file.stat().st_mode & 0o777, airflow_home.stat().st_mode & 0o777) == (0o600, 0o700)
        password = operate.admin_password(airflow_home)
        printed = [str(path) for path in (state_root / "state").rglob("*")
                   if path.is_file() and "pgdata" not in path.parts and path != password_file
                   and password.encode() in path.read_bytes()]
        assert printed == [] and password not in started.stdout + started.stderr
    finally:
        stopped = subprocess.run([iga, "airflow", "stop"], env=env, capture_output=True, text=True, timeout=120)
    assert "no process it started is left, embedded warehouse stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    assert state is not None and not any(psutil.pid_exists(pid) for pid in state["pids"].values())
    assert not operate.embedded_warehouse_running(state_root / "state" / "pgdata")
    assert operate.load_state(airflow_home) is None


# Imports nothing but airflow.sdk: what its task finds in sys.modules at its first line came from the
# process the task process was forked from.
PROBE_DAG = '''
import datetime as dt

from airflow.sdk import dag, task


@dag(dag_id="iga_preload_probe", schedule=None, start_date=dt.datetime(2025, 1, 1), is_paused_upon_creation=False)
def iga_preload_probe():
    @task
    def look(index: int) -> dict:
        import os
        import sys

        loaded = sorted(m for m in ("great_expectations", "pandas", "etl.ingest", "etl.validate") if m in sys.modules)
        if index == 1:
            os.kill(os.getpid(), 9)  # a task that dies: only its own process goes
        return {"loaded": loaded, "preloaded_by": os.environ.get("_IGA_PRELOADED_BY"), "pid": os.getpid()}

    look.expand(index=[0, 1, 2])


iga_preload_probe()
'''


@pytest.mark.parametrize("mode", ["standalone", "celery"])
def test_task_processes_start_with_the_pipeline_imported_and_a_dying_task_costs_only_itself(
        mode, iga_home, warehouse_url, tmp_path):
    """The LocalExecutor of `iga airflow` and the Celery workers of production fork each task
    process from a process that imported GX, pandas and the pipeline once (etl/executor.py)."""
    from etl import operate

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "iga_preload_probe.py").write_text(PROBE_DAG)
    with start_cluster(mode, warehouse_url, tmp_path / "component-logs",
                       {"AIRFLOW__CORE__DAGS_FOLDER": str(dags)}) as cluster:
        operate.wait_until_healthy(cluster.processes, timeout=240)
        cluster.token = operate.api_token(cluster.api, "admin", cluster.password)
        operate.wait_for_dags(cluster.api, cluster.token, {"iga_preload_probe"}, timeout=180)
        run_id = cluster.call("POST", "/dags/iga_preload_probe/dagRuns", {"logical_date": None})["dag_run_id"]

        def finished():
            state = cluster.call("GET", f"/dags/iga_preload_probe/dagRuns/{run_id}")["state"]
            return state if state in TERMINAL else None

        assert wait_for("the probe run", finished, cluster, timeout=300) == "failed"  # index 1 died
        states = {ti["map_index"]: ti["state"] for ti in cluster.task_instances("iga_preload_probe", run_id)}
        assert states == {0: "success", 1: "failed", 2: "success"}, cluster.diagnostics()
        forked_from = cluster.processes.pids()["celery-worker" if mode == "celery" else "scheduler"]
        seen = [cluster.call("GET", f"/dags/iga_preload_probe/dagRuns/{run_id}/taskInstances/look/xcomEntries/"
                                    f"return_value?map_index={index}")["value"] for index in (0, 2)]
        for value in seen:
            if isinstance(value, str):
                value = json.loads(value)
            assert value["loaded"] == ["etl.ingest", "etl.validate", "great_expectations", "pandas"], value
            assert value["preloaded_by"] == str(forked_from) and value["pid"] != forked_from, value
