"""A finding: one rule broken at one place of a provincial file, with its French and Arabic message.

Every stage reports in findings (reading, normalising, validating, the file-level and warehouse
checks); the rule ids and their messages live in ``reference/rules.csv``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from etl import reference

LRM = "\u200e"
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def left_to_right(value: object) -> object:
    """A figure set inside an Arabic sentence, kept in reading order.

    In right-to-left text, the spaces between the digit groups of "-63 868,53" and the sign are
    neutral: a reader would see "868,53 -63". A left-to-right mark on each side makes the whole
    figure one left-to-right run (rule W7 of the Unicode bidi algorithm). Plain digits need no
    mark; words with Arabic letters are left as they are.
    """
    text = str(value)
    if text.isdigit() or not any(ch.isdigit() for ch in text) or _RIGHT_TO_LEFT.search(text):
        return value  # digits alone already read left to right
    return LRM + text + LRM


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
        arabic = {name: left_to_right(value) for name, value in arabic.items()}
        return rule.message_fr.format(**params), rule.message_ar.format(**arabic)
