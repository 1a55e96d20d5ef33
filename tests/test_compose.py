"""The production compose file matches what the code expects (no Docker engine needed).

`docker-compose config -q` (in .ci/run) checks the syntax; these check the meaning: the image is the
pinned Airflow, the commands are Airflow's, the tasks get the variables etl/config.py reads, the
volumes sit where the state folder's parts are, and every secret comes from .env.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"\$\$|\$\{([A-Z0-9_]+)(?::([-?])((?:[^{}]|\{[^{}]*\})*))?\}")
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker")


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(node, values: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$, with the values of .env.example."""
    if isinstance(node, dict):
        return {k: interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, values) for v in node]
    if not isinstance(node, str):
        return node

    def substitute(match):
        if match.group(0) == "$$":
            return "$"
        name, kind, arg = match.groups()
        if values.get(name):
            return values[name]
        if kind == "?":
            raise AssertionError(f"{name} is required ({arg}) but .env.example leaves it empty")
        return interpolate(arg, values) if kind == "-" else ""

    return VARIABLE.sub(substitute, node)


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load((REPO / "docker-compose.yml").read_text()), env_example())


def test_every_variable_the_compose_file_needs_is_in_env_example_and_none_is_dead():
    text = (REPO / "docker-compose.yml").read_text()
    used = {m.group(1) for m in VARIABLE.finditer(text) if m.group(1)}
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) == "?"}
    example = env_example()
    assert required <= {k for k, v in example.items() if v}
    assert set(example) <= used, f"settings in .env.example that nothing reads: {set(example) - used}"
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_the_image_is_the_pinned_airflow_with_the_project_installed_at_its_pins():
    dockerfile = (REPO / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    airflow_pin = next(d for d in project["dependencies"] if d.startswith("apache-airflow=="))
    version = airflow_pin.split("==")[1]
    assert re.search(rf"^FROM apache/airflow:{re.escape(version)}-python3\.11$", dockerfile, re.M)
    assert "-c constraints.txt -e ." in dockerfile
    assert "apache-airflow-providers-celery==" in "".join(project["dependencies"])


def test_airflow_services_run_real_airflow_commands_with_celery_and_health_checks(compose):
    services = compose["services"]
    assert {"postgres", "redis", "mailpit", *AIRFLOW_SERVICES} <= set(services)
    for name, service in services.items():
        if name != "airflow-init":
            assert "healthcheck" in service, name
    commands = [services[name]["command"].split() for name in AIRFLOW_SERVICES if name != "airflow-init"]
    assert ["celery", "worker"] in commands
    # Airflow's own CLI parser (with the CeleryExecutor configured, as in the compose file) accepts them.
    probe = ("import sys, json\nfrom airflow.cli.cli_parser import get_parser\nparser = get_parser()\n"
             "for argv in json.loads(sys.argv[1]):\n    parser.parse_args(argv)\nprint('ok')")
    env = {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "PATH": "/usr/bin:/bin",
           "AIRFLOW_HOME": str(REPO / ".iga-compose-probe")}
    try:
        result = subprocess.run([sys.executable, "-c", probe, json.dumps(commands)], capture_output=True,
                                text=True, env=env, timeout=120)
    finally:
        import shutil

        shutil.rmtree(REPO / ".iga-compose-probe", ignore_errors=True)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_tasks_get_the_warehouse_state_folder_landing_and_mail_the_code_reads(compose):
    from etl.warehouse import normalise_url

    dockerfile = (REPO / "Dockerfile").read_text()
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/iga-pipeline/dags"
        assert "WORKDIR /opt/iga-pipeline" in dockerfile and "COPY --chown=airflow:0 dags ./dags" in dockerfile
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
        assert "@postgres:5432/" in normalise_url(env["IGA_WAREHOUSE_URL"])
        assert env["IGA_WAREHOUSE_URL"].rsplit("/", 1)[1] != env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("/", 1)[1]
        assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0")
        smtp = json.loads(env["AIRFLOW_CONN_IGA_SMTP"])
        assert (smtp["conn_type"], smtp["host"], smtp["port"]) == ("smtp", "mailpit", 1025)
        assert smtp["extra"]["disable_ssl"] is True and smtp["extra"]["disable_tls"] is True
        home = env["IGA_HOME"]
        mounts = {volume.split(":")[1] for volume in service["volumes"]}
        # Where etl.config.Settings puts each part of the state folder.
        assert {env["IGA_LANDING"], f"{home}/archive", f"{home}/published", f"{home}/reports"} <= mounts
    mailpit = compose["services"]["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert any(port.endswith(":8025") for port in mailpit["ports"])


def test_postgres_creates_separate_warehouse_and_metadata_databases(compose):
    postgres = compose["services"]["postgres"]
    script = (REPO / "docker" / "postgres" / "10-iga-databases.sh").read_text()
    for variable in re.findall(r'"\$([A-Z_]+)"', script):
        assert variable in postgres["environment"], variable
    env = postgres["environment"]
    assert env["IGA_DB_NAME"] != env["AIRFLOW_DB_NAME"]
    assert "./docker/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]


def test_the_portal_shares_the_landing_volume_and_triggers_ingest_on_the_api_server(compose):
    portal = compose["services"]["portal"]
    worker = compose["services"]["airflow-worker"]
    assert portal["image"] == worker["image"]
    assert portal["command"][-1].startswith("exec iga portal --host 0.0.0.0 --port 8090")
    env = portal["environment"]
    assert env["IGA_WAREHOUSE_URL"] == worker["environment"]["IGA_WAREHOUSE_URL"]
    assert env["IGA_LANDING"] == worker["environment"]["IGA_LANDING"]
    shared = {v for v in portal["volumes"] if v.startswith("iga-landing:")}
    assert shared == {v for v in worker["volumes"] if v.startswith("iga-landing:")} == {
        f"iga-landing:{env['IGA_LANDING']}"}
    # The portal's own state (uploads, dry-run reports) persists where etl.config puts it.
    assert f"iga-portal:{env['IGA_HOME']}/portal" in portal["volumes"]
    assert env["IGA_AIRFLOW_API_URL"] == "http://airflow-apiserver:8080"
    assert env["IGA_AIRFLOW_API_PASSWORD"] == compose["services"]["airflow-init"]["environment"]["AIRFLOW_ADMIN_PASSWORD"]
    assert env["IGA_PORTAL_SECRET_KEY"]
    assert portal["healthcheck"]["test"][-1].endswith("/healthz")
    assert any(port.endswith(":8090") for port in portal["ports"])
    assert portal["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
