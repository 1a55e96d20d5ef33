"""The quality DAG's work: a report per submission for its province, and the national digest.

Reports are HTML in French and Arabic (right-to-left), written to ``$IGA_HOME/reports`` and mailed
(see :mod:`etl.mail`). A submission is marked reported only once its mail was delivered, so a mail
that fails is retried by the next run and never lost.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from html import escape

from sqlalchemy import text

from etl.config import SQL_DIR, settings
from etl.mail import NATIONAL, Mail, deliver, owners
from etl.warehouse import engine

STATUS_LABELS = {
    "loaded": ("chargé", "محمل"),
    "partial": ("chargé en partie", "محمل جزئيا"),
    "refused": ("refusé", "مرفوض"),
    "duplicate": ("déjà reçu", "سبق استلامه"),
}
STYLE = """<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #bbb;padding:3px 8px;font-size:90%}th{background:#eef}.error{color:#a00}
.warning{color:#a60}.info{color:#555}[dir=rtl]{text-align:right}</style>"""


def _query(name: str, **params):
    with engine().connect() as conn:
        return conn.execute(text((SQL_DIR / "quality" / name).read_text()), params).mappings().all()


def submission_report_html(submission, findings) -> str:
    label_fr, label_ar = STATUS_LABELS[submission["status"]]
    by_rule = Counter((f["rule_id"], f["severity"], f["message_fr"].split(" :")[0]) for f in findings)
    summary_rows = "".join(
        f"<tr><td>{escape(rule)}</td><td class='{sev}'>{sev}</td><td>{count}</td></tr>"
        for (rule, sev, _), count in sorted(by_rule.items()))
    finding_rows = "".join(
        "<tr>" + "".join(f"<td>{escape('' if f[k] is None else str(f[k]))}</td>"
                         for k in ("sheet", "excel_row", "column_header", "value", "project_code"))
        + f"<td class='{f['severity']}'>{f['severity']}</td><td>{escape(f['message_fr'])}</td>"
        + f"<td dir='rtl'>{escape(f['message_ar'])}</td></tr>"
        for f in findings)
    reason = (f"<p class='error'>{escape(submission['reason'])}</p>" if submission["reason"] else "")
    name = escape(submission["province_name_fr"] or submission["province_code"])
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Rapport qualité — {name} — {escape(submission['period'])}</title>{STYLE}</head><body>
<h1>Rapport qualité — {name} — {escape(submission['period'])}</h1>
<p>Fichier <b>{escape(submission['file_name'])}</b> (dépôt n° {submission['submission_id']}) :
<b>{label_fr}</b>. Lignes lues : {submission['rows_read']}, chargées : {submission['rows_loaded']},
refusées : {submission['rows_rejected']}.</p>{reason}
<div dir="rtl" lang="ar"><h2>تقرير الجودة — {escape(submission['province_name_ar'] or '')} — {escape(submission['period'])}</h2>
<p>الملف <b>{escape(submission['file_name'])}</b> (الإيداع رقم {submission['submission_id']}):
<b>{label_ar}</b>. الأسطر المقروءة: {submission['rows_read']}، المحملة: {submission['rows_loaded']}،
المرفوضة: {submission['rows_rejected']}.</p></div>
<h2>Anomalies par règle / الملاحظات حسب القاعدة</h2>
<table><tr><th>Règle</th><th>Gravité</th><th>Nombre</th></tr>{summary_rows}</table>
<h2>Détail / التفاصيل</h2>
<table><tr><th>Feuille</th><th>Ligne Excel</th><th>Colonne</th><th>Valeur</th><th>Code projet</th>
<th>Gravité</th><th>Message</th><th dir="rtl">الرسالة</th></tr>{finding_rows}</table>
</body></html>"""


def send_submission_reports() -> list[str]:
    """Write and mail the report of every submission not yet reported; returns the report paths."""
    current = settings()
    registry = owners()
    written = []
    for submission in _query("pending_reports.sql"):
        findings = _query("submission_findings.sql", submission_id=submission["submission_id"])
        html = submission_report_html(submission, findings)
        folder = current.reports / submission["province_code"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"submission-{submission['submission_id']}.html"
        path.write_text(html, encoding="utf-8")
        recipients = registry.get(submission["province_code"]) or registry.get(NATIONAL, [])
        label_fr, _ = STATUS_LABELS[submission["status"]]
        deliver(Mail(recipients, f"[INDH AGR] {submission['province_code']} {submission['period']} : "
                                 f"{submission['file_name']} {label_fr}", html, [path]))
        with engine().begin() as conn:
            conn.execute(text("UPDATE core.submission SET reported_at = now() WHERE submission_id = :id"),
                         {"id": submission["submission_id"]})
        written.append(str(path))
    return written


def completeness_html(rows) -> str:
    reported = sum(1 for r in rows if r["period"])
    body = "".join(
        f"<tr><td>{escape(r['region_name_fr'])}</td><td>{r['province_code']}</td><td>{escape(r['name_fr'])}</td>"
        f"<td dir='rtl'>{escape(r['name_ar'])}</td><td>{escape(r['period'] or '—')}</td>"
        f"<td>{STATUS_LABELS[r['status']][0] if r['status'] else 'aucun envoi / لا إيداع'}</td>"
        f"<td>{r['open_errors'] or 0}</td></tr>"
        for r in rows)
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Complétude des remontées AGR</title>{STYLE}</head><body>
<h1>Complétude des remontées AGR — {dt.date.today().isoformat()}</h1>
<p>{reported} provinces et préfectures sur {len(rows)} ont envoyé leurs projets.</p>
<p dir="rtl">{reported} من أصل {len(rows)} عمالة وإقليما أرسلت مشاريعها.</p>
<table><tr><th>Région</th><th>Code</th><th>Province</th><th dir="rtl">الإقليم</th><th>Dernière période</th>
<th>Dernier envoi</th><th>Erreurs ouvertes</th></tr>{body}</table></body></html>"""


def send_digest() -> str:
    """The completeness table for the national coordination; returns the report path."""
    rows = _query("completeness.sql")
    html = completeness_html(rows)
    current = settings()
    current.reports.mkdir(parents=True, exist_ok=True)
    path = current.reports / "completeness.html"
    path.write_text(html, encoding="utf-8")
    deliver(Mail(owners().get(NATIONAL, []), f"[INDH AGR] Complétude des remontées {dt.date.today()}", html, [path]))
    return str(path)


def check_report_html(exam) -> str:
    """The same report ``iga check`` gives before upload, from an examination (nothing loaded)."""
    from etl import reference

    province = reference.provinces().get(exam.province_code or "", {})
    submission = {
        "submission_id": "— (vérification / تحقق)", "province_code": exam.province_code or "?",
        "province_name_fr": province.get("name_fr"), "province_name_ar": province.get("name_ar"),
        "period": exam.period, "file_name": exam.path.name, "status": exam.status,
        "rows_read": exam.rows_read, "rows_loaded": len(exam.rows), "rows_rejected": len(exam.rejected),
        "reason": exam.reason_text(),
    }
    findings = []
    for f in exam.findings:
        message_fr, message_ar = f.messages()
        findings.append({"sheet": f.sheet, "excel_row": f.excel_row, "column_header": f.column_header,
                         "value": f.value, "project_code": f.project_code, "rule_id": f.rule_id,
                         "severity": f.severity, "message_fr": message_fr, "message_ar": message_ar})
    return submission_report_html(submission, findings)
