"""The quality DAG's work: a report per submission for its province, digests on a schedule.

- After each submission: an HTML report (French, and Arabic right-to-left) and an XLSX of its
  findings pointing at the original Excel rows, written to ``$IGA_HOME/reports/<province>/`` and
  mailed to the province's owners (HTML body, XLSX attached). ``iga check`` writes the same report.
- Weekly: each province's owners get a digest of its open errors and missing periods; the national
  coordination gets the completeness table for the current period of the reporting calendar
  (``reference/reporting_calendar.csv`` or ``IGA_REPORTING_CALENDAR``): who reported, on time or late.

A submission is marked reported only once its mail was delivered, so a mail that fails is retried
by the next run and never lost (see :mod:`etl.mail`).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from html import escape
from pathlib import Path

from sqlalchemy import text

from etl.config import SQL_DIR, settings
from etl.errors import IgaError
from etl.findings_xlsx import SEVERITY_LABELS, write_findings_xlsx
from etl.mail import NATIONAL, Mail, deliver, owners
from etl.periods import DuePeriod, current_period, missing_periods, reporting_calendar

log = logging.getLogger(__name__)

STATUS_LABELS = {
    "loaded": ("chargé", "محمل"),
    "partial": ("chargé en partie", "محمل جزئيا"),
    "refused": ("refusé", "مرفوض"),
    "duplicate": ("déjà reçu", "سبق استلامه"),
}
TIMELINESS_LABELS = {
    "on_time": ("à temps", "في الأجل"),
    "late": ("en retard", "متأخر"),
    "missing": ("non reçu, délai dépassé", "لم يصل، انتهى الأجل"),
    "expected": ("attendu", "منتظر"),
}
STYLE = """<style>body{font-family:"DejaVu Sans","Noto Sans","Noto Naskh Arabic",Arial,sans-serif;margin:1.5em;
color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:3px 8px;font-size:90%;
vertical-align:top}th{background:#eef}.error{color:#a00;font-weight:bold}.warning{color:#a60}.info{color:#555}
section[dir=rtl]{text-align:right}section[dir=rtl] table{direction:rtl}td[dir=rtl],th[dir=rtl]{text-align:right}
.figures td{text-align:right}summary{cursor:pointer;margin:.3em 0}.ok{color:#070}td[lang]{min-width:16em}.note{background:#ffd;padding:4px}</style>"""


def _query(name: str, **params):
    from etl.warehouse import engine

    with engine().connect() as conn:
        return conn.execute(text((SQL_DIR / "quality" / name).read_text()), params).mappings().all()


def _cell(value) -> str:
    return escape("" if value is None else str(value))


def rule_label(message: str) -> str:
    """The catalogue message with its placeholders elided: the heading of a group of findings.
    Optional parts (a suggestion, why a phase was assumed) are left out."""
    message = re.sub(r"\{(suggestion|note)_(fr|ar)\}", "", message)
    elided = re.sub(r"«\s*\{[a-z_]+\}\s*»|\(\{[a-z_]+\}\)|\{[a-z_]+\}", "…", message)
    return re.sub(r"…(\s*…)+", "…", elided).replace("….", "…")


def rule_heading(rule_id: str, lang: str) -> str:
    """The heading of a group of findings of one rule, in French or Arabic (``lang``): the rule's
    summary when its message names figures (a grouped "… DH" says nothing), else its message with
    the placeholders elided."""
    from etl import reference

    summary = reference.rule_summaries().get(rule_id)
    if summary:
        return summary[lang]
    rule = reference.rules()[rule_id]
    return rule_label(rule.message_ar if lang == "ar" else rule.message_fr)


FILE_LEVEL_RULES = ("FILE_", "SHEET_", "COLUMN_")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def is_file_level(rule_id: str, excel_row) -> bool:
    """A problem of the file or of a whole column (refusal, sheet, unmapped or guessed column)."""
    return rule_id.startswith(FILE_LEVEL_RULES) or not excel_row


def fix_order(rule_id: str, severity: str, sheet, excel_row) -> tuple:
    """What to fix first: file and column problems, then errors row by row, then warnings, then
    information, each in reading order (sheet, Excel row)."""
    file_level = is_file_level(rule_id, excel_row)
    return (0 if file_level else 1 + SEVERITY_ORDER.get(severity, 3), SEVERITY_ORDER.get(severity, 3) if file_level
            else 0, sheet or "", excel_row or 0)


def in_fix_order(findings: list[dict]) -> list[dict]:
    return sorted(findings, key=lambda f: fix_order(f["rule_id"], f["severity"], f["sheet"], f["excel_row"]))


def _groups(findings):
    """(rule, severity, count) per rule, errors first then by count."""
    counts = Counter((f["rule_id"], f["severity"]) for f in findings)
    return sorted(((rule, severity, count) for (rule, severity), count in counts.items()),
                  key=lambda g: (SEVERITY_ORDER.get(g[1], 3), -g[2], g[0]))


DETAIL_HEADER = """<tr><th>Feuille<br>الورقة</th><th>Ligne Excel<br>السطر</th><th>Colonne<br>العمود</th>
<th>Valeur<br>القيمة</th><th>Code projet<br>رمز المشروع</th><th>Règle<br>القاعدة</th><th>Gravité<br>الدرجة</th>
<th>Message</th><th dir="rtl">الرسالة</th></tr>"""


def _detail_rows(findings) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{_cell(f[k])}</td>" for k in ("sheet", "excel_row", "column_header", "value",
                                                              "project_code", "rule_id"))
        + f"<td class='{f['severity']}'>{' / '.join(SEVERITY_LABELS[f['severity']])}</td>"
        + f"<td lang='fr'>{escape(f['message_fr'])}</td><td dir='rtl' lang='ar'>{escape(f['message_ar'])}</td></tr>"
        for f in findings)


