"""The mail server goes down during iga_quality and comes back: no report lost, none sent twice.

A real SMTP server on loopback (aiosmtpd) and the real quality DAG (``dag.test()``). Each
submission's report is built and sent on its own; one that cannot be sent is recorded with its
error (``core.submission.report_error``) and goes out on the next run, and never holds back the
others.
"""
import json
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.operate import free_port
from etl.sample import generate

PROVINCES = ["MA-BER", "MA-CHE", "MA-TAO"]


class Server:
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self, stop_after: int | None = None, refuse: set[str] = frozenset()):
        self.port = free_port()
        self.messages: list[tuple[list[str], str]] = []
        self.stop_after = stop_after
        self.refuse = set(refuse)
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, str(message["Subject"])))
        if self.stop_after is not None and len(self.messages) >= self.stop_after:
            threading.Thread(target=self.stop).start()  # the server goes down mid-run
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            controller, self.controller = self.controller, None
            controller.stop()

    def connection(self) -> str:
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                           "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "iga@indh.local",
                                     "timeout": 5, "retry_limit": 0}})


def pending(url):
    with create_engine(url).connect() as conn:
        return conn.execute(text("SELECT file_name, report_attempts, report_error FROM core.submission "
                                 "WHERE reported_at IS NULL ORDER BY submission_id")).all()


def report_subjects(server):
    return [subject for _, subject in server.messages if "point hebdomadaire" not in subject
            and "Complétude" not in subject]


@pytest.mark.dag
def test_the_mail_server_stops_during_iga_quality_and_nothing_is_lost_or_sent_twice(warehouse_url, iga_home,
                                                                                     monkeypatch):
    from etl.pipeline import PipelineFailed, configure_airflow, load_dags, migrate_airflow_db, run_dag

    generate(settings().landing, provinces=PROVINCES)
    for path in list_new_files():
        ingest_file(path)
    server = Server(stop_after=1)
    server.start()
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", server.connection())
    configure_airflow(settings(), warehouse_url)
    migrate_airflow_db()
    quality = load_dags()["iga_quality"]
    for task in quality.tasks:
        task.retries = 0  # the run ends now instead of waiting for Airflow's retry delay
    try:
        with pytest.raises(PipelineFailed):
            run_dag(quality)
        assert len(report_subjects(server)) == 1  # the first report went out, then the server stopped
        left = pending(warehouse_url)
        assert len(left) == 2 and all(row.report_error and row.report_attempts == 1 for row in left)

        server.stop_after = None
        server.start()  # back before the next run
        run_dag(quality)
    finally:
        server.stop()
    subjects = report_subjects(server)
    assert len(subjects) == 3 and len(set(subjects)) == 3  # every report once, none twice
    assert sorted(s.split()[2] for s in subjects) == PROVINCES
    assert pending(warehouse_url) == []
    assert sum("Complétude" in s for _, s in server.messages) == 1  # the digest that failed went out once


@pytest.mark.integration
def test_one_report_that_cannot_be_sent_never_holds_back_the_others(warehouse_url, iga_home, monkeypatch):
    from etl.reports import ReportsNotDelivered, send_submission_reports

    generate(settings().landing, provinces=PROVINCES)
    for path in list_new_files():
        ingest_file(path)
    server = Server(refuse={"das.ber@indh.local"})  # Berkane's mailbox refuses, the first in the queue
    server.start()
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", server.connection())
    try:
        with pytest.raises(ReportsNotDelivered, match="1 report"):
            send_submission_reports()
        assert Counter(s.split()[2] for s in report_subjects(server)) == {"MA-CHE": 1, "MA-TAO": 1}
        (left,) = pending(warehouse_url)
        assert "_ber_" in left.file_name and "550" in left.report_error

        server.refuse.clear()
        assert len(send_submission_reports()) == 1
        assert send_submission_reports() == []
    finally:
        server.stop()
    assert Counter(s.split()[2] for s in report_subjects(server)) == {"MA-BER": 1, "MA-CHE": 1, "MA-TAO": 1}
