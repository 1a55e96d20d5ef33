"""The findings of a submission as a workbook the clerk fixes the original file from.

One row per finding with the sheet, the Excel row and the column header of the original file, the
value read, the rule, its severity and the message in French and Arabic. The "Ligne Excel" cell links
to that row of the original workbook (when it sits next to this one, Excel follows the link) when
the file and sheet names are plain (:func:`etl.workbook.safe_link_target`). Written through
:func:`etl.workbook.write_workbook`: no live formula, no illegal character, linear in the findings.
"""
from __future__ import annotations

from pathlib import Path

from etl.workbook import Cell, Sheet, safe_link_target, write_workbook

SEVERITY_LABELS = {"error": ("erreur", "خطأ"), "warning": ("avertissement", "تنبيه"), "info": ("information", "معلومة")}
COLUMNS = (
    ("sheet", "Feuille / الورقة", 18),
    ("excel_row", "Ligne Excel / السطر", 12),
    ("column_header", "Colonne / العمود", 26),
    ("value", "Valeur / القيمة", 18),
    ("project_code", "Code projet / رمز المشروع", 18),
    ("rule_id", "Règle / القاعدة", 28),
    ("severity", "Gravité / الدرجة", 16),
    ("message_fr", "Message", 70),
    ("message_ar", "الرسالة", 70),
)
FILLS = {"error": "F8D7DA", "warning": "FFF3CD", "info": "E2E3E5"}


def _finding_rows(file_name: str, findings: list[dict]):
    for finding in findings:
        severity = finding["severity"]
        values: list[object] = [finding.get(key) for key, _, _ in COLUMNS]
        values = ["" if v is None else v for v in values]
        values[6] = Cell(" / ".join(SEVERITY_LABELS.get(severity, (severity, severity))),
                         fill=FILLS.get(severity, "FFFFFF"))
        values[8] = Cell(values[8], right_to_left=True)
        link = safe_link_target(file_name, finding.get("sheet"), finding.get("excel_row"))
        if link:
            values[1] = Cell(values[1], link=link)
        yield values


def write_findings_xlsx(path: Path, file_name: str, findings: list[dict], summary: dict | None = None) -> Path:
    """Write ``findings`` (dicts with the keys of :data:`COLUMNS`) to ``path``; returns it."""
    sheets = [Sheet("Anomalies", [[title for _, title, _ in COLUMNS]], _finding_rows(file_name, findings),
                    widths=[width for _, _, width in COLUMNS], auto_filter=True)]
    if summary:
        sheets.append(Sheet("Résumé", [], ([key, value] for key, value in summary.items()),
                            widths=[40, 50], freeze=False))
    return write_workbook(path, sheets)