def _where(f) -> str:
    """« [sheet] « column » : » before a file-level message, so the clerk finds the cell."""
    parts = [f"[{f['sheet']}]" if f["sheet"] else "", f"« {f['column_header']} »" if f["column_header"] else ""]
    where = " ".join(p for p in parts if p)
    return f"{where} : " if where else ""


# Rows of one table of the HTML report (mail body and file): past it, the rest are counted and left to
# the findings workbook, which holds every one with a filter. 100,000 rows of HTML (30 MB) are no
# report a clerk reads, nor a mail a server takes.
HTML_ROWS_PER_TABLE = 1_000


def _detail_table(findings) -> str:
    rest = len(findings) - HTML_ROWS_PER_TABLE
    table = f"<table>{DETAIL_HEADER}{_detail_rows(findings[:HTML_ROWS_PER_TABLE])}</table>"
    if rest <= 0:
        return table
    return table + (f"<p class='more'>… et {rest} autre(s) : toutes sont dans le classeur des anomalies (XLSX). / "
                    f"<span dir='rtl' lang='ar'>… و{rest} أخرى: جميعها في مصنف الملاحظات (XLSX).</span></p>")


def fix_first_html(findings) -> str:
    """The findings in the order a clerk acts on them: file and column problems (with suggestions),
    errors row by row, then warnings summarised by rule with their rows folded, information folded."""
    ordered = in_fix_order(findings)
    file_level = [f for f in ordered if is_file_level(f["rule_id"], f["excel_row"])]
    rows = [f for f in ordered if not is_file_level(f["rule_id"], f["excel_row"])]
    errors = [f for f in rows if f["severity"] == "error"]
    warnings = [f for f in rows if f["severity"] == "warning"]
    infos = [f for f in rows if f["severity"] not in ("error", "warning")]
    parts = []
    if file_level:
        parts.append("<h2>1. À corriger d'abord : le fichier et ses colonnes / أولا: الملف وأعمدته</h2>"
                     + _detail_table(file_level))
    if errors:
        parts.append(f"<h2>2. Erreurs : {len(errors)} cellule(s), lignes non chargées / "
                     f"الأخطاء: {len(errors)}، أسطر غير محملة</h2>" + _detail_table(errors))
    if warnings:
        by_rule: dict[str, list[dict]] = {}
        for f in warnings:
            by_rule.setdefault(f["rule_id"], []).append(f)
        folded = "".join(
            f"<details><summary><b>{escape(rule)}</b> — {len(group)} — "
            f"{escape(rule_heading(rule, 'fr'))} / <span dir='rtl'>"
            f"{escape(rule_heading(rule, 'ar'))}</span></summary>{_detail_table(group)}</details>"
            for rule, group in sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0])))
        parts.append(f"<h2>3. Avertissements : {len(warnings)}, lignes chargées à vérifier, par règle / "
                     f"التنبيهات: {len(warnings)}، حسب القاعدة</h2>{folded}")
    if infos:
        parts.append(f"<h2>4. Pour information / للعلم</h2><details><summary>{len(infos)} information(s) / "
                     f"معلومة</summary>{_detail_table(infos)}</details>")
    return "\n".join(parts)


