"""The DAG folder parses cleanly, cheaply, and without touching anything."""
from pathlib import Path

import pytest
from import_probe import heavy_imports

pytestmark = pytest.mark.dag

DAGS = Path(__file__).resolve().parent.parent / "dags"
DAG_IDS = {"iga_ingest", "iga_publish", "iga_quality", "iga_backup"}


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
    load = ("import importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(DAGS / dag_file)!r})\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))")
    assert heavy_imports("a DAG file", "import airflow.sdk", load, env) == []


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
