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
        # Airflow's Celery defaults, and the workers import the pipeline once before forking (etl/executor.py).
        import importlib

        from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

        module, name = env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"].rsplit(".", 1)
        assert getattr(importlib.import_module(module), name) == DEFAULT_CELERY_CONFIG
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
        assert {env["IGA_LANDING"], f"{home}/archive", f"{home}/published", f"{home}/reports",
                f"{home}/backups"} <= mounts
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


def strong_env() -> dict[str, str]:
    """.env.example with every change-me replaced the way its comments say to generate them."""
    import base64
    import secrets

    values = env_example()
    for key, value in values.items():
        if "change-me" in value:
            values[key] = secrets.token_urlsafe(32)
    values["AIRFLOW_FERNET_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return values


def init_env(values: dict[str, str]) -> dict[str, str]:
    service = interpolate(yaml.safe_load((REPO / "docker-compose.yml").read_text()), values)["services"]["airflow-init"]
    return {k: str(v) for k, v in service["environment"].items()}


def test_airflow_init_refuses_the_example_secrets_and_names_each_one_without_its_value():
    from etl.deployment import SECRETS, deployment_problems

    example = env_example()
    problems = deployment_problems(init_env(example))
    assert {p.split()[0] for p in problems} == {s.env_file_name for s in SECRETS}
    for name, value in example.items():
        if "change-me" in value:
            assert not any(value in p for p in problems), name
    assert deployment_problems(init_env(strong_env())) == []


@pytest.mark.parametrize("setting, value, expected", [
    ("AIRFLOW_JWT_SECRET", "short-but-not-example", "AIRFLOW_JWT_SECRET is shorter than 32"),
    ("AIRFLOW_ADMIN_PASSWORD", "hunter2", "AIRFLOW_ADMIN_PASSWORD is shorter than 16"),
    ("REDIS_PASSWORD", "Change-Me-Later-Please-0123456789", "REDIS_PASSWORD is still the example's"),
    ("AIRFLOW_FERNET_KEY", "x" * 44, "AIRFLOW_FERNET_KEY is not a Fernet key"),
    ("IGA_DB_PASSWORD", "pw-1234", "IGA_DB_PASSWORD is shorter than 16"),
])
def test_airflow_init_refuses_a_weak_secret(setting, value, expected):
    from etl.deployment import deployment_problems

    values = strong_env()
    values[setting] = value
    env = init_env(values)
    assert [p for p in deployment_problems(env) if p.startswith(expected)], deployment_problems(env)
    no_password = {**init_env(strong_env()), "IGA_WAREHOUSE_URL": "postgresql://iga@postgres:5432/iga"}
    assert deployment_problems(no_password) == ["IGA_DB_PASSWORD is empty"]


def test_mail_goes_over_tls_to_a_real_relay_and_in_clear_only_to_mailpit():
    from etl.deployment import deployment_problems

    mailpit = json.loads(init_env(strong_env())["AIRFLOW_CONN_IGA_SMTP"])
    assert (mailpit["host"], mailpit["extra"]["disable_tls"], mailpit["extra"]["disable_ssl"]) == ("mailpit", True, True)
    relay = {k: v for k, v in strong_env().items() if not k.startswith("IGA_SMTP_DISABLE_")}
    relay.update(IGA_SMTP_HOST="smtp.indh.ma", IGA_SMTP_PORT="587", IGA_SMTP_USER="iga", IGA_SMTP_PASSWORD="s3cret")
    env = init_env(relay)
    connection = json.loads(env["AIRFLOW_CONN_IGA_SMTP"])
    assert connection["extra"]["disable_tls"] is False and connection["extra"]["disable_ssl"] is True  # STARTTLS
    assert (connection["login"], connection["password"]) == ("iga", "s3cret")
    assert deployment_problems(env) == []
    in_clear = init_env({**relay, "IGA_SMTP_DISABLE_TLS": "true", "IGA_SMTP_DISABLE_SSL": "true"})
    (problem,) = deployment_problems(in_clear)
    assert "smtp.indh.ma" in problem and "in clear" in problem


def test_no_secret_on_a_command_line_and_mailpit_pinned(compose):
    services = compose["services"]
    password = env_example()["REDIS_PASSWORD"]
    redis = services["redis"]
    assert password not in json.dumps(redis["command"]) and password not in json.dumps(redis["healthcheck"])
    assert "$REDIS_PASSWORD" in " ".join(redis["command"]) and "REDISCLI_AUTH" in redis["healthcheck"]["test"][1]
    assert re.fullmatch(r"axllent/mailpit:v\d+\.\d+\.\d+", services["mailpit"]["image"])
    script = services["airflow-init"]["command"][1]
    assert script.index("iga deploy check") < script.index("airflow db migrate")
    assert script.index("umask 077") < script.index("simple_auth_manager_passwords.json")
    assert "chmod 600 /opt/airflow/auth/simple_auth_manager_passwords.json" in script


@pytest.mark.integration
def test_the_first_start_script_lets_only_the_roles_that_need_a_database_connect(tmp_path):
    """docker/postgres/10-iga-databases.sh against a real, fresh PostgreSQL (psql as in the image)."""
    import os
    import shutil
    import tempfile

    import pgserver
    import psycopg2

    parent = Path(tempfile.mkdtemp(prefix="iga-initdb-"))  # reachable by pgserver's account as root
    server = pgserver.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        socket_dir = str(server.get_postmaster_info().socket_dir)
        env = {**os.environ, "PGHOST": socket_dir, "POSTGRES_USER": "postgres",
               "IGA_DB_NAME": "iga", "IGA_DB_USER": "iga", "IGA_DB_PASSWORD": "pw-iga-0123456789",
               "AIRFLOW_DB_NAME": "airflow", "AIRFLOW_DB_USER": "airflow", "AIRFLOW_DB_PASSWORD": "pw-af-0123456789"}
        psql = shutil.which("psql") or str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql")
        env["PATH"] = f"{Path(psql).parent}{os.pathsep}{env['PATH']}"
        result = subprocess.run(["bash", str(REPO / "docker" / "postgres" / "10-iga-databases.sh")], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr

        def connect(user, database):
            return psycopg2.connect(host=socket_dir, user=user, dbname=database)

        admin = connect("postgres", "postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("CREATE ROLE outsider LOGIN; CREATE ROLE alice LOGIN IN ROLE iga_analyst")
        admin.close()
        allowed = {("iga", "iga"), ("alice", "iga"), ("airflow", "airflow")}
        for user in ("iga", "airflow", "alice", "outsider"):
            for database in ("iga", "airflow"):
                if (user, database) in allowed:
                    connect(user, database).close()
                else:
                    with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
                        connect(user, database).close()
    finally:
        server.cleanup()
        shutil.rmtree(parent, ignore_errors=True)
