"""Row checks with Great Expectations, from the suite in ``expectations/project_rows.json``.

Every failing row of every expectation becomes a :class:`~etl.normalise.Finding` with the rule id
the expectation names in its ``meta``, at the row's sheet, Excel row and column header.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging

from etl import reference
from etl.config import EXPECTATIONS_DIR
from etl.normalise import AMOUNT_COLUMNS, COUNT_COLUMNS, Finding, ProjectSheet

SUITE_NAME = "project_rows"
MIN_PROMOTER_SHARE = 0.30  # INDH rule: promoters contribute at least 30 % of a project's cost


class ValidationCrashed(RuntimeError):
    """An expectation could not be evaluated: a pipeline fault, not a data problem."""


@functools.cache
def _validator():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    with open(EXPECTATIONS_DIR / f"{SUITE_NAME}.json", encoding="utf-8") as f:
        suite = gx.ExpectationSuite(**json.load(f))
    batch_definition = (context.data_sources.add_pandas("submission")
                        .add_dataframe_asset("project_rows")
                        .add_batch_definition_whole_dataframe("whole_file"))
    return batch_definition, suite


def rows_frame(sheets: list[ProjectSheet]):
    """The rows of all project sheets as one frame, with the derived columns the suite checks."""
    import pandas as pd

    records = [row for sheet in sheets for row in sheet.rows]
    frame = pd.DataFrame.from_records(
        records, columns=["project_code", "province_code", "approval_year", *AMOUNT_COLUMNS, *COUNT_COLUMNS])
    for column in ("approval_year", *AMOUNT_COLUMNS, *COUNT_COLUMNS):
        frame[column] = frame[column].astype("Int64")
    frame["row_id"] = range(len(frame))
    total = frame["total_cost_mad"].astype("Float64")
    frame["promoter_share"] = (frame["promoter_contribution_mad"].astype("Float64") / total).where(total > 0)
    parts = frame[["indh_contribution_mad", "promoter_contribution_mad", "partner_contribution_mad"]]
    frame["parts_gap_mad"] = ((parts.fillna(0).sum(axis=1) - frame["total_cost_mad"]).abs() / 100).astype("Float64")
    # Only compare parts with the total where the promoter and partner parts were given.
    frame.loc[parts.isna().all(axis=1) | frame["total_cost_mad"].isna(), "parts_gap_mad"] = pd.NA
    return frame, records, [sheet for sheet in sheets for _ in sheet.rows]


def validate_rows(sheets: list[ProjectSheet]) -> list[Finding]:
    records_count = sum(len(s.rows) for s in sheets)
    if records_count == 0:
        return []
    batch_definition, suite = _validator()
    frame, records, row_sheets = rows_frame(sheets)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]},
        expectation_parameters={
            "current_year": dt.date.today().year,
            "province_codes": sorted(reference.provinces()),
            "min_promoter_share": MIN_PROMOTER_SHARE,
        },
    )
    findings: list[Finding] = []
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
            findings.append(Finding(rule_id, sheet.name, row["excel_row"], sheet.headers.get(column),
                                    value, row["project_code"]))
    return findings


def format_mad(cents: int) -> str:
    """12345678 -> '123 456,78' (the way the clerk reads amounts)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{frac:02d}"
