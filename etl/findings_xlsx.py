"""The findings of a submission as a workbook the clerk fixes the original file from.

One row per finding with the sheet, the Excel row and the column header of the original file, the
value read, the rule, its severity and the message in French and Arabic. The "Ligne Excel" cell links
to that row of the original workbook (when it sits next to this one, Excel follows the link).
"""
from __future__ import annotations

from pathlib import Path

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


def write_findings_xlsx(path: Path, file_name: str, findings: list[dict], summary: dict | None = None) -> Path:
    """Write ``findings`` (dicts with the keys of :data:`COLUMNS`) to ``path``; returns it."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Anomalies"
    sheet.append([title for _, title, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    for finding in findings:
        severity = finding["severity"]
        values = [finding.get(key) for key, _, _ in COLUMNS]
        values[6] = " / ".join(SEVERITY_LABELS.get(severity, (severity, severity)))
        sheet.append(["" if v is None else v for v in values])
        row = sheet.max_row
        fill = PatternFill("solid", fgColor=FILLS.get(severity, "FFFFFF"))
        sheet.cell(row, 7).fill = fill
        sheet.cell(row, 9).alignment = Alignment(horizontal="right", readingOrder=2)  # right-to-left
        if finding.get("sheet") and finding.get("excel_row"):
            target = f"{file_name}#'{finding['sheet']}'!A{finding['excel_row']}"
            sheet.cell(row, 2).hyperlink = target
            sheet.cell(row, 2).font = Font(color="0563C1", underline="single")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    if summary:
        info = book.create_sheet("Résumé")
        for key, value in summary.items():
            info.append([key, value])
        info.column_dimensions["A"].width = 40
        info.column_dimensions["B"].width = 50
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    book.save(partial)
    partial.replace(path)
    return path