def submission_report_html(submission, findings) -> str:
    """The report of one submission (or of one ``iga check``), French then Arabic, then what to fix
    in the order to fix it."""
    label_fr, label_ar = STATUS_LABELS[submission["status"]]
    groups = _groups(findings)
    errors = sum(c for _, s, c in groups if s == "error")
    warnings = sum(c for _, s, c in groups if s == "warning")
    groups_fr = "".join(
        f"<tr><td>{escape(rule)}</td><td class='{sev}'>{SEVERITY_LABELS[sev][0]}</td><td>{count}</td>"
        f"<td>{escape(rule_heading(rule, 'fr'))}</td></tr>" for rule, sev, count in groups)
    groups_ar = "".join(
        f"<tr><td dir='ltr'>{escape(rule)}</td><td class='{sev}'>{SEVERITY_LABELS[sev][1]}</td><td>{count}</td>"
        f"<td>{escape(rule_heading(rule, 'ar'))}</td></tr>" for rule, sev, count in groups)
    reason = submission.get("reason")
    reason_fr = f"<p class='error'>Motif : {escape(reason)}</p>" if reason else ""
    # A submission recorded before reason_ar existed shows its French reason rather than none.
    reason_ar = (f"<p class='error'>السبب: {escape(submission.get('reason_ar') or reason)}</p>"
                 if reason else "")
    name_fr = escape(submission["province_name_fr"] or submission["province_code"])
    name_ar = escape(submission["province_name_ar"] or submission["province_code"])
    period, file_name = escape(submission["period"]), escape(submission["file_name"])
    verdict_fr = ("Aucune anomalie : merci." if not findings else
                  f"{errors} erreur(s) (lignes non chargées) et {warnings} avertissement(s) (lignes chargées, à vérifier).")
    verdict_ar = ("لا توجد أي ملاحظة: شكرا." if not findings else
                  f"{errors} خطأ (أسطر غير محملة) و{warnings} تنبيه (أسطر محملة، للتحقق).")
    no_findings = "<p class='ok'>Aucune anomalie / لا توجد أي ملاحظة</p>"
    first = [f for f in in_fix_order(findings) if is_file_level(f["rule_id"], f["excel_row"])]
    first_fr = ("<h2>À corriger d'abord</h2><ul>" + "".join(
        f"<li class='{f['severity']}'>{escape(_where(f))}{escape(f['message_fr'])}</li>" for f in first) + "</ul>"
        if first else "")
    first_ar = ("<h2>للتصحيح أولا</h2><ul>" + "".join(
        f"<li class='{f['severity']}'>{escape(_where(f))}{escape(f['message_ar'])}</li>" for f in first) + "</ul>"
        if first else "")
    check_fr = ("<p class='note'>Vérification avant dépôt (<code>iga check</code>) : rien n'a été chargé.</p>"
                if submission.get("check") else "")
    check_ar = ("<p class='note'>تحقق قبل الإيداع: لم يتم تحميل أي شيء.</p>" if submission.get("check") else "")
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Rapport qualité — {name_fr} — {period}</title>{STYLE}</head><body>
<section lang="fr" dir="ltr">
<h1>Rapport qualité — {name_fr} — {period}</h1>{check_fr}
<p>Fichier <b>{file_name}</b> (dépôt n° {submission['submission_id']}) : <b>{label_fr}</b>.</p>
<table class="figures"><tr><th>Lignes lues</th><th>Chargées</th><th>Refusées</th></tr>
<tr><td>{submission['rows_read']}</td><td>{submission['rows_loaded']}</td><td>{submission['rows_rejected']}</td></tr></table>
{reason_fr}<p>{verdict_fr}</p>{first_fr}
<h2>Anomalies par règle</h2>
{f'<table><tr><th>Règle</th><th>Gravité</th><th>Nombre</th><th>Description</th></tr>{groups_fr}</table>' if groups else no_findings}
</section>
<section lang="ar" dir="rtl">
<h1>تقرير الجودة — {name_ar} — {period}</h1>{check_ar}
<p>الملف <b dir="ltr">{file_name}</b> (الإيداع رقم {submission['submission_id']}): <b>{label_ar}</b>.</p>
<table class="figures"><tr><th>الأسطر المقروءة</th><th>المحملة</th><th>المرفوضة</th></tr>
<tr><td>{submission['rows_read']}</td><td>{submission['rows_loaded']}</td><td>{submission['rows_rejected']}</td></tr></table>
{reason_ar}<p>{verdict_ar}</p>{first_ar}
<h2>الملاحظات حسب القاعدة</h2>
{f'<table><tr><th>القاعدة</th><th>الدرجة</th><th>العدد</th><th>الوصف</th></tr>{groups_ar}</table>' if groups else no_findings}
</section>
<section>
{fix_first_html(findings)}
</section></body></html>"""


def write_report(folder: Path, stem: str, submission, findings) -> tuple[Path, Path]:
    """Write the HTML report and the XLSX of findings; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"{stem}.html"
    partial = html_path.with_name(html_path.name + ".part")
    # A value from a damaged file may hold a lone surrogate: escaped, never a failed report.
    partial.write_text(submission_report_html(submission, findings), encoding="utf-8", errors="backslashreplace")
    partial.replace(html_path)
    label_fr, label_ar = STATUS_LABELS[submission["status"]]
    summary = {
        "Fichier / الملف": submission["file_name"], "Province / الإقليم": submission["province_code"],
        "Période / الفترة": submission["period"], "Dépôt / الإيداع": str(submission["submission_id"]),
        "Statut / الحالة": f"{label_fr} / {label_ar}", "Lignes lues / الأسطر المقروءة": submission["rows_read"],
        "Chargées / المحملة": submission["rows_loaded"], "Refusées / المرفوضة": submission["rows_rejected"],
    }
    xlsx_path = write_findings_xlsx(folder / f"{stem}-anomalies.xlsx", submission["file_name"], findings, summary)
    return html_path, xlsx_path


