"""Run the real DAGs in this process with ``dag.test()``: what ``iga run`` and the tests do.

Airflow reads its configuration from the environment when it is first imported, so
:func:`configure_airflow` must run before anything imports ``airflow``.
"""
from __future__ import annotations

import logging
import os
import warnings

from etl import prefetch
from etl.config import DAGS_DIR, Settings, environment, settings
from etl.errors import IgaError

DAG_ORDER = ("iga_ingest", "iga_publish", "iga_quality")
log = logging.getLogger(__name__)


class PipelineFailed(IgaError, RuntimeError):
    """A DAG run did not succeed: the pipeline itself could not work (not a refused file)."""


def configure_airflow(current: Settings, warehouse_url: str) -> None:
    """Point Airflow at the project's DAGs and a SQLite metadata DB in the state folder (0700: the
    metadata holds connections and the admin password file lives there)."""
    from etl.private_files import private_dir

    private_dir(current.airflow_home)
    defaults = {
        "AIRFLOW_HOME": str(current.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{current.airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    # Airflow's own test client import warns about httpx on every start; it is not ours to fix.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    # Tasks run in this process and must use the same warehouse as the caller.
    os.environ["IGA_WAREHOUSE_URL"] = warehouse_url
    os.environ["IGA_HOME"] = str(current.home)
    os.environ["IGA_LANDING"] = str(current.landing)


_airflow_db_ready: set[str] = set()


def migrate_airflow_db() -> None:
    """Create or upgrade Airflow's metadata DB (once per process and database)."""
    conn = environment()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if conn in _airflow_db_ready:
        return
    from airflow.utils.db import initdb

    initdb()
    _airflow_db_ready.add(conn)


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise PipelineFailed(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def run_dag(dag) -> str:
    """Run one DAG to completion in-process; raise PipelineFailed unless it succeeded."""
    run = dag.test()
    state = str(getattr(run.state, "value", run.state))
    if state != "success":
        failed = [ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
                  for ti in run.get_task_instances() if str(getattr(ti.state, "value", ti.state)) == "failed"]
        raise PipelineFailed(f"{dag.dag_id} ended {state}; failed tasks: {', '.join(failed) or 'unknown'}")
    return state


def run_pipeline() -> None:
    """Ingest what is new, then publish and send the quality reports (as the Asset would trigger).

    The new files are examined ahead on the second core while Airflow starts and runs the tasks
    one after another (:mod:`etl.prefetch`; forked first, before Airflow starts any thread)."""
    from etl.ingest import new_entries

    helper = prefetch.start(settings().home, new_entries)
    try:
        migrate_airflow_db()
        dags = load_dags()
        for dag_id in DAG_ORDER:
            log.info("running %s", dag_id)
            run_dag(dags[dag_id])
    finally:
        prefetch.stop(helper)
