"""A failed task mails the operators (task-level notifier), through a real SMTP server on loopback."""
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag

DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture
def operators_inbox(smtp_server, monkeypatch):
    monkeypatch.setenv("IGA_OPERATOR_EMAILS", "ops@indh.local, astreinte@indh.local")
    return smtp_server


def test_every_task_of_every_dag_mails_the_operators_when_it_fails():
    from airflow.dag_processing.dagbag import DagBag

    from etl.notify import TaskFailureMail

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    for dag in bag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            assert any(isinstance(c, TaskFailureMail) for c in callbacks), (dag.dag_id, task.task_id)
            assert task.retries >= 2 and task.retry_exponential_backoff, (dag.dag_id, task.task_id)


PROBE_DAG = """
import datetime as dt

from airflow.sdk import dag, get_current_context, task

from etl.notify import TaskFailureMail


@dag(dag_id="iga_notify_probe", schedule=None, start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
     default_args={"retries": 0, "on_failure_callback": [TaskFailureMail()]})
def iga_notify_probe():
    @task(map_index_template="{{ landing_file }}")
    def load(relative_path: str) -> None:
        get_current_context()["landing_file"] = relative_path
        if "BER" in relative_path:
            raise ConnectionError("warehouse unreachable")

    load.expand(relative_path=["MA-TAO/2013/a.xlsx", "MA-BER/2013/b.xlsx"])


iga_notify_probe()
"""


def test_a_failed_mapped_task_mails_its_file_and_error_in_french_and_arabic(operators_inbox, iga_home, tmp_path):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    from etl.pipeline import migrate_airflow_db

    migrate_airflow_db()
    # dag.test() needs the DAG serialized in a bundle; the probe lives outside the project's DAG folder.
    folder = tmp_path / "probe_dags"
    folder.mkdir()
    (folder / "iga_notify_probe.py").write_text(PROBE_DAG)
    bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, bundle_name="dags-folder")
    assert bag.import_errors == {}
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)

    run = bag.dags["iga_notify_probe"].test()
    assert str(getattr(run.state, "value", run.state)) == "failed"
    assert len(operators_inbox.messages) == 1
    recipients, message = operators_inbox.messages[0]
    assert sorted(recipients) == ["astreinte@indh.local", "ops@indh.local"]
    assert "iga_notify_probe.load [MA-BER/2013/b.xlsx]" in message["Subject"]
    body = message.get_body(("html",)).get_content()
    assert "ConnectionError: warehouse unreachable" in body
    assert "a échoué" in body and "فشلت المهمة" in body