def _recipients(registry: dict[str, list[str]], province_code: str) -> list[str]:
    return registry.get(province_code) or registry.get(NATIONAL, [])


class ReportsNotDelivered(IgaError):
    """Some reports or digests could not be built or mailed; the others were. Each is retried by
    the next run (or the task's next try): nothing is lost, nothing delivered is sent again."""


def report_folder(root: Path, province_code: object) -> Path:
    """``<root>/<province code>``: a code of the reference data, never a name from outside (a
    folder called ``completeness.html`` or ``..`` must not become a path)."""
    from etl import reference
    from etl.load import UNKNOWN_PROVINCE

    code = province_code if isinstance(province_code, str) and province_code in reference.provinces() else None
    return root / (code or UNKNOWN_PROVINCE)


def send_submission_reports() -> list[str]:
    """Write and mail the report of every submission not yet reported; returns the report paths.

    Each submission's report is built and sent on its own: one that fails (a name the mail
    library rejects, the mail server down) is recorded with its error (``report_error``) and
    retried by the next run, and the others still go. If any failed, :class:`ReportsNotDelivered`
    is raised once all were tried, so the task is retried and the operators told.
    """
    from etl.warehouse import engine

    current = settings()
    registry = owners()
    written, failed, first_error = [], [], None
    for submission in _query("pending_reports.sql"):
        submission_id = submission["submission_id"]
        try:
            written.append(str(send_submission_report(submission, registry, current)))
        except Exception as exc:  # noqa: BLE001 - this submission's report only: recorded, retried
            first_error = first_error or exc
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.error("report of submission %s not delivered: %s", submission_id, error)
            failed.append(f"{submission_id} ({error})")
            with engine().begin() as conn:
                conn.execute(text((SQL_DIR / "quality" / "report_failed.sql").read_text()),
                             {"submission_id": submission_id, "error": error})
            continue
        with engine().begin() as conn:
            conn.execute(text((SQL_DIR / "quality" / "report_delivered.sql").read_text()),
                         {"submission_id": submission_id})
    if failed:  # the first failure as the cause: what operators and the retry need to know
        raise ReportsNotDelivered(f"{len(failed)} report(s) not delivered, kept for the next run "
                                  f"({len(written)} delivered): " + "; ".join(failed)[:2000]) from first_error
    return written


