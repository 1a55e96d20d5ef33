"""
### iga_publish — refresh the national aggregates and write the published files

Triggered by the warehouse Asset (each file `iga_ingest` loads). Rebuilds the marts
(`mart.province_summary`, `mart.region_summary`, `mart.national_summary`, from `sql/mart/`) in one
transaction, then writes CSV exports and a manifest to `$IGA_HOME/published/<time>/` and points
`published/latest` at them.

**Re-running is safe**: the marts are recomputed from the current projects each time; trigger the
DAG by hand to republish.
"""
from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, dag, task

from etl.assets import WAREHOUSE_ASSET_NAME, WAREHOUSE_ASSET_URI
from etl.notify import task_defaults


@dag(
    dag_id="iga_publish",
    schedule=[Asset(name=WAREHOUSE_ASSET_NAME, uri=WAREHOUSE_ASSET_URI)],
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    doc_md=__doc__,
    tags=["iga"],
    default_args=task_defaults(),  # retries, then mails the operators (etl/notify.py)
)
def iga_publish():
    @task
    def refresh_marts() -> str:
        from etl.publish import refresh_marts

        return refresh_marts()

    @task
    def write_exports() -> str:
        from etl.publish import write_exports

        return write_exports()

    refresh_marts() >> write_exports()


iga_publish()
