"""Row checks with Great Expectations, from the suite in ``expectations/project_rows.json``.

Every failing row of every expectation becomes a :class:`~etl.findings.Finding` with the rule id
the expectation names in its ``meta``, at the row's sheet, Excel row and column header.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from etl import gx_ids, gx_kwargs, memory, reference
from etl.config import EXPECTATIONS_DIR, settings
from etl.errors import IgaError
from etl.findings import Finding
from etl.formatting import format_mad, format_percent
from etl.normalise import AMOUNT_COLUMNS, COUNT_COLUMNS, ProjectSheet, phase_note

SUITE_NAME = "project_rows"
# Rules whose thresholds come from the INDH phase's policy (reference/policy.csv): their messages
# name the threshold and the phase, taken from the row's approval year.
POLICY_RULES = {"W_PROMOTER_SHARE_LOW": "min_promoter_share", "W_INDH_SHARE_HIGH": "max_indh_share"}


class ValidationCrashed(IgaError, RuntimeError):
    """An expectation could not be evaluated: a pipeline fault, not a data problem."""


@functools.cache
def _validator():
    memory.settle()  # before GX's first import: its unused scipy.stats and altair are deferred
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # Some GX modules set their own loggers to INFO ("Created temporary directory ..." on every run).
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context",
                 "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)
    gx_kwargs.install()  # the same results, a configuration read once per call (etl/gx_kwargs.py)
    gx_ids.install()  # the same metric ids, plain keywords converted directly (etl/gx_ids.py)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    with open(EXPECTATIONS_DIR / f"{SUITE_NAME}.json", encoding="utf-8") as f:
        suite = gx.ExpectationSuite(**json.load(f))
    batch_definition = (context.data_sources.add_pandas("submission")
                        .add_dataframe_asset("project_rows")
                        .add_batch_definition_whole_dataframe("whole_file"))
    return batch_definition, suite


def rows_frame(sheets: list[ProjectSheet], period_year: int | None = None):
    """The rows of all project sheets as one frame, with the derived columns the suite checks.

    A row's policy is its approval year's phase; without a year in a phase, the period's."""
    import pandas as pd

    records = [row for sheet in sheets for row in sheet.rows]
    frame = pd.DataFrame.from_records(
        records, columns=["project_code", "province_code", "approval_year", *AMOUNT_COLUMNS, *COUNT_COLUMNS])
    for column in ("approval_year", *AMOUNT_COLUMNS, *COUNT_COLUMNS):
        frame[column] = frame[column].astype("Int64")
    frame["row_id"] = range(len(frame))
    # Policy shares in basis points of the row's phase; compared in integers (cents x basis
    # points), so a promoter paying exactly 30 % is never flagged by a rounding error.
    by_year = {year: row_policy(year, period_year) for year in set(frame["approval_year"].tolist())}
    phases = [by_year[year] for year in frame["approval_year"].tolist()]
    min_bp = pd.array([round(p.min_promoter_share * 10_000) for p in phases], dtype="Int64")
    max_bp = pd.array([round(p.max_indh_share * 10_000) for p in phases], dtype="Int64")
    total = frame["total_cost_mad"]
    frame["promoter_share_gap"] = (frame["promoter_contribution_mad"] * 10_000 - min_bp * total).where(total > 0)
    frame["indh_share_excess"] = (frame["indh_contribution_mad"] * 10_000 - max_bp * total).where(total > 0)
    parts = frame[["indh_contribution_mad", "promoter_contribution_mad", "partner_contribution_mad"]]
    frame["parts_gap_mad"] = ((parts.fillna(0).sum(axis=1) - frame["total_cost_mad"]).abs() / 100).astype("Float64")
    # Only compare parts with the total where the promoter and partner parts were given.
    frame.loc[parts.isna().all(axis=1) | frame["total_cost_mad"].isna(), "parts_gap_mad"] = pd.NA
    # GX compares numpy float64 columns vectorised but nullable (Int64) ones value by value, about
    # ten times slower. Every figure here is a whole number below 2**53 (cents, cents x basis
    # points), which float64 holds exactly, so the comparisons stay exact.
    for column in frame.columns:
        if isinstance(frame[column].dtype, (pd.Int64Dtype, pd.Float64Dtype)):
            frame[column] = frame[column].to_numpy(dtype="float64", na_value=float("nan"))
    return frame, records, [sheet for sheet in sheets for _ in sheet.rows]