def send_submission_report(submission, registry: dict[str, list[str]], current) -> Path:
    """Build one submission's report (HTML, XLSX) and mail it; returns the HTML report's path."""
    findings = _query("submission_findings.sql", submission_id=submission["submission_id"])
    html_path, xlsx_path = write_report(report_folder(current.reports, submission["province_code"]),
                                        f"submission-{submission['submission_id']}", submission, findings)
    label_fr, _ = STATUS_LABELS[submission["status"]]
    errors = sum(1 for f in findings if f["severity"] == "error")
    deliver(Mail(_recipients(registry, submission["province_code"]),
                 f"[INDH AGR] {submission['province_code']} {submission['period']} : "
                 f"{submission['file_name']} {label_fr}, {errors} erreur(s)",
                 html_path.read_text(encoding="utf-8"), [xlsx_path] if findings else []))
    return html_path


# --- the reporting calendar and the digests ---------------------------------------------------

def timeliness(row, due: DuePeriod, today: dt.date) -> str:
    if row["first_received"] is not None:
        return "on_time" if row["first_received"] <= due.deadline else "late"
    return "missing" if today > due.deadline else "expected"


def shared_codes_html(shared) -> str:
    """For the national coordination only: project codes several provinces report, and which ones.
    (A province's own report says "another province" without naming it.)"""
    if not shared:
        return ""
    body = "".join(
        f"<tr><td>{escape(row['project_code'])}</td><td>"
        + ", ".join(f"{escape(name)} ({escape(code)})" for code, name in zip(row["province_codes"], row["names_fr"]))
        + "</td><td dir='rtl'>" + "، ".join(escape(name) for name in row["names_ar"]) + "</td></tr>"
        for row in shared)
    return f"""<section><h2>Codes projet déclarés par plusieurs provinces / رموز مشاريع صرحت بها عدة أقاليم</h2>
<table><tr><th>Code projet<br>رمز المشروع</th><th>Provinces</th><th dir="rtl">الأقاليم</th></tr>{body}</table></section>"""


