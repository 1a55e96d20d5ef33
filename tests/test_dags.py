"""The DAG folder parses cleanly, cheaply, and without touching anything."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag

DAGS = Path(__file__).resolve().parent.parent / "dags"
DAG_IDS = {"iga_ingest", "iga_publish", "iga_quality", "iga_backup"}

# Runs in a fresh interpreter: imports one DAG file with sockets forbidden, then reports which
# heavy modules the import pulled in.
PARSE_PROBE = r"""
import importlib.util, json, socket, sys
def forbidden(*args, **kwargs):
    raise RuntimeError("a DAG file opened a network connection while parsing")
socket.socket.connect = forbidden
socket.create_connection = forbidden
import airflow.sdk  # the baseline every DAG file pays
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = sorted(m for m in set(sys.modules) - before
               if m.split(".")[0] in {"pandas", "great_expectations", "psycopg2", "python_calamine",
                                      "openpyxl", "pgserver", "numpy"} or m.startswith("sqlalchemy.engine"))
print(json.dumps({"heavy": heavy}))
"""


def test_dag_folder_imports_without_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dags) == DAG_IDS
    for dag in bag.dags.values():
        assert dag.doc_md and "Re-running" in dag.doc_md, dag.dag_id
        assert dag.max_active_runs == 1


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_imports_nothing_heavy_and_opens_no_connection(dag_file, tmp_path):
    env = {"IGA_WAREHOUSE_URL": "postgresql://nobody@192.0.2.1:1/nowhere", "PATH": "/usr/bin:/bin",
           "AIRFLOW_HOME": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", PARSE_PROBE, str(DAGS / dag_file)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"heavy": []}


def test_publish_and_quality_follow_the_warehouse_asset():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    ingest = bag.dags["iga_ingest"]
    assert ingest.get_task("ingest_file").outlets == []  # one event per run, not one per file
    outlets = {a.uri for a in ingest.get_task("announce_warehouse_changed").outlets}
    for dag_id in ("iga_publish", "iga_quality"):
        dag = bag.dags[dag_id]
        assert dag.is_paused_upon_creation is False
        assert outlets & {asset.uri for asset in dag.timetable.asset_condition.objects}


def test_every_task_of_every_dag_retries_then_mails_the_operators():
    from airflow.dag_processing.dagbag import DagBag

    from etl.notify import TaskFailureMail

    bag = DagBag(dag_folder=str(DAGS))
    tasks = [task for dag in bag.dags.values() for task in dag.tasks]
    assert {task.dag_id for task in tasks} == DAG_IDS
    for task in tasks:
        where = f"{task.dag_id}.{task.task_id}"
        assert task.retries >= 1 and task.retry_exponential_backoff, where
        callbacks = task.on_failure_callback or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert any(isinstance(c, TaskFailureMail) for c in callbacks), where


def test_the_dags_share_one_default_args_block():
    sources = {p.name: p.read_text(encoding="utf-8") for p in DAGS.glob("*.py")}
    for name, source in sources.items():
        assert "default_args=task_defaults(" in source, name
        assert "TaskFailureMail" not in source and "retry_exponential_backoff" not in source, name
