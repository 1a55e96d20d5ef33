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
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    require_passwords(pgdata)
    return server


def _pg_ctl_user() -> str | None:
    return "pgserver" if os.geteuid() == 0 else None  # as root, pgserver runs the server as "pgserver"


def authentication_rules(os_user: str) -> dict[str, str]:
    """pg_hba.conf and pg_ident.conf of the embedded server.

    pgserver's own are "trust" for everyone on its socket, so any local account could log in as any
    role, the superuser included. Here the owner's login (``postgres``) is accepted only from the OS
    account that runs the project (peer authentication over the socket), and every other role must
    give its password (SCRAM-SHA-256): the read-only analyst login is a boundary. The server has no
    TCP listener (pgserver starts it with ``-h ""``).
    """
    return {
        "pg_hba.conf": (
            "# Written by iga-pipeline (etl/warehouse.py); rewritten at each start.\n"
            "# TYPE  DATABASE  USER      METHOD\n"
            "local   all       postgres  peer map=iga_owner\n"
            "local   all       all       scram-sha-256\n"),
        "pg_ident.conf": (
            "# Written by iga-pipeline (etl/warehouse.py): the OS account allowed to log in as postgres.\n"
            f"iga_owner  {os_user}  postgres\n"),
    }


def require_passwords(pgdata: Path) -> bool:
    """Put :func:`authentication_rules` in place and reload the server if they changed; True if so."""
    import pwd

    owner = pgdata.stat()
    changed = False
    for name, content in authentication_rules(pwd.getpwuid(os.geteuid()).pw_name).items():
        path = pgdata / name
        if path.exists() and path.read_text() == content:
            continue
        partial = path.with_name(name + ".iga-new")
        partial.write_text(content)
        partial.chmod(0o600)
        if os.geteuid() == 0:
            os.chown(partial, owner.st_uid, owner.st_gid)
        partial.replace(path)
        changed = True
    if changed:
        from pgserver._commands import pg_ctl

        pg_ctl(["reload"], pgdata=pgdata, user=_pg_ctl_user())
    return changed


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


def embedded_reader_url(url: str, passfile: Path | None = None) -> str:
    """A login in the read-only role iga_analyst on the embedded server.

    It logs in with a password (the server requires one from every role but the owner's), kept in
    ``passfile`` (0600, libpq's format; default ``$IGA_HOME/analyst.pgpass``); the URL names the
    file, so it carries no password itself.
    """
    import secrets

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from etl.private_files import write_secret

    passfile = passfile or settings().home / "analyst.pgpass"
    password = None
    if passfile.exists():
        password = passfile.read_text().strip().rsplit(":", 1)[-1] or None
    password = password or secrets.token_hex(24)
    with engine(url).begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": EMBEDDED_READER}).first()
        if not exists:
            conn.execute(text("CREATE ROLE " + EMBEDDED_READER + " LOGIN IN ROLE iga_analyst"))
        # psycopg2 quotes the value into the statement (ALTER ROLE takes no server-side parameter).
        conn.execute(text("ALTER ROLE " + EMBEDDED_READER + " PASSWORD :password"), {"password": password})
    write_secret(passfile, f"*:*:*:{EMBEDDED_READER}:{password}\n")
    reader = make_url(url).set(username=EMBEDDED_READER)
    return reader.update_query_dict({"passfile": str(passfile)}).render_as_string(hide_password=False)


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    with warnings.catch_warnings():  # as in _embedded_server
        warnings.simplefilter("ignore")
        from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=_pg_ctl_user())
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


def display_url(url: str) -> str:
    """The URL to show a person: ``postgresql://`` and any password masked as ``***``.

    Every URL the project prints or logs goes through here; the password stays in the environment
    (or, for the embedded analyst login, in a 0600 passfile the URL names)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    shown = url if parsed.password is None else parsed.render_as_string(hide_password=True)
    return shown.replace("postgresql+psycopg2://", "postgresql://", 1)


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
