"""Test set-up: Airflow and the warehouse, real and isolated for this run.

Airflow reads its configuration when first imported, so its environment is set here, at import.
The warehouse is a real PostgreSQL: ``IGA_TEST_DATABASE_URL`` (a server where this run may create
and drop databases) when given, else an embedded server started for this run in a temporary
folder. Each test that writes gets its own database, cloned from a migrated template, dropped after.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

RUN_DIR = Path(tempfile.mkdtemp(prefix="iga-tests-"))
REPO = Path(__file__).resolve().parent.parent
os.environ.update({
    "AIRFLOW_HOME": str(RUN_DIR / "airflow"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{RUN_DIR / 'airflow' / 'airflow.db'}",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    "IGA_HOME": str(RUN_DIR / "home"),
})
os.environ.pop("IGA_WAREHOUSE_URL", None)
os.environ.pop("AIRFLOW_CONN_IGA_SMTP", None)
(RUN_DIR / "airflow").mkdir()

TIERS = {"unit", "integration", "dag", "portal", "scheduler"}


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items if not TIERS & {m.name for m in item.iter_markers()}]
    if unmarked:
        raise pytest.UsageError(
            "Every test needs a tier marker (" + ", ".join(sorted(TIERS)) + "); unmarked: " + ", ".join(unmarked))


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(RUN_DIR, ignore_errors=True)


class Server:
    """A PostgreSQL server on which this run creates and drops its databases."""

    def __init__(self):
        configured = os.environ.get("IGA_TEST_DATABASE_URL")
        self.embedded = None
        if configured:
            from etl.warehouse import normalise_url

            self.admin_url = normalise_url(configured)
        else:
            import pgserver

            self.embedded = pgserver.get_server(RUN_DIR / "pgdata", cleanup_mode="delete")
            socket_dir = self.embedded.get_postmaster_info().socket_dir
            self.admin_url = f"postgresql+psycopg2://postgres@/postgres?host={socket_dir}"
        from sqlalchemy import create_engine, text

        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"iga_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        with self.admin.connect() as conn:
            self.roles_before = set(conn.execute(text("SELECT rolname FROM pg_roles")).scalars())

    def url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        from sqlalchemy import text

        name = f"{self.prefix}_{len(self.created)}"
        with self.admin.connect() as conn:
            # Names are generated here, never from input; CREATE DATABASE cannot take parameters.
            statement = "CREATE DATABASE " + name + (" TEMPLATE " + template if template else "")
            conn.execute(text(statement))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        from sqlalchemy import text

        from etl.warehouse import _engine_for

        _engine_for.cache_clear()
        with self.admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"))

    def close(self) -> None:
        from sqlalchemy import text

        for name in reversed(self.created):
            self.drop(name)
        # The migrations create cluster-wide roles: leave a shared server as this run found it.
        with self.admin.connect() as conn:
            for role in ("iga_reader", "iga_analyst", "iga_pipeline"):
                if role not in self.roles_before:
                    conn.execute(text("DROP ROLE IF EXISTS " + role))
        self.admin.dispose()
        if self.embedded is not None:
            self.embedded.cleanup()


@pytest.fixture(scope="session")
def pg_server():
    server = Server()
    yield server
    server.close()


@pytest.fixture(scope="session")
def template_db(pg_server):
    """A migrated warehouse that tests clone (CREATE DATABASE … TEMPLATE is fast)."""
    from sqlalchemy import create_engine

    from etl.migrate import migrate

    name = pg_server.create()
    engine = create_engine(pg_server.url(name))
    migrate(engine)
    engine.dispose()
    return name


@pytest.fixture
def warehouse_url(pg_server, template_db, monkeypatch):
    """A fresh, migrated warehouse for one test; IGA_WAREHOUSE_URL points at it."""
    name = pg_server.create(template=template_db)
    url = pg_server.url(name)
    monkeypatch.setenv("IGA_WAREHOUSE_URL", url)
    yield url
    pg_server.drop(name)


@pytest.fixture
def iga_home(tmp_path, monkeypatch):
    """A state folder of its own (landing, archive, outbox, reports, published)."""
    home = tmp_path / "home"
    monkeypatch.setenv("IGA_HOME", str(home))
    monkeypatch.setenv("IGA_LANDING", str(home / "landing"))
    return home


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (a mail server that is down)."""
    from etl.operate import free_port

    return free_port()


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received: (recipients, message) pairs."""

    def __init__(self):
        self.messages = []
        self.connection = ""  # the Airflow SMTP connection (JSON) that reaches this server

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_inbox():
    """A real SMTP server on a free loopback port; ``inbox.connection`` is its Airflow connection."""
    import json

    from aiosmtpd.controller import Controller

    from etl.operate import free_port

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.connection = json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "iga@indh.local", "timeout": 10},
    })
    yield inbox
    controller.stop()


@pytest.fixture
def smtp_server(smtp_inbox, monkeypatch):
    """The same server, configured as this process's mail connection (AIRFLOW_CONN_IGA_SMTP)."""
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", smtp_inbox.connection)
    return smtp_inbox
