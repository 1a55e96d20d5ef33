"""Quality mails through Airflow's SMTP provider to a real SMTP server on loopback (aiosmtpd)."""
import datetime as dt
import email
import io
import json
from email import policy

import pytest
from sqlalchemy import create_engine, text

from etl.config import settings
from etl.ingest import ingest_file, list_new_files
from etl.reports import send_digest, send_province_digests, send_submission_reports
from etl.sample import generate

pytestmark = pytest.mark.integration


def xlsx_rows(payload: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(payload))["Anomalies"]
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2)]


def test_reports_reach_the_province_owners_with_the_findings_attached(warehouse_url, iga_home, smtp_server):
    expected = generate(settings().landing, provinces=["MA-TAO", "MA-BER"], errors_per_file=3)
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
    assert taounate["To"] == "das.tao@indh.local"
    assert taounate["Subject"].startswith("[INDH AGR] MA-TAO 2013 : situation_agr_tao_2013.xlsx chargé en partie")
    assert taounate["Subject"].endswith("3 erreur(s)")
    html = taounate.get_body(preferencelist=("html",)).get_content()
    assert "Taounate" in html and "تاونات" in html and 'dir="rtl"' in html
    assert "E_INDH_ABOVE_TOTAL" in html and "E_AMOUNT_NEGATIVE" in html
    (attachment,) = taounate.iter_attachments()
    assert attachment.get_filename().endswith("-anomalies.xlsx")
    rows = xlsx_rows(attachment.get_content())
    tao_file = next(f for f in expected.files if "MA-TAO" in str(f))
    error_rows = sorted({row[1] for row in rows if row[5].startswith("E_")})
    assert error_rows == sorted(expected.wrong_rows[str(tao_file)])
    assert all(row[7] and row[8] for row in rows)  # a French and an Arabic message on every finding

    refused = by_recipient[("das.err@indh.local",)]
    assert "refusé" in refused["Subject"]
    (attachment,) = refused.iter_attachments()
    ((*_, rule_id, severity, message_fr, message_ar),) = xlsx_rows(attachment.get_content())
    assert rule_id.startswith("FILE_") and severity.startswith("erreur") and message_fr and message_ar

    # Delivered reports are not sent twice.
    assert send_submission_reports() == []
    assert len(smtp_server.messages) == 3
    with create_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.submission WHERE reported_at IS NULL")).scalar() == 0


def test_a_clean_submission_gets_a_report_without_attachment(warehouse_url, iga_home, smtp_server):
    generate(settings().landing, provinces=["MA-BER"], errors_per_file=0, unseen_variants=False)
    for path in list_new_files():
        ingest_file(path)
    send_submission_reports()
    ((rcpt, message),) = smtp_server.messages
    assert rcpt == ["das.ber@indh.local"]
    assert message["Subject"] == "[INDH AGR] MA-BER 2013 : situation_agr_ber_2013.xlsx chargé, 0 erreur(s)"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Aucune anomalie" in html and "لا توجد أي ملاحظة" in html
    assert list(message.iter_attachments()) == []


def test_owners_can_be_overridden_per_deployment(warehouse_url, iga_home, smtp_server, tmp_path, monkeypatch):
    registry = tmp_path / "owners.csv"
    registry.write_text("province_code,email\nMA-BER,a@ber.ma\nMA-BER,b@ber.ma\nNATIONAL,cn@indh.ma\n")
    monkeypatch.setenv("IGA_OWNERS_FILE", str(registry))
    generate(settings().landing, provinces=["MA-BER", "MA-TAO"], errors_per_file=0)
    for path in list_new_files():
        ingest_file(path)
    send_submission_reports()
    # A province without owners in the registry falls back to the national coordination.
    assert sorted(sorted(rcpt) for rcpt, _ in smtp_server.messages) == [["a@ber.ma", "b@ber.ma"], ["cn@indh.ma"]]


def calendar(tmp_path, monkeypatch, *rows):
    path = tmp_path / "calendar.csv"
    path.write_text("period,deadline\n" + "".join(f"{p},{d}\n" for p, d in rows))
    monkeypatch.setenv("IGA_REPORTING_CALENDAR", str(path))


def test_digest_goes_to_the_national_coordination(warehouse_url, iga_home, smtp_server, tmp_path, monkeypatch):
    today = dt.date.today()
    calendar(tmp_path, monkeypatch, ("2012", today - dt.timedelta(days=300)), ("2013", today + dt.timedelta(days=30)))
    generate(settings().landing, provinces=["MA-CHE"], errors_per_file=2)
    for path in list_new_files():
        ingest_file(path)
    send_digest(today)
    (rcpt, message), = smtp_server.messages
    assert rcpt == ["coordination.nationale@indh.local"]
    assert message["Subject"].startswith("[INDH AGR] Complétude des remontées, période 2013")
    html = " ".join(message.get_body(preferencelist=("html",)).get_content().split())
    assert "1 provinces et préfectures sur 75 ont envoyé leurs projets" in html
    assert "1 à temps, 0 en retard" in html and "Erreurs restant à corriger : 2." in html
    assert "أرسلت 1 من أصل 75" in html
    # The same period, deadline passed before the file came: late.
    calendar(tmp_path, monkeypatch, ("2013", today - dt.timedelta(days=1)))
    send_digest(today)
    html = " ".join(smtp_server.messages[-1][1].get_body(preferencelist=("html",)).get_content().split())
    assert "0 à temps, 1 en retard ; 74 n'ont rien envoyé après l'échéance" in html


def test_each_province_gets_its_open_errors_and_missing_periods(warehouse_url, iga_home, smtp_server, tmp_path,
                                                                  monkeypatch):
    today = dt.date.today()
    calendar(tmp_path, monkeypatch, ("2012", today - dt.timedelta(days=400)), ("2013", today - dt.timedelta(days=30)),
             ("2014", today + dt.timedelta(days=30)))
    expected = generate(settings().landing, provinces=["MA-CHE"], errors_per_file=2)
    for path in list_new_files():
        ingest_file(path)
    written = send_province_digests(today)
    assert len(written) == len(smtp_server.messages) == 75
    by_recipient = {tuple(rcpt): msg for rcpt, msg in smtp_server.messages}
    chefchaouen = by_recipient[("das.che@indh.local",)]
    assert chefchaouen["Subject"] == ("[INDH AGR] MA-CHE point hebdomadaire : 2 erreur(s) ouverte(s), "
                                      "1 période(s) manquante(s)")
    html = chefchaouen.get_body(preferencelist=("html",)).get_content()
    assert "Périodes manquantes : 2012." in html and "الفترات الناقصة: 2012." in html
    (attachment,) = chefchaouen.iter_attachments()
    assert sorted(row[1] for row in xlsx_rows(attachment.get_content())) == expected.wrong_rows[str(expected.files[0])]
    berkane = by_recipient[("das.ber@indh.local",)]
    assert berkane["Subject"].endswith("0 erreur(s) ouverte(s), 2 période(s) manquante(s)")
    assert list(berkane.iter_attachments()) == []


def test_a_mail_that_cannot_be_sent_is_kept_for_the_next_run(warehouse_url, iga_home, monkeypatch, closed_port):
    monkeypatch.setenv("AIRFLOW_CONN_IGA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": closed_port,
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
    assert [p.get_filename() for p in message.iter_attachments()] == ["submission-1-anomalies.xlsx"]
    assert "Chefchaouen" in message.get_body(preferencelist=("html",)).get_content()
