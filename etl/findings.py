"""A finding: one rule broken at one place of a provincial file, with its French and Arabic message.

Every stage reports in findings (reading, normalising, validating, the file-level and warehouse
checks); the rule ids and their messages live in ``reference/rules.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from etl import reference


@dataclass
class Finding:
    rule_id: str
    sheet: str | None = None
    excel_row: int | None = None
    column_header: str | None = None
    value: object = None
    project_code: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return reference.rules()[self.rule_id].severity

    def messages(self) -> tuple[str, str]:
        rule = reference.rules()[self.rule_id]
        # Optional parts of a message (a suggestion, why a phase was assumed) are empty by default.
        params = {"value": "" if self.value is None else self.value, "detail": "", "suggestion_fr": "",
                  "suggestion_ar": "", "note_fr": "", "note_ar": "", **self.params}
        # A detail given in both languages (a reader's refusal) goes to each message in its own.
        arabic = {**params, "detail": params.get("detail_ar", params["detail"])}
        return rule.message_fr.format(**params), rule.message_ar.format(**arabic)