def completeness_html(rows, due: DuePeriod, today: dt.date, shared=()) -> str:
    """The national table: for the current period, who reported, on time or late, open errors;
    then the project codes several provinces report (:func:`shared_codes_html`)."""
    states = Counter(timeliness(r, due, today) for r in rows)
    reported = states["on_time"] + states["late"]
    body = "".join(
        f"<tr><td>{escape(r['region_name_fr'])}</td><td>{r['province_code']}</td><td>{escape(r['name_fr'])}</td>"
        f"<td dir='rtl'>{escape(r['name_ar'])}</td>"
        f"<td class='{'ok' if state == 'on_time' else 'error' if state in ('late', 'missing') else 'info'}'>"
        f"{' / '.join(TIMELINESS_LABELS[state])}</td>"
        f"<td>{r['first_received'] or '—'}</td><td>{escape(r['latest_period'] or '—')}</td>"
        f"<td>{' / '.join(STATUS_LABELS[r['latest_status']]) if r['latest_status'] else '—'}</td>"
        f"<td>{r['open_errors'] or 0}</td></tr>"
        for r in rows for state in [timeliness(r, due, today)])
    deadline = due.deadline.strftime("%d/%m/%Y")
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Complétude des remontées AGR — {escape(due.period)}</title>{STYLE}</head><body>
<section lang="fr"><h1>Complétude des remontées AGR — période {escape(due.period)}</h1>
<p>Au {today.strftime('%d/%m/%Y')}, {reported} provinces et préfectures sur {len(rows)} ont envoyé leurs projets
pour la période {escape(due.period)} (échéance {deadline}) : {states['on_time']} à temps, {states['late']} en retard ;
{states['missing']} n'ont rien envoyé après l'échéance, {states['expected']} sont attendues.
Erreurs restant à corriger : {sum(r['open_errors'] or 0 for r in rows)}.</p></section>
<section lang="ar" dir="rtl"><h1>اكتمال إرسال مشاريع الأنشطة المدرة للدخل — الفترة {escape(due.period)}</h1>
<p>إلى غاية {today.strftime('%d/%m/%Y')}، أرسلت {reported} من أصل {len(rows)} عمالة وإقليما مشاريعها للفترة
{escape(due.period)} (آخر أجل {deadline}): {states['on_time']} في الأجل و{states['late']} متأخرة؛
{states['missing']} لم ترسل شيئا بعد انتهاء الأجل و{states['expected']} منتظرة.
الأخطاء المتبقية: {sum(r['open_errors'] or 0 for r in rows)}.</p></section>
<table><tr><th>Région</th><th>Code</th><th>Province</th><th dir="rtl">الإقليم</th>
<th>Période {escape(due.period)}<br>الفترة</th><th>Reçu le<br>تاريخ الاستلام</th><th>Dernière période reçue<br>آخر فترة</th>
<th>Dernier envoi<br>آخر إيداع</th><th>Erreurs ouvertes<br>أخطاء مفتوحة</th></tr>{body}</table>
{shared_codes_html(shared)}</body></html>"""


def completeness_rows(due: DuePeriod):
    return _query("completeness.sql", period=due.period)


def send_digest(today: dt.date | None = None) -> str:
    """The completeness table for the national coordination; returns the report path."""
    today = today or dt.date.today()
    due = current_period(reporting_calendar(), today)
    html = completeness_html(completeness_rows(due), due, today, _query("codes_shared.sql"))
    current = settings()
    current.reports.mkdir(parents=True, exist_ok=True)
    path = current.reports / "completeness.html"
    path.write_text(html, encoding="utf-8")
    deliver(Mail(owners().get(NATIONAL, []),
                 f"[INDH AGR] Complétude des remontées, période {due.period}, au {today.isoformat()}", html, [path]))
    return str(path)


def province_digest_html(province, due: DuePeriod, state: str, missing: list[DuePeriod], errors) -> str:
    missing_text = ", ".join(escape(p.period) for p in missing) or "—"
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(f[k])}</td>" for k in ("period", "file_name", "sheet", "excel_row",
                                                              "column_header", "value", "project_code"))
        + f"<td lang='fr'>{escape(f['message_fr'])}</td><td dir='rtl' lang='ar'>{escape(f['message_ar'])}</td></tr>"
        for f in errors)
    table = (f"""<table><tr><th>Période<br>الفترة</th><th>Fichier<br>الملف</th><th>Feuille<br>الورقة</th>
<th>Ligne Excel<br>السطر</th><th>Colonne<br>العمود</th><th>Valeur<br>القيمة</th><th>Code projet<br>رمز المشروع</th>
<th>Message</th><th dir="rtl">الرسالة</th></tr>{rows}</table>""" if errors
             else "<p class='ok'>Aucune erreur ouverte / لا توجد أخطاء مفتوحة</p>")
    state_fr, state_ar = TIMELINESS_LABELS[state]
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Point hebdomadaire AGR — {escape(province['name_fr'])}</title>{STYLE}</head><body>
<section lang="fr"><h1>Point hebdomadaire AGR — {escape(province['name_fr'])}</h1>
<p>Période en cours : <b>{escape(due.period)}</b> (échéance {due.deadline.strftime('%d/%m/%Y')}) : {state_fr}.</p>
<p>Périodes manquantes : {missing_text}.</p><p>Erreurs ouvertes (lignes non chargées) : {len(errors)}.</p></section>
<section lang="ar" dir="rtl"><h1>الحصيلة الأسبوعية للأنشطة المدرة للدخل — {escape(province['name_ar'])}</h1>
<p>الفترة الحالية: <b>{escape(due.period)}</b> (آخر أجل {due.deadline.strftime('%d/%m/%Y')}): {state_ar}.</p>
<p>الفترات الناقصة: {missing_text}.</p><p>الأخطاء المفتوحة (أسطر غير محملة): {len(errors)}.</p></section>
{table}</body></html>"""


