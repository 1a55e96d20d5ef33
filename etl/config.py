"""Where things live, from the environment, with embedded defaults.

Every ``IGA_*`` variable is a field of :class:`Settings` (its name in the field's metadata) and is
read here only; the README's configuration table lists the same variables. Every setting has a
default that works on a fresh machine; nothing here opens a connection, and the module is light to
import (DAG files read the digest schedule from it while parsing).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from etl.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
REFERENCE_DIR = REPO_ROOT / "reference"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DAGS_DIR = REPO_ROOT / "dags"

DEFAULT_MAX_FILE_MB = 50
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_UNCOMPRESSED_MB = 500  # a 100,000-row, 20-column sheet inflates to about 100 MB
# The grid a sheet spans (rows x columns from A1, what calamine builds): 200,000 rows of 26 columns
# fit; a cell far away (XFD1048576) does not. About 300 MB in the reader at this limit.
DEFAULT_MAX_CELLS = 6_000_000
# Files from this size on are read column-wise (etl.columns, etl.columnar); smaller ones cell by cell,
# which is as fast there (no fixed cost of the Arrow readers: 25 ms against 47 ms for 400 rows).
DEFAULT_COLUMNS_FROM_KB = 1024
# The child that reads one file (etl.isolate): memory it may add to what the worker had mapped, and time.
DEFAULT_WORKER_MEMORY_MB = 1536
DEFAULT_WORKER_TIMEOUT_S = 300
DEFAULT_DIGEST_SCHEDULE = "0 7 * * 1"  # Mondays 07:00, Africa/Casablanca
DEFAULT_BACKUP_KEEP = 14  # two weeks of daily backups
DEFAULT_PORTAL_URL = "http://127.0.0.1:8090"


def _variable(name: str):
    return field(metadata={"env": name})


@dataclass(frozen=True)
class Settings:
    home: Path = _variable("IGA_HOME")
    landing: Path = _variable("IGA_LANDING")
    warehouse_url: str | None = _variable("IGA_WAREHOUSE_URL")  # None: the embedded server in home/pgdata
    smtp_conn_id: str | None = _variable("IGA_SMTP_CONN_ID")  # None: mails are written to home/outbox
    mail_from: str = _variable("IGA_MAIL_FROM")
    owners_file: Path = _variable("IGA_OWNERS_FILE")
    policy_file: Path = _variable("IGA_POLICY_FILE")
    reporting_calendar: Path = _variable("IGA_REPORTING_CALENDAR")
    digest_schedule: str = _variable("IGA_DIGEST_SCHEDULE")
    operator_emails: tuple[str, ...] = _variable("IGA_OPERATOR_EMAILS")  # empty: the owners file's NATIONAL
    max_file_mb: int = _variable("IGA_MAX_FILE_MB")
    max_rows: int = _variable("IGA_MAX_ROWS")
    max_uncompressed_mb: int = _variable("IGA_MAX_UNCOMPRESSED_MB")
    max_cells: int = _variable("IGA_MAX_CELLS")
    columns_from_kb: int = _variable("IGA_COLUMNS_FROM_KB")  # 0: every file column-wise
    worker_memory_mb: int = _variable("IGA_WORKER_MEMORY_MB")
    worker_timeout_s: int = _variable("IGA_WORKER_TIMEOUT_S")
    # The provinces' portal (portal/): where its links point, its cookie-signing key (None: one is
    # generated once in home/portal/secret_key), and the Airflow REST API it triggers iga_ingest on.
    portal_url: str = _variable("IGA_PORTAL_URL")
    portal_secret_key: str | None = _variable("IGA_PORTAL_SECRET_KEY")
    airflow_api_url: str | None = _variable("IGA_AIRFLOW_API_URL")  # None: scheduled runs load the files
    airflow_api_user: str | None = _variable("IGA_AIRFLOW_API_USER")
    airflow_api_password: str | None = _variable("IGA_AIRFLOW_API_PASSWORD")
    backup_dir: Path = _variable("IGA_BACKUP_DIR")
    backup_keep: int = _variable("IGA_BACKUP_KEEP")  # backups the iga_backup DAG keeps
    pg_bin: Path | None = _variable("IGA_PG_BIN")  # None: the PostgreSQL client tools pgserver ships

    @property
    def backups(self) -> Path:
        return self.backup_dir

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def published(self) -> Path:
        return self.home / "published"

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def portal_state(self) -> Path:
        return self.home / "portal"


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None


def settings() -> Settings:
    home = Path(os.environ.get("IGA_HOME") or ".iga").resolve()
    landing = Path(os.environ.get("IGA_LANDING") or home / "landing").resolve()
    smtp_conn_id = os.environ.get("IGA_SMTP_CONN_ID")
    if not smtp_conn_id and os.environ.get("AIRFLOW_CONN_IGA_SMTP"):
        smtp_conn_id = "iga_smtp"
    return Settings(
        home=home,
        landing=landing,
        warehouse_url=os.environ.get("IGA_WAREHOUSE_URL") or None,
        smtp_conn_id=smtp_conn_id or None,
        mail_from=os.environ.get("IGA_MAIL_FROM", "iga-pipeline@indh.local"),
        owners_file=Path(os.environ.get("IGA_OWNERS_FILE") or REFERENCE_DIR / "owners.csv"),
        policy_file=Path(os.environ.get("IGA_POLICY_FILE") or REFERENCE_DIR / "policy.csv"),
        reporting_calendar=Path(os.environ.get("IGA_REPORTING_CALENDAR")
                                or REFERENCE_DIR / "reporting_calendar.csv"),
        digest_schedule=os.environ.get("IGA_DIGEST_SCHEDULE", DEFAULT_DIGEST_SCHEDULE),
        operator_emails=tuple(a.strip() for a in os.environ.get("IGA_OPERATOR_EMAILS", "").split(",")
                              if a.strip()),
        max_file_mb=_whole_number("IGA_MAX_FILE_MB", DEFAULT_MAX_FILE_MB),
        max_rows=_whole_number("IGA_MAX_ROWS", DEFAULT_MAX_ROWS),
        max_uncompressed_mb=_whole_number("IGA_MAX_UNCOMPRESSED_MB", DEFAULT_MAX_UNCOMPRESSED_MB),
        max_cells=_whole_number("IGA_MAX_CELLS", DEFAULT_MAX_CELLS),
        columns_from_kb=_whole_number("IGA_COLUMNS_FROM_KB", DEFAULT_COLUMNS_FROM_KB),
        worker_memory_mb=_whole_number("IGA_WORKER_MEMORY_MB", DEFAULT_WORKER_MEMORY_MB),
        worker_timeout_s=_whole_number("IGA_WORKER_TIMEOUT_S", DEFAULT_WORKER_TIMEOUT_S),
        portal_url=(os.environ.get("IGA_PORTAL_URL") or DEFAULT_PORTAL_URL).rstrip("/"),
        portal_secret_key=os.environ.get("IGA_PORTAL_SECRET_KEY") or None,
        airflow_api_url=(os.environ.get("IGA_AIRFLOW_API_URL") or "").rstrip("/") or None,
        airflow_api_user=os.environ.get("IGA_AIRFLOW_API_USER") or None,
        airflow_api_password=os.environ.get("IGA_AIRFLOW_API_PASSWORD") or None,
        backup_dir=Path(os.environ.get("IGA_BACKUP_DIR") or home / "backups").resolve(),
        backup_keep=_whole_number("IGA_BACKUP_KEEP", DEFAULT_BACKUP_KEEP),
        pg_bin=Path(os.environ["IGA_PG_BIN"]) if os.environ.get("IGA_PG_BIN") else None,
    )


def environment() -> dict[str, str]:
    """A copy of this process's whole environment: what the processes the pipeline starts inherit."""
    return dict(os.environ)


def variables() -> dict[str, str]:
    """Each ``IGA_*`` variable the pipeline reads -> its :class:`Settings` field."""
    from dataclasses import fields

    return {f.metadata["env"]: f.name for f in fields(Settings)}
