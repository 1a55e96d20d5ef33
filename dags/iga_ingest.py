"""
### iga_ingest — load new provincial files into the warehouse

Every 15 minutes: lists the files in the landing folder (`<landing>/<province>/<period>/<file>`)
whose path and bytes have not been recorded yet, then loads each one in its own mapped task
(named after the file): read, map headers, normalise, validate with the Great Expectations suite
`expectations/project_rows.json`, and load valid rows, findings and refused rows in **one
transaction per file**. Each file is read in a child process capped in memory and time
(`IGA_WORKER_MEMORY_MB`, `IGA_WORKER_TIMEOUT_S`): a file that kills or hangs the reader is refused
(`FILE_UNREADABLE`) and the others go on. Links, FIFOs and names that are not safe text are
refused without being read. Then one event on the warehouse Asset (once per run, only when files
were processed) triggers `iga_publish` and `iga_quality`.

One run at a time (`max_active_runs=1`): a manual trigger waits for the scheduled run, so two
runs never load the same file. The DAG is active as soon as it is deployed. Failed tasks are retried
with exponential backoff (30 s, then 1 min), then mailed to the operators (`IGA_OPERATOR_EMAILS`).

**Re-running is safe**: a file already recorded is skipped, a task that failed midway left the
warehouse untouched, so clear the failed task (or trigger the DAG again) to finish the job.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, dag, get_current_context, task

from etl.assets import WAREHOUSE_ASSET_NAME, WAREHOUSE_ASSET_URI
from etl.notify import task_defaults

WAREHOUSE = Asset(name=WAREHOUSE_ASSET_NAME, uri=WAREHOUSE_ASSET_URI)


@dag(
    dag_id="iga_ingest",
    schedule="*/15 * * * *",
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["iga"],
    default_args=task_defaults(),  # retries, then mails the operators (etl/notify.py)
)
def iga_ingest():
    @task
    def migrate_warehouse() -> list[str]:
        from etl.migrate import migrate
        from etl.warehouse import engine

        return migrate(engine())

    @task
    def list_new_files() -> list[str]:
        from etl.ingest import list_new_files

        return list_new_files()

    # Four files at once: the local setup's four task slots (each file's child capped in memory).
    # One XCom per file, its summary: a `-> dict` task would otherwise push each key apart as well
    # (Airflow infers multiple_outputs from the annotation), 7 requests to the API per file.
    @task(map_index_template="{{ landing_file }}", max_active_tis_per_dagrun=4, multiple_outputs=False)
    def ingest_file(relative_path: str) -> dict:
        from etl.ingest import ingest_file

        get_current_context()["landing_file"] = relative_path
        return ingest_file(relative_path)

    # One asset event per run, not per file: publish rebuilds everything once after a cycle.
    # all_done_min_one_success: it runs when files were processed (even if one failed: the others
    # loaded); it is skipped, emitting nothing, when there was nothing new; and when the listing
    # failed (no file task ran) it is upstream_failed, so the run fails instead of ending "success".
    @task(outlets=[WAREHOUSE], trigger_rule="all_done_min_one_success")
    def announce_warehouse_changed() -> None:
        return None

    files = list_new_files()
    migrate_warehouse() >> files
    ingest_file.expand(relative_path=files) >> announce_warehouse_changed()


iga_ingest()
