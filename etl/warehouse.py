"""The PostgreSQL warehouse: its URL (configured or embedded) and engines.

With no ``IGA_WAREHOUSE_URL`` the warehouse is a real PostgreSQL server that the project starts
itself from the pip-installed ``pgserver`` package, with its data in ``$IGA_HOME/pgdata``. It keeps
running after the command that started it, so that analysts can ``psql "$(iga db url)"``;
``iga db stop`` stops it.
"""
from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

from etl.config import settings

EMBEDDED_DATABASE = "iga"
log = logging.getLogger(__name__)


def _embedded_server(pgdata: Path):
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root)
        warnings.simplefilter("ignore")
        import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata, cleanup_mode=None)


def _socket_dir(server) -> str:
    return str(server.get_postmaster_info().socket_dir)


def embedded_url(pgdata: Path) -> str:
    """Start (if needed) the embedded server in ``pgdata`` and return the URL of its ``iga`` database."""
    server = _embedded_server(pgdata)
    socket_dir = _socket_dir(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return f"postgresql+psycopg2://postgres@/{EMBEDDED_DATABASE}?host={quote(socket_dir)}"


EMBEDDED_READER = "iga_reader"


def embedded_reader_url(url: str) -> str:
    """A login in the read-only role iga_analyst on the embedded server (socket-only, no password)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    with engine(url).begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": EMBEDDED_READER}).first()
        if not exists:
            conn.execute(text("CREATE ROLE " + EMBEDDED_READER + " LOGIN IN ROLE iga_analyst"))
    return make_url(url).set(username=EMBEDDED_READER).render_as_string(hide_password=False)


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    with warnings.catch_warnings():  # as in _embedded_server
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    return True


def warehouse_url() -> str:
    """The SQLAlchemy URL of the warehouse: ``IGA_WAREHOUSE_URL`` or the embedded server."""
    configured = settings().warehouse_url
    if configured:
        return normalise_url(configured)
    return embedded_url(settings().pgdata)


def normalise_url(url: str) -> str:
    """Use psycopg2 (needed for COPY) whatever driver the URL names."""
    for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    raise ValueError(f"IGA_WAREHOUSE_URL must be a PostgreSQL URL, got {url.split('://')[0]}://…")


_ENGINES: list = []  # every engine this process made
_INHERITED_POOLS: list = []


@functools.lru_cache(maxsize=4)
def _engine_for(url: str):
    from sqlalchemy import create_engine

    made = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    _ENGINES.append(made)
    return made


def forget_inherited_connections() -> None:
    """In a forked child (etl.isolate): new pools for the child; the parent's pooled connections
    stay referenced and untouched until the child exits (closing a psycopg2 connection sends
    "terminate" on the socket the parent still uses)."""
    for made in _ENGINES:
        _INHERITED_POOLS.append(made.pool)
        made.dispose(close=False)


def engine(url: str | None = None):
    """A pooled engine for the warehouse (one per URL and process)."""
    return _engine_for(url or warehouse_url())
