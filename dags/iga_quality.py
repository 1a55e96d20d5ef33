"""
### iga_quality — quality reports to the provinces, completeness digest to the coordination

Triggered by the warehouse Asset after files are loaded, and every Monday at 07:00 (Casablanca).
Writes an HTML report (French and Arabic) for every submission not yet reported and mails it to the
province's data owners (`reference/owners.csv`, or `IGA_OWNERS_FILE`); on the weekly and manual
runs it also sends the national coordination the completeness table. With no SMTP connection
configured, mails are written to `$IGA_HOME/outbox/`.

**Re-running is safe**: a submission is marked reported only after its mail was delivered, so a run
that failed resends exactly what was not sent.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from etl.assets import WAREHOUSE_ASSET_NAME, WAREHOUSE_ASSET_URI
from etl.notify import TaskFailureMail


@dag(
    dag_id="iga_quality",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * 1", timezone="Africa/Casablanca"),
        assets=[Asset(name=WAREHOUSE_ASSET_NAME, uri=WAREHOUSE_ASSET_URI)],
    ),
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["iga"],
    default_args={
        "retries": 3, "retry_delay": dt.timedelta(minutes=1), "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=10),
        "on_failure_callback": [TaskFailureMail()],  # mails the operators (etl/notify.py)
    },
)
def iga_quality():
    @task
    def send_submission_reports() -> list[str]:
        from etl.reports import send_submission_reports

        return send_submission_reports()

    @task
    def send_digest() -> str | None:
        from etl.reports import send_digest

        if get_current_context()["dag_run"].run_type == "asset_triggered":
            return None  # the digest goes out weekly (and on manual runs), not after every file
        return send_digest()

    send_submission_reports() >> send_digest()


iga_quality()
