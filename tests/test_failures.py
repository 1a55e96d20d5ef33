"""Failures tell the operators the error type, the file and the row, never a row's contents.

Real faults against the real parts: a constraint the warehouse enforces turns one promoter's row
into a database error whose own message quotes the whole row; the ingest DAG runs for real
(``dag.test()``); the failure mail goes through a real SMTP server on loopback.
"""
from __future__ import annotations

import random

import pytest
from sqlalchemy import create_engine, text

from etl.config import settings
from etl.examine import examine
from etl.pipeline import configure_airflow, load_dags, migrate_airflow_db
from etl.sample import generate

pytestmark = pytest.mark.dag


def ingest_dag(retries: int = 0):
    migrate_airflow_db()
    dag = load_dags()["iga_ingest"]
    for task in dag.tasks:
        task.retries = retries
    return dag


@pytest.mark.parametrize("seed, column", [(3, "promoter_name"), (11, "title")])
def test_a_row_the_warehouse_refuses_is_mailed_as_its_file_and_excel_row_never_its_contents(
        seed, column, warehouse_url, iga_home, smtp_server, monkeypatch, capfd, caplog):
    monkeypatch.setenv("IGA_OPERATOR_EMAILS", "ops@indh.local")
    current = settings()
    expected = generate(current.landing, provinces=["MA-BER"], rows=(6, 9), errors_per_file=0, seed=seed)
    (path,) = expected.files
    rows = [row for _, row in examine(path, "MA-BER", "2013").rows]
    victim = random.Random(seed).choice([row for row in rows if row[column]])
    personal = str(victim[column])
    with create_engine(warehouse_url).begin() as conn:
        # A real fault: the warehouse refuses this one value; PostgreSQL's error quotes the whole row.
        conn.execute(text("ALTER TABLE core.project_version ADD CONSTRAINT probe_refuses_one_row "
                          f"CHECK ({column} IS DISTINCT FROM :value)"), {"value": personal})
    configure_airflow(current, warehouse_url)

    run = ingest_dag().test()

    states = {(ti.task_id, str(getattr(ti.state, "value", ti.state))) for ti in run.get_task_instances()}
    assert ("ingest_file", "failed") in states
    (recipients, message), = [m for m in smtp_server.messages if "ingest_file" in m[1]["Subject"]]
    body = message.get_body(("html",)).get_content()
    relative = path.relative_to(current.landing).as_posix()
    assert relative in body and f"Excel row {victim['excel_row']}" in body
    assert "SubmissionFailed" in body and "CheckViolation" in body and "probe_refuses_one_row" in body
    printed = capfd.readouterr()
    everything = body + str(message["Subject"]) + printed.out + printed.err + caplog.text
    for value in {personal, victim["promoter_name"], victim["title"]} - {None}:
        assert str(value) not in everything, f"{value!r} reached a mail or a log"
    with create_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.submission")).scalar_one() == 0
