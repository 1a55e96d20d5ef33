"""
### iga_quality — quality reports to the provinces, digests on a schedule

Triggered by the warehouse Asset after files are loaded, and weekly (Mondays 07:00 Casablanca, or
the cron in `IGA_DIGEST_SCHEDULE`).

- **After each submission**: an HTML report (French, and Arabic right-to-left) and an XLSX of its
  findings pointing at the original Excel rows, mailed to the province's data owners
  (`reference/owners.csv`, or `IGA_OWNERS_FILE`): HTML body, XLSX attached.
- **Weekly and manual runs**: the national coordination gets the completeness table of the current
  period of the reporting calendar (`reference/reporting_calendar.csv` or `IGA_REPORTING_CALENDAR`):
  who reported, on time or late, and the errors still open.
- **Weekly runs**: each province's owners get a digest of its open errors and missing periods.

With no SMTP connection configured, mails are written to `$IGA_HOME/outbox/`.

**Re-running is safe**: a submission is marked reported only after its mail was delivered, so a run
that failed resends exactly what was not sent (a digest that failed is sent again in full).
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from etl.assets import WAREHOUSE_ASSET_NAME, WAREHOUSE_ASSET_URI
from etl.config import settings
from etl.notify import task_defaults

DIGEST_SCHEDULE = settings().digest_schedule


@dag(
    dag_id="iga_quality",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(DIGEST_SCHEDULE, timezone="Africa/Casablanca"),
        assets=[Asset(name=WAREHOUSE_ASSET_NAME, uri=WAREHOUSE_ASSET_URI)],
    ),
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["iga"],
    default_args=task_defaults(retries=3, retry_delay=dt.timedelta(minutes=1)),  # then mails the operators
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

    @task
    def send_province_digests() -> int:
        from etl.reports import send_province_digests

        if get_current_context()["dag_run"].run_type != "scheduled":
            return 0  # the provinces' digest is weekly only
        return len(send_province_digests())

    reports = send_submission_reports()
    reports >> send_digest()
    reports >> send_province_digests()


iga_quality()
