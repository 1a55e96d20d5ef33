"""Tell the operators when a task fails: a task-level notifier for every DAG.

Task-level, not DAG-level: a DAG-level ``on_failure_callback`` runs in the DAG processor and crashes
under ``dag.test()``; a task's runs in the task's own process, with the task's environment (the
SMTP connection, the outbox). The mail goes through :func:`etl.mail.deliver` like every other mail:
SMTP when ``AIRFLOW_CONN_IGA_SMTP`` (or ``IGA_SMTP_CONN_ID``) is set, else the outbox.

Recipients: ``IGA_OPERATOR_EMAILS`` (comma-separated), else the ``NATIONAL`` entries of the owners
file. Light to import: DAG files import it while parsing.
"""
from __future__ import annotations

import datetime as dt
import html

from airflow.sdk import BaseNotifier

from etl.config import settings


def operator_addresses() -> list[str]:
    addresses = list(settings().operator_emails)
    if addresses:
        return addresses
    from etl.mail import NATIONAL, owners

    return owners().get(NATIONAL, [])


class TaskFailureMail(BaseNotifier):
    """Mails the operators which task failed, on which file, after how many tries, and how to retry."""

    def notify(self, context) -> None:
        from etl.failures import describe
        from etl.mail import Mail, deliver

        ti = context["ti"]
        dag_id, task_id, run_id = ti.dag_id, ti.task_id, ti.run_id
        map_index = getattr(ti, "map_index", -1)
        rendered = (getattr(ti, "rendered_map_index", None) or context.get("landing_file")
                    or (str(map_index) if map_index is not None and map_index >= 0 else ""))
        label = f"{dag_id}.{task_id}" + (f" [{rendered}]" if rendered else "")
        error = context.get("exception")
        # The type, the file and the row, never a cell's value (etl/failures.py).
        error_text = describe(error) if error is not None else "(no exception recorded)"
        tries = getattr(ti, "try_number", None)
        log_url = getattr(ti, "log_url", None) or ""
        rows = [
            ("DAG", dag_id), ("Tâche / المهمة", task_id), ("Fichier / الملف", rendered or "—"),
            ("Exécution / التشغيل", run_id), ("Essais / المحاولات", tries), ("Erreur / الخطأ", error_text),
        ]
        table = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in rows)
        link = f"<p><a href='{html.escape(log_url)}'>Journal / السجل</a></p>" if log_url else ""
        body = (
            "<html><body>"
            f"<p>La tâche <b>{html.escape(label)}</b> a échoué après ses nouvelles tentatives. "
            "Corrigez la cause puis relancez-la : dans l'interface Airflow, <i>Clear</i> sur la tâche "
            "(elle est idempotente : rien ne sera chargé deux fois).</p>"
            f"<p dir='rtl'>فشلت المهمة <b>{html.escape(label)}</b> بعد إعادة المحاولات. "
            "صححوا السبب ثم أعيدوا تشغيلها من واجهة Airflow (Clear)؛ لن يُحمَّل أي شيء مرتين.</p>"
            f"<table border='1' cellpadding='4'>{table}</table>{link}</body></html>"
        )
        to = operator_addresses()
        if not to:
            self.log.warning("No operator address (IGA_OPERATOR_EMAILS or NATIONAL owners): failure of %s not mailed",
                             label)
            return
        deliver(Mail(to=to, subject=f"[IGA] Échec / فشل : {label}", html=body))


def task_defaults(*, retries: int = 2, retry_delay: dt.timedelta = dt.timedelta(seconds=30)) -> dict:
    """The ``default_args`` of every DAG: each task retries with exponential backoff, then mails the
    operators (:class:`TaskFailureMail`) which task failed."""
    return {
        "retries": retries, "retry_delay": retry_delay, "retry_exponential_backoff": True,
        "max_retry_delay": dt.timedelta(minutes=10),
        "on_failure_callback": [TaskFailureMail()],
    }
