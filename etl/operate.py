"""Run Airflow the way operators do: its own processes, its scheduler, its UI and REST API.

``iga airflow`` (``make airflow``) starts what ``airflow standalone`` would (API server and UI,
scheduler, DAG processor, triggerer, LocalExecutor: :class:`etl.executor.PreloadingLocalExecutor`,
whose task processes start with the pipeline imported), one process each, on the embedded defaults: the
warehouse of ``iga db url``, the metadata in SQLite under ``$IGA_HOME/airflow``, sized for a 2-core
machine. Started one by one rather than through ``airflow standalone`` so that nothing listens
beyond 127.0.0.1 (standalone's scheduler and triggerer open log servers on 0.0.0.0:8793/8794; on one
machine the UI reads the task logs from their files) and the admin password is generated here, into
a 0600 file in a 0700 folder, never printed to a log. The scheduler test starts the same processes
with the CeleryExecutor. Every process started here runs in a session of its own and is stopped,
with all its descendants, by :meth:`AirflowProcesses.stop`.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import DAGS_DIR, Settings, environment
from etl.errors import IgaError
from etl.private_files import private_dir, write_secret

STATE_FILE = "iga-airflow.json"  # in AIRFLOW_HOME: what `iga airflow start` started
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"  # the simple auth manager's passwords
# What `airflow standalone` runs, without the log servers (they bind every interface).
LOCAL_COMPONENTS = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}


class AirflowNotReady(IgaError, RuntimeError):
    """Airflow did not become healthy in time; the message says which part and where its log is."""


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when nothing listens on it on 127.0.0.1, else a free port the kernel picks."""
    candidates = ([preferred] if preferred else []) + [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


LOCAL_EXECUTOR = "etl.executor.PreloadingLocalExecutor"  # the LocalExecutor, task processes preloaded
CELERY_CONFIG = "etl.celery_config.CELERY_CONFIG"  # Airflow's Celery defaults, the workers preloaded


def airflow_env(current: Settings, warehouse_url: str, *, port: int, metadata_url: str | None = None,
                executor: str = LOCAL_EXECUTOR, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every Airflow process (and so every task) gets.

    Tasks read the warehouse, the landing folder and the state folder from it, so the scheduler's
    workers must inherit it; sized for a small machine (2 cores). Either executor forks the task
    processes from a process that has imported the pipeline once (:mod:`etl.executor`).
    """
    airflow_home = current.airflow_home
    env = environment()
    # `airflow standalone` and the executors spawn `airflow …`: the venv's bin/ must come first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url or f"sqlite:///{airflow_home / 'airflow.db'}",
        # A 2-core machine: the defaults start 32 task slots and several parsers.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        # Loopback only; the workers reach the execution API on the same port.
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # The scheduler's health server (off unless enabled) stays on loopback too.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        # Task logs may quote what a task printed: readable by this user only.
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
        # The UI login: user admin, password in a file made here (0600), never printed.
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_home / PASSWORDS_FILE),
        "IGA_WAREHOUSE_URL": warehouse_url,
        "IGA_HOME": str(current.home),
        "IGA_LANDING": str(current.landing),
    })
    if "Celery" in executor:
        env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] = CELERY_CONFIG
    # Every process must sign and check the same task tokens.
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(32))
    env.update(extra or {})
    return env


@dataclass
class AirflowProcesses:
    """Airflow processes started here, each the leader of its own session (process group)."""

    env: dict[str, str]
    log_dir: Path
    started: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return self.env["AIRFLOW__API__BASE_URL"]

    @property
    def airflow_home(self) -> Path:
        return Path(self.env["AIRFLOW_HOME"])

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def run(self, *args: str, timeout: float = 300) -> None:
        """Run one ``airflow …`` command to completion (e.g. ``db migrate``); raise with its output."""
        result = subprocess.run(["airflow", *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start ``airflow <args>`` in the background, its output in ``<log_dir>/<name>.log`` (0600)."""
        private_dir(self.log_dir)
        with open(os.open(self.log_path(name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log:
            process = subprocess.Popen(["airflow", *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self.started[name] = process
        return process

    def pids(self) -> dict[str, int]:
        return {name: p.pid for name, p in self.started.items()}

    def exited(self) -> dict[str, int]:
        """Processes that already ended, with their exit codes."""
        return {name: p.poll() for name, p in self.started.items() if p.poll() is not None}

    def stop(self, timeout: float = 30) -> list[str]:
        """Stop every process started here and all its descendants; return any left (should be [])."""
        leftovers = stop_process_trees(list(self.pids().values()), timeout=timeout)
        for process in self.started.values():
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self.started.clear()
        return leftovers

    def tail(self, name: str, chars: int = 4000) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def ensure_admin_password(airflow_home: Path, user: str = "admin") -> Path:
    """The simple auth manager's password file, with a random password for ``user`` if it has none."""
    path = airflow_home / PASSWORDS_FILE
    passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
    if not passwords.get(user):
        passwords[user] = secrets.token_urlsafe(16)
    return write_secret(path, json.dumps(passwords) + "\n")


def stop_process_trees(pids: list[int], timeout: float = 30) -> list[str]:
    """Stop processes and every descendant: SIGTERM first, SIGKILL for what stays.

    Descendants are collected before the first signal, so the ones that start their own session
    (task runners, pool workers) are stopped too. Returns a description of anything still alive.
    """
    import psutil

    tree: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        for proc in [root, *root.children(recursive=True)]:
            tree[proc.pid] = proc
    # SIGTERM to each whole process group: every Airflow component shuts down cleanly on it (SIGINT
    # may be ignored, e.g. when started from a background job).
    for pid in pids:
        if pid in tree:
            _killpg(pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(list(tree.values()), timeout=timeout)
    for proc in alive:
        _signal(proc, signal.SIGTERM)
    _, alive = psutil.wait_procs(alive, timeout=10)
    for proc in alive:
        _signal(proc, signal.SIGKILL)
    for pid in pids:
        _killpg(pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(alive, timeout=5)
    return [f"{p.pid} {' '.join(_cmdline(p))[:120]}" for p in alive]


def _cmdline(proc) -> list[str]:
    import psutil

    try:
        return proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def _signal(proc, sig) -> None:
    import psutil

    try:
        proc.send_signal(sig)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass


def _killpg(pgid: int, sig) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- the REST API --------------------------------------------------------------------------------

def http_json(method: str, url: str, *, token: str | None = None, body: dict | None = None,
              timeout: float = 10) -> tuple[int, object]:
    """One JSON request; returns (status, decoded body or text). Network errors raise OSError."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def admin_password(airflow_home: Path, user: str = "admin") -> str | None:
    path = airflow_home / PASSWORDS_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text() or "{}").get(user)


def api_token(api_url: str, username: str, password: str) -> str:
    """A JWT for the REST API (simple auth manager: ``POST /auth/token``)."""
    status, body = http_json("POST", f"{api_url}/auth/token", body={"username": username, "password": password})
    if status != 201 or not isinstance(body, dict):
        raise AirflowNotReady(f"could not log in to {api_url} as {username}: HTTP {status} {body}")
    return body["access_token"]


def wait_until_healthy(processes: AirflowProcesses, *, timeout: float = 180,
                       need: tuple[str, ...] = ("metadatabase", "scheduler", "dag_processor")) -> dict:
    """Poll ``/api/v2/monitor/health`` until the parts in ``need`` are healthy; raise with logs if not.

    Then one request to the task execution API: a fresh API server answers its first one only after
    setting that API up, seconds on an idle machine and 20-35 s on a loaded one, during which it
    answers nothing; done here, that wait is not spent by the first task, whose supervisor gives up
    (and fails the task) when its start request times out."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if processes.exited():
            break
        try:
            status, body = http_json("GET", f"{processes.api_url}/api/v2/monitor/health", timeout=5)
        except OSError as error:
            last = error
        else:
            last = body
            if status == 200 and isinstance(body, dict) and all(
                    (body.get(part) or {}).get("status") == "healthy" for part in need):
                try:
                    http_json("GET", f"{processes.api_url}/execution/health",
                              timeout=max(deadline - time.monotonic(), 30))
                except OSError as error:
                    last = error
                    continue
                return body
        time.sleep(1)
    logs = "\n".join(f"--- {name} ({processes.log_path(name)}):\n{processes.tail(name, 2500)}"
                     for name in processes.started)
    raise AirflowNotReady(f"Airflow not healthy after {timeout:.0f}s (exited: {processes.exited()}; "
                          f"last health answer: {last})\n{logs}")


def wait_for_dags(api_url: str, token: str, dag_ids: set[str], *, timeout: float = 120) -> None:
    """Wait until the DAG processor has registered ``dag_ids`` (the API lists them)."""
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        status, body = http_json("GET", f"{api_url}/api/v2/dags?limit=100", token=token)
        if status == 200 and isinstance(body, dict):
            seen = {d["dag_id"] for d in body.get("dags", [])}
            if dag_ids <= seen:
                return
        time.sleep(1)
    raise AirflowNotReady(f"DAGs not registered after {timeout:.0f}s: missing {sorted(dag_ids - seen)}")


# --- `iga airflow` -------------------------------------------------------------------------------

def start_local(current: Settings, warehouse_url: str, *, port: int,
                extra: dict[str, str] | None = None) -> AirflowProcesses:
    """Airflow on the embedded defaults, in the background: the metadata migrated, then the API
    server, scheduler, DAG processor and triggerer (:data:`LOCAL_COMPONENTS`), all on loopback."""
    private_dir(current.airflow_home)
    ensure_admin_password(current.airflow_home)
    env = airflow_env(current, warehouse_url, port=port, extra=extra)
    processes = AirflowProcesses(env=env, log_dir=processes_log_dir(current))
    processes.run("db", "migrate")
    for name, args in LOCAL_COMPONENTS.items():
        processes.start(name, *args)
    return processes


def save_state(processes: AirflowProcesses, extra: dict) -> Path:
    path = processes.airflow_home / STATE_FILE
    return write_secret(path, json.dumps({"pids": processes.pids(), "api_url": processes.api_url, **extra}, indent=2))


def load_state(airflow_home: Path) -> dict | None:
    path = airflow_home / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def stop_from_state(airflow_home: Path) -> list[str]:
    """Stop what ``iga airflow start`` recorded (and the embedded warehouse if it started it)."""
    state = load_state(airflow_home)
    if state is None:
        return []
    leftovers = stop_process_trees(list(state["pids"].values()))
    (airflow_home / STATE_FILE).unlink(missing_ok=True)
    return leftovers


def banner(processes: AirflowProcesses) -> str:
    password_file = processes.airflow_home / PASSWORDS_FILE
    return "\n".join([
        "",
        f"Airflow is up: UI and REST API at {processes.api_url}",
        f"  user: admin   password: in {password_file}",
        "  DAGs: iga_ingest (every 15 min), iga_publish (after each load), iga_quality, iga_backup (daily)",
        f"  landing folder: {processes.env['IGA_LANDING']}",
        "  mail: " + ("through the Airflow connection in AIRFLOW_CONN_IGA_SMTP" if processes.env.get("AIRFLOW_CONN_IGA_SMTP")
                      else f"written to {Path(processes.env['IGA_HOME']) / 'outbox'} (no SMTP connection set)"),
        f"  logs: {processes.log_dir} and {processes.airflow_home / 'logs'}",
        "",
    ])


def processes_log_dir(current: Settings) -> Path:
    return current.airflow_home / "logs" / "components"


def embedded_warehouse_running(pgdata: Path) -> bool:
    if not pgdata.exists():
        return False
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def run_airflow(current: Settings, *, port: int | None, detach: bool, out=print) -> int:
    """``iga airflow run|start``: standalone Airflow on the embedded defaults; 0 when it ran."""
    from etl.migrate import migrate
    from etl.warehouse import engine, warehouse_url

    state = load_state(current.airflow_home)
    if state and any(_alive(pid) for pid in state["pids"].values()):
        out(f"Airflow already runs here ({state['api_url']}); `iga airflow stop` stops it.")
        return 1
    embedded = not current.warehouse_url
    started_warehouse = embedded and not embedded_warehouse_running(current.pgdata)
    url = warehouse_url()
    migrate(engine(url))
    private_dir(current.airflow_home)
    out(f"Starting Airflow (logs: {processes_log_dir(current)}) …")
    processes = start_local(current, url, port=free_port(port or 8080))
    save_state(processes, {"embedded_warehouse_started": started_warehouse})
    try:
        wait_until_healthy(processes, timeout=300, need=("metadatabase", "scheduler", "dag_processor", "triggerer"))
    except AirflowNotReady as error:
        out(str(error))
        stop_airflow(current, out=out)
        return 1
    out(banner(processes))
    if detach:
        out("Running in the background: `iga airflow stop` (or `make airflow-stop`) stops every process.")
        return 0
    out("Press Ctrl-C to stop Airflow (every process it started).")
    stopping = []

    def request_stop(signum, frame):
        stopping.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while not stopping and not processes.exited():
            time.sleep(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if processes.exited() and not stopping:
            out(f"Airflow exited on its own: {processes.exited()}\n"
                + "\n".join(f"--- {name}:\n{processes.tail(name, 1500)}" for name in processes.exited()))
        stop_airflow(current, out=out)
    return 0 if stopping else 1


def stop_airflow(current: Settings, out=print) -> list[str]:
    """``iga airflow stop``: every process ``iga airflow`` started, and the warehouse it started."""
    state = load_state(current.airflow_home)
    if state is None:
        out("Airflow is not running from this state folder.")
        return []
    leftovers = stop_from_state(current.airflow_home)
    if state.get("embedded_warehouse_started") and embedded_warehouse_running(current.pgdata):
        import warnings

        from etl.warehouse import stop_embedded

        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            stop_embedded(current.pgdata)
    if leftovers:
        out("Still running after SIGKILL (look at them): " + "; ".join(leftovers))
    else:
        out("Airflow stopped: no process it started is left"
            + (", embedded warehouse stopped." if state.get("embedded_warehouse_started") else "."))
    return leftovers


def airflow_status(current: Settings, out=print) -> int:
    state = load_state(current.airflow_home)
    if state is None or not any(_alive(pid) for pid in state["pids"].values()):
        out("Airflow is not running from this state folder.")
        return 1
    try:
        status, body = http_json("GET", f"{state['api_url']}/api/v2/monitor/health", timeout=5)
    except OSError as error:
        status, body = None, str(error)
    out(f"Airflow at {state['api_url']} (pids {state['pids']}): health HTTP {status} {json.dumps(body)}")
    return 0 if status == 200 else 1


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