def send_province_digests(today: dt.date | None = None) -> list[str]:
    """Each province's owners get its open errors and missing periods; returns the digest paths."""
    from etl import reference

    today = today or dt.date.today()
    calendar = reporting_calendar()
    due = current_period(calendar, today)
    registry = owners()
    by_province = {r["province_code"]: r for r in completeness_rows(due)}
    received: dict[str, set[str]] = {}
    for row in _query("received_periods.sql"):
        received.setdefault(row["province_code"], set()).add(row["period"])
    errors: dict[str, list] = {}
    for row in _query("open_errors.sql"):
        errors.setdefault(row["province_code"], []).append(row)
    folder = settings().reports / "digest" / today.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written, failed, first_error = [], [], None
    for code, province in sorted(reference.provinces().items()):
        try:  # one province's digest never holds back the others
            path = folder / f"{code}.html"
            state = timeliness(by_province[code], due, today)
            missing = missing_periods(calendar, received.get(code, set()), today)
            open_errors = errors.get(code, [])
            path.write_text(province_digest_html(province, due, state, missing, open_errors), encoding="utf-8")
            attachments = []
            if open_errors:
                attachments.append(write_findings_xlsx(
                    folder / f"{code}-erreurs-ouvertes.xlsx", open_errors[0]["file_name"],
                    [dict(e, severity="error") for e in open_errors]))
            deliver(Mail(_recipients(registry, code),
                         f"[INDH AGR] {code} point hebdomadaire : {len(open_errors)} erreur(s) ouverte(s), "
                         f"{len(missing)} période(s) manquante(s)", path.read_text(encoding="utf-8"), attachments))
        except Exception as exc:  # noqa: BLE001 - recorded, raised once every province was tried
            first_error = first_error or exc
            log.error("digest of %s not delivered: %s: %s", code, type(exc).__name__, exc)
            failed.append(f"{code} ({type(exc).__name__}: {exc})")
            continue
        written.append(str(path))
    if failed:
        raise ReportsNotDelivered(f"{len(failed)} province digest(s) not delivered ({len(written)} delivered): "
                                  + "; ".join(failed)[:2000]) from first_error
    return written


def finding_dicts(findings) -> list[dict]:
    """Findings of an examination in the shape the reports read from the warehouse."""
    rows = []
    for f in findings:
        message_fr, message_ar = f.messages()
        rows.append({"sheet": f.sheet, "excel_row": f.excel_row, "column_header": f.column_header,
                     "value": None if f.value is None else str(f.value), "project_code": f.project_code,
                     "rule_id": f.rule_id, "severity": f.severity, "message_fr": message_fr,
                     "message_ar": message_ar})
    return rows


def check_submission(exam) -> dict:
    """The submission record ``iga check`` reports on (nothing loaded)."""
    from etl import reference
    from etl.names import safe_name

    province = reference.provinces().get(exam.province_code or "", {})
    return {
        "submission_id": "—", "check": True, "province_code": exam.province_code or "?",
        "province_name_fr": province.get("name_fr"), "province_name_ar": province.get("name_ar"),
        "period": exam.period, "file_name": safe_name(exam.path.name), "status": exam.status,
        "rows_read": exam.rows_read, "rows_loaded": len(exam.rows), "rows_rejected": len(exam.rejected),
        "reason": exam.reason_text(), "reason_ar": exam.reason_text("ar"),
    }


def check_report_html(exam) -> str:
    """The same report ``iga check`` gives before upload, from an examination (nothing loaded)."""
    return submission_report_html(check_submission(exam), finding_dicts(exam.findings))


def write_check_report(exam, folder: Path) -> tuple[Path, Path]:
    # Named after the file, made safe: any bytes or length in, a short plain name out.
    stem = re.sub(r"[^\w.\-]+", "_", exam.path.stem)[:80].strip("._") or "fichier"
    return write_report(folder, stem, check_submission(exam), finding_dicts(exam.findings))
