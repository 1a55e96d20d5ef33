"""Where things live, from the environment, with embedded defaults.

Every setting has a default that works on a fresh machine; nothing here opens a connection.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "sql"
REFERENCE_DIR = REPO_ROOT / "reference"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DAGS_DIR = REPO_ROOT / "dags"


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    warehouse_url: str | None  # None: the embedded server in home/pgdata
    smtp_conn_id: str | None  # None: mails are written to home/outbox
    mail_from: str
    backup_dir: Path | None = None  # None: home/backups
    backup_keep: int = 7  # backups the iga_backup DAG keeps

    @property
    def backups(self) -> Path:
        return self.backup_dir or self.home / "backups"

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
        backup_dir=Path(os.environ["IGA_BACKUP_DIR"]).resolve() if os.environ.get("IGA_BACKUP_DIR") else None,
        backup_keep=int(os.environ.get("IGA_BACKUP_KEEP") or 7),
    )
