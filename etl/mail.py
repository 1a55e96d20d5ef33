"""Deliver mails: through Airflow's SMTP connection when one is configured, else to the outbox.

The outbox (``$IGA_HOME/outbox/*.eml``) is the embedded default: every mail the pipeline would send
is written there as a standard .eml file that any mail client opens.
"""
from __future__ import annotations

import csv
import datetime as dt
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from etl.config import settings

NATIONAL = "NATIONAL"


@dataclass
class Mail:
    to: list[str]
    subject: str
    html: str
    attachments: list[Path] = field(default_factory=list)


def owners() -> dict[str, list[str]]:
    """Province code (or NATIONAL) -> addresses; ``IGA_OWNERS_FILE`` overrides the versioned file."""
    registry: dict[str, list[str]] = {}
    with open(settings().owners_file, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            registry.setdefault(row["province_code"].strip(), []).append(row["email"].strip())
    return registry


def build_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="iga-pipeline.local")
    message.set_content("Ce message est au format HTML. / هذه الرسالة بصيغة HTML.")
    message.add_alternative(mail.html, subtype="html")
    for path in mail.attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def deliver(mail: Mail) -> str:
    """Send or file one mail; returns where it went. Raises if it could not be delivered."""
    current = settings()
    if current.smtp_conn_id:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=current.smtp_conn_id) as hook:
            hook.send_email_smtp(to=mail.to, subject=mail.subject, html_content=mail.html,
                                 from_email=current.mail_from,
                                 files=[str(p) for p in mail.attachments] or None)
        return f"smtp:{','.join(mail.to)}"
    current.outbox.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", mail.subject)[:60].strip("-")
    path = current.outbox / f"{stamp}-{slug}.eml"
    partial = path.with_suffix(".part")
    partial.write_bytes(build_message(mail, current.mail_from).as_bytes())
    partial.replace(path)
    return str(path)
