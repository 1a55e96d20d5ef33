"""Examine one provincial file without touching the warehouse: read, normalise, validate, decide.

This is what ``iga check`` shows a clerk before upload and what the ingest task then loads, so the
answer before and after upload is the same.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from etl import memory, reference
from etl.columnar import read_file_sheets
from etl.findings import Finding
from etl.normalise import REQUIRED_COLUMNS, ProjectSheet
from etl.periods import period_end
from etl.quality_checks import check_file
from etl.read import UnreadableFile
from etl.validate import validate_rows

LANGUAGES = ("fr", "ar")  # the order of Finding.messages()
ALL_ROWS_REFUSED = {
    "fr": "Aucune ligne n'a pu être chargée : toutes les lignes contiennent des erreurs.",
    "ar": "لم يتم تحميل أي سطر: جميع الأسطر تحتوي على أخطاء.",
}


@dataclass
class Examination:
    path: Path
    province_code: str | None
    period: str
    period_end: dt.date | None
    sheets: list[ProjectSheet] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    refused_reason: Finding | None = None
    rows: list[tuple[ProjectSheet, dict]] = field(default_factory=list)  # rows to load
    rejected: list[tuple[ProjectSheet, dict]] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets)

    @property
    def status(self) -> str:
        if self.refused_reason is not None or not self.rows:
            return "refused"
        return "partial" if self.rejected else "loaded"

    def reason_text(self, lang: str = "fr") -> str | None:
        """Why nothing of the file loads, in French or Arabic (``lang``); None when rows load."""
        if self.refused_reason is not None:
            return self.refused_reason.messages()[LANGUAGES.index(lang)]
        if not self.rows and self.rejected:
            return ALL_ROWS_REFUSED[lang]
        return None

    def refuse(self, rule_id: str, value: object = None, **params) -> "Examination":
        self.refused_reason = Finding(rule_id, value=value, params=params)
        self.findings.insert(0, self.refused_reason)
        return self


def examine(path: Path, province: str, period: str) -> Examination:
    """Everything the pipeline knows about one file before loading it."""
    memory.settle()
    province_code = reference.find_province(province)
    result = Examination(Path(path), province_code, period, period_end(period))
    if province_code is None:
        return result.refuse("FILE_PROVINCE_UNKNOWN", province)
    if result.period_end is None:
        return result.refuse("FILE_PERIOD_INVALID", period)
    try:
        sheets, sheet_findings = read_file_sheets(result.path, province_code, result.period_end.year)
    except UnreadableFile as exc:
        return result.refuse(exc.rule_id, detail=exc.detail_fr, detail_ar=exc.detail_ar, **exc.params)
    if not sheets:
        return result.refuse("FILE_NO_HEADER")
    for sheet in sheets:
        for column, (expected_fr, expected_ar) in REQUIRED_COLUMNS.items():
            if column not in sheet.headers:
                result.findings.append(Finding("FILE_MISSING_COLUMN", sheet.name, sheet.header_row,
                                               value=expected_fr,
                                               params={"expected_fr": expected_fr, "expected_ar": expected_ar}))
    if result.findings:
        result.refused_reason = result.findings[0]
        return result
    result.sheets = sheets
    if result.rows_read == 0:
        return result.refuse("FILE_NO_ROWS")
    result.findings.extend(sheet_findings)
    for sheet in sheets:
        result.findings.extend(sheet.findings)
    result.findings.extend(validate_rows(sheets, period))
    wrong = {(f.sheet, f.excel_row) for f in result.findings if f.severity == "error"}
    for sheet in sheets:
        for row in sheet.rows:
            (result.rejected if (sheet.name, row["excel_row"]) in wrong else result.rows).append((sheet, row))
    keep_refused_cells(result)
    result.findings.sort(key=lambda f: (f.sheet or "", f.excel_row or 0))
    return check_file(result)


def keep_refused_cells(result: Examination) -> None:
    """The cells of each refused row (what the warehouse keeps of it, and its report shows), taken
    from the column sheet it was read from, which is then let go: 100,000 rows of Arrow columns
    are not held through the load for the few rows an error refuses."""
    for sheet, row in result.rejected:
        if sheet.source is not None and row.get("cells") is None:
            row["cells"] = sheet.source.row(row["excel_row"] - 1)
    for sheet in result.sheets:
        sheet.source = None
