"""
### iga_backup — a daily backup of the warehouse, the newest N kept

Every day at 02:30 (Casablanca): `pg_dump` (custom format) of the warehouse and a manifest of the
archive's original files with their SHA-256, into `$IGA_HOME/backups/<UTC time>/` (or
`IGA_BACKUP_DIR`); keeps the newest `IGA_BACKUP_KEEP` (14) and removes older ones. A backup is
written under a hidden `.partial` name and renamed only when complete.

Restore: `iga db restore <folder>` into an empty warehouse; it checks every archived file against
the manifest. Back the archive folder itself up with the host's file backups.

**Re-running is safe**: each run writes a new folder; trigger the DAG by hand for a backup now.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, dag, task

from etl.notify import task_defaults


@dag(
    dag_id="iga_backup",
    schedule=CronTriggerTimetable("30 2 * * *", timezone="Africa/Casablanca"),
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["iga"],
    default_args=task_defaults(retry_delay=dt.timedelta(minutes=5)),  # retries, then mails the operators
)
def iga_backup():
    @task
    def backup_warehouse() -> str:
        from etl.backup import scheduled_backup

        return scheduled_backup()

    backup_warehouse()


iga_backup()
