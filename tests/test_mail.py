"""Quality mails through Airflow's SMTP provider to a real SMTP server on loopback (aiosmtpd)."""
import email
import json
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.reports import send_digest, send_submission_reports
from etl.sample import generate

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "iga@indh.local", "timeout": 10},
    }))
    yield inbox
    controller.stop()


def test_reports_reach_the_province_owners_with_the_report_attached(warehouse_url, iga_home, smtp_server):
    generate(settings().landing, provinces=["MA-TAO", "MA-BER"], errors_per_file=3)
    broken = settings().landing / "MA-ERR" / "2013" / "projets.xlsx"
    broken.parent.mkdir(parents=True)
    broken.write_text("rien d'utile ici\n")
    for path in list_new_files():
        ingest_file(path)

    sent = send_submission_reports()
    assert len(sent) == 3
    by_recipient = {tuple(rcpt): msg for rcpt, msg in smtp_server.messages}
    assert set(by_recipient) == {("das.tao@indh.local",), ("das.ber@indh.local",), ("das.err@indh.local",)}
    taounate = by_recipient[("das.tao@indh.local",)]
    assert taounate["Subject"].startswith("[INDH AGR] MA-TAO 2013")
    html = taounate.get_body(preferencelist=("html",)).get_content()
    assert "Taounate" in html and "تاونات" in html and "E_" in html
    attachments = [part.get_filename() for part in taounate.iter_attachments()]
    assert attachments == [p.split("/")[-1] for p in sent if "/MA-TAO/" in p]
    refused = by_recipient[("das.err@indh.local",)]
    assert "refusé" in refused["Subject"]

    # Delivered reports are not sent twice.
    assert send_submission_reports() == []
    assert len(smtp_server.messages) == 3
    with create_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.submission WHERE reported_at IS NULL")).scalar() == 0


def test_digest_goes_to_the_national_coordination(warehouse_url, iga_home, smtp_server):
    generate(settings().landing, provinces=["MA-CHE"])
    for path in list_new_files():
        ingest_file(path)
    send_digest()
    (rcpt, message), = smtp_server.messages
    assert rcpt == ["coordination.nationale@indh.local"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "1 provinces et préfectures sur 75" in html


def test_a_mail_that_cannot_be_sent_is_kept_for_the_next_run(warehouse_url, iga_home, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": free_port(),
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "iga@indh.local",
                  "timeout": 2, "retry_limit": 0},
    }))
    generate(settings().landing, provinces=["MA-CHE"])
    for path in list_new_files():
        ingest_file(path)
    with pytest.raises(Exception):
        send_submission_reports()
    with create_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.submission WHERE reported_at IS NULL")).scalar() == 1


def test_without_smtp_mails_land_in_the_outbox(warehouse_url, iga_home):
    generate(settings().landing, provinces=["MA-CHE"])
    for path in list_new_files():
        ingest_file(path)
    send_submission_reports()
    (eml,) = settings().outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "das.che@indh.local"
    assert [p.get_filename() for p in message.iter_attachments()] == ["submission-1.html"]