def validate_rows(sheets: list[ProjectSheet], period: str | None = None) -> list[Finding]:
    """Row findings of the suite. ``period``: the submission's period, whose INDH phase judges the
    rows whose approval year is missing or in no phase (the finding says so)."""
    records_count = sum(len(s.rows) for s in sheets)
    if records_count == 0:
        return []
    period_year = int(period[:4]) if period and period[:4].isdigit() else None
    batch_definition, suite = _validator()
    frame, records, row_sheets = rows_frame(sheets, period_year)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]},
        expectation_parameters={
            "current_year": dt.date.today().year,
            "province_codes": sorted(reference.provinces()),
        },
    )
    findings: list[Finding] = []
    policy_of = functools.cache(policy_for_year)  # the settings are read once per year, not per row
    for outcome in result.results:
        config = outcome.expectation_config
        if outcome.exception_info.get("raised_exception"):
            raise ValidationCrashed(f"{config.type}: {outcome.exception_info.get('exception_message')}")
        if outcome.success:
            continue
        rule_id = config.meta["rule_id"]
        column = config.meta.get("report_column") or config.kwargs.get("column")
        for unexpected in outcome.result.get("unexpected_index_list") or []:
            row_id = int(unexpected["row_id"])
            row, sheet = records[row_id], row_sheets[row_id]
            value = row.get(column)
            if column in AMOUNT_COLUMNS and value is not None:
                value = format_mad(value)
            params = {}
            if rule_id in POLICY_RULES:
                params = policy_params(row["approval_year"], period_year, policy_of)
            findings.append(Finding(rule_id, sheet.name, row["excel_row"], sheet.headers.get(column),
                                    value, row["project_code"], params))
    return merge_share_findings(findings)


def row_policy(year, period_year: int | None, policy_of=None) -> "Policy":
    """The policy of the row's phase: its approval year's, else (no year, or a year in no phase)
    the period's."""
    policy_of = policy_of or policy_for_year
    if _year_in_phases(year) or period_year is None:
        return policy_of(year)
    return policy_of(period_year)


def _year_in_phases(year) -> bool:
    try:
        return reference.phase_of_year(int(year)) is not None
    except (TypeError, ValueError):  # None, NaN, pandas NA
        return False


def policy_params(year, period_year: int | None, policy_of=None) -> dict[str, str]:
    """The thresholds and phase a policy finding names, and why the phase when it was assumed."""
    policy = row_policy(year, period_year, policy_of)
    params = {"phase": policy.phase, "min_share": format_percent(policy.min_promoter_share),
              "max_share": format_percent(policy.max_indh_share)}
    if not _year_in_phases(year):
        params.update(phase_note(None if year is None or year != year else year, period_year))
    return params


def merge_share_findings(findings: list[Finding]) -> list[Finding]:
    """A promoter share under its threshold and an INDH share over its threshold on the same row
    are one deviation (with no partner, each is the other): one finding naming both thresholds."""
    low = {(f.sheet, f.excel_row): f for f in findings if f.rule_id == "W_PROMOTER_SHARE_LOW"}
    both = {key for key in (((f.sheet, f.excel_row) for f in findings if f.rule_id == "W_INDH_SHARE_HIGH"))
            if key in low}
    merged: list[Finding] = []
    for f in findings:
        key = (f.sheet, f.excel_row)
        if key not in both or f.rule_id not in POLICY_RULES:
            merged.append(f)
        elif f.rule_id == "W_INDH_SHARE_HIGH":
            merged.append(Finding("W_SHARES_OFF_POLICY", f.sheet, f.excel_row, f.column_header, f.value,
                                  f.project_code, {**f.params, "promoter": low[key].value}))
    return merged


@dataclass(frozen=True)
class Policy:
    """Thresholds of one INDH phase (reference/policy.csv): warnings, never errors."""
    phase: int
    first_year: int
    last_year: int | None
    min_promoter_share: float
    max_indh_share: float
    outlier_robust_z: float
    outlier_min_projects: int


def policies() -> tuple[Policy, ...]:
    """The phases' thresholds: ``IGA_POLICY_FILE`` overrides the versioned ``reference/policy.csv``."""
    return _policies(settings().policy_file)


@functools.cache
def _policies(path: Path) -> tuple[Policy, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    return tuple(
        Policy(int(r["phase"]), int(r["first_year"]), int(r["last_year"]) if r["last_year"] else None,
               float(r["min_promoter_share"]), float(r["max_indh_share"]), float(r["outlier_robust_z"]),
               int(r["outlier_min_projects"]))
        for r in table)


def policy_for_year(year) -> Policy:
    """The policy of the phase an approval year falls in; the current phase when the year is unknown
    or outside every phase (those years are reported as errors elsewhere)."""
    table = policies()
    try:
        year = int(year)
    except (TypeError, ValueError):  # None, NaN, pandas NA
        return table[-1]
    for policy in table:
        if policy.first_year <= year <= (policy.last_year or 9999):
            return policy
    return table[-1]


