"""Checks Great Expectations does not express well, as plain code with the same findings.

- :func:`check_file`: file-level checks on an examination (the province the rows name against the
  province the file was sent for, a period that has not started, approval years after the period).
- :func:`outlier_findings`: cost per beneficiary and per job far from the sector's usual range, by a
  robust z-score (median and MAD of the logarithm), against the nation and against the province.
- :func:`cross_province_findings`: a project code another province already reported.
- :func:`warehouse_checks`: both of the above against the warehouse, on a read-only connection,
  before the load transaction (what ``iga ingest`` and ``iga check`` call).

Every check returns :class:`~etl.findings.Finding` objects at the sheet, Excel row and column the
clerk sees, with a rule of ``reference/rules.csv``. All of them are warnings except the file-level
refusals, so they never change which rows are loaded.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import text

from etl import reference
from etl.config import SQL_DIR
from etl.findings import Finding
from etl.formatting import format_rounded_mad
from etl.periods import period_start
from etl.validate import policy_for_year

# MAD of a normal distribution is 0.6745 standard deviations: z = 0.6745 (x - median) / MAD.
MAD_TO_SIGMA = 0.6745
# Floor on the MAD of log(figure): a sector whose projects all cost nearly the same would otherwise
# flag a figure 20 % off as "far". With the default z of 3.5 the usual range is then at least
# median / 2.2 to median x 2.2.
MIN_LOG_MAD = 0.15
OUTLIER_METRICS = {
    # rule: (divisor column, column the finding points at)
    "W_COST_PER_BENEFICIARY_OUTLIER": ("beneficiaries", "beneficiaries"),
    "W_COST_PER_JOB_OUTLIER": ("jobs_created", "jobs_created"),
}


def check_file(exam, today: dt.date | None = None):
    """File-level checks on a finished examination; may refuse the whole file. Returns ``exam``."""
    if exam.refused_reason is not None or not exam.sheets:
        return exam
    today = today or dt.date.today()
    start = period_start(exam.period)
    if start is not None and start > today:
        return _refuse_all(exam, Finding("FILE_PERIOD_FUTURE", value=exam.period))
    # Rows that name a province: when every row names the same other province, the file was
    # dropped in the wrong folder; say so once instead of once per row.
    named = Counter(f.value for f in exam.findings if f.rule_id == "E_PROVINCE_MISMATCH")
    mismatched_rows = {(f.sheet, f.excel_row) for f in exam.findings if f.rule_id == "E_PROVINCE_MISMATCH"}
    if len(named) == 1 and len(mismatched_rows) == exam.rows_read:
        (value,) = named
        province = reference.provinces()[exam.province_code]
        return _refuse_all(exam, Finding("FILE_PROVINCE_MISMATCH", value=value, params={
            "expected_fr": f"{province['name_fr']} ({exam.province_code})",
            "expected_ar": f"{province['name_ar']} ({exam.province_code})"}))
    if exam.period_end is not None:
        for sheet, row in exam.rows + exam.rejected:
            year = row.get("approval_year")
            if year is not None and year > exam.period_end.year:
                exam.findings.append(Finding("W_YEAR_AFTER_PERIOD", sheet.name, row["excel_row"],
                                             sheet.headers.get("approval_year"), year, row["project_code"],
                                             {"period": exam.period}))
    exam.findings = collapse_columns(one_finding_per_cause(exam.findings), exam.sheets)
    exam.findings.sort(key=_reading_order)
    return exam


@functools.cache
def consequences() -> dict[str, frozenset[str]]:
    """Rule -> the rules that only repeat it on the same row (``reference/rule_consequences.csv``)."""
    table: dict[str, set[str]] = defaultdict(set)
    for row in reference.read_csv("rule_consequences.csv"):
        table[row["cause"]].add(row["consequence"])
    return {cause: frozenset(found) for cause, found in table.items()}


def one_finding_per_cause(findings: list[Finding]) -> list[Finding]:
    """Drop the findings of a row that are consequences of another finding of the same row
    (an INDH part above the total is not also « INDH share above 70 % »)."""
    implied = consequences()
    by_row: dict[tuple, set[str]] = defaultdict(set)
    for f in findings:
        if f.excel_row:
            by_row[f.sheet, f.excel_row].add(f.rule_id)
    return [f for f in findings if not f.excel_row or not any(
        f.rule_id in implied.get(cause, ()) for cause in by_row[f.sheet, f.excel_row] if cause != f.rule_id)]


COLUMN_MIN_ROWS = 5  # a column-wide problem is said once when it hits at least this many rows
COLUMN_SHARE = 0.9  # ... and this share of the sheet's rows


def collapse_columns(findings: list[Finding], sheets) -> list[Finding]:
    """A warning that hits (nearly) every row of one column is one root cause: one finding at the
    column's header with the count and the first case, instead of one per row."""
    rows = {sheet.name: len(sheet.rows) for sheet in sheets}
    header_rows = {sheet.name: sheet.header_row for sheet in sheets}
    rules = reference.rules()
    groups: dict[tuple, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.excel_row and f.column_header and f.sheet in rows and rules[f.rule_id].severity == "warning" \
                and rules[f.rule_id].scope == "cell":
            groups[f.sheet, f.column_header, f.rule_id].append(f)
    collapsed = {id(f) for (sheet, _, _), group in groups.items()
                 if len(group) >= max(COLUMN_MIN_ROWS, COLUMN_SHARE * rows[sheet]) for f in group}
    if not collapsed:
        return findings
    out, said = [], set()
    for f in findings:
        if id(f) not in collapsed:
            out.append(f)
            continue
        key = (f.sheet, f.column_header, f.rule_id)
        if key in said:
            continue
        said.add(key)
        example_fr, example_ar = f.messages()
        out.append(Finding("COLUMN_VALUES_UNREADABLE", f.sheet, header_rows[f.sheet], f.column_header, f.value,
                           params={"column": f.column_header, "rows": len(groups[key]), "first_row": f.excel_row,
                                   "example_fr": example_fr, "example_ar": example_ar}))
    return out


def _reading_order(finding: Finding):
    return (finding.sheet or "", finding.excel_row or 0)


def _refuse_all(exam, finding: Finding):
    exam.rejected = exam.rejected + exam.rows
    exam.rejected.sort(key=lambda pair: (pair[0].name, pair[1]["excel_row"]))
    exam.rows = []
    exam.refused_reason = finding
    exam.findings.insert(0, finding)
    return exam


@dataclass(frozen=True)
class UsualRange:
    median: float  # of log(figure)
    mad: float
    count: int

    def z(self, figure: float) -> float:
        return MAD_TO_SIGMA * (math.log(figure) - self.median) / self.mad

    def bounds(self, threshold: float) -> tuple[float, float]:
        spread = threshold * self.mad / MAD_TO_SIGMA
        return math.exp(self.median - spread), math.exp(self.median + spread)


def usual_range(figures: list[float]) -> UsualRange | None:
    """Median and median absolute deviation of the figures' logarithms (costs are skewed: ratios are
    compared, not differences). numpy selects the medians without sorting the nation's history for
    every file; the values are ``statistics.median``'s (the middle one, or the half-sum of the two)."""
    import numpy as np

    logs = np.fromiter((math.log(f) for f in figures if f > 0), dtype=np.float64)
    if logs.size < 2:
        return None
    median = float(np.median(logs))
    mad = float(np.median(np.abs(logs - median)))
    return UsualRange(median, max(mad, MIN_LOG_MAD), int(logs.size))


def _figure(row: dict, divisor: str) -> float | None:
    total, count = row.get("total_cost_mad"), row.get(divisor)
    if total is None or not count or count <= 0 or total <= 0 or not row.get("sector_code"):
        return None
    return total / 100 / count


def history_figures(exam, history: list[dict]) -> dict[tuple[str, str, bool], list[float]]:
    """The figures of ``history`` the outlier check compares ``exam`` with: (divisor column,
    sector, whether the project is the file's province's) -> costs per unit, leaving out the
    province's projects the file reports again (same code). What ``outlier_figures.sql`` returns
    from the warehouse, built here from project dicts."""
    in_file = {row["project_code"] for _, row in exam.rows}
    figures: dict[tuple[str, str, bool], list[float]] = defaultdict(list)
    for project in history:
        own = project["province_code"] == exam.province_code
        if own and project["project_code"] in in_file:
            continue
        for divisor, _ in OUTLIER_METRICS.values():
            figure = _figure(project, divisor)
            if figure is not None:
                figures[divisor, project["sector_code"], own].append(figure)
    return figures


def outlier_findings(exam, history: list[dict] | None = None,
                     figures: dict[tuple[str, str, bool], list[float]] | None = None) -> list[Finding]:
    """Cost per beneficiary and per job far from the sector's usual range (warnings).

    ``history``: projects already in the warehouse (dicts with province_code, project_code,
    sector_code, total_cost_mad in cents, beneficiaries, jobs_created); the file's own rows replace
    its province's rows with the same code. Or, instead, their ``figures`` already grouped
    (:func:`history_figures`, or the warehouse's ``outlier_figures.sql``). The usual range is the
    nation's (all provinces) when the sector has enough projects, else the province's; a row is
    flagged when its figure is outside that range (robust z-score beyond the phase's threshold,
    reference/policy.csv).
    """
    rows = exam.rows
    if not rows:
        return []
    if figures is None:
        figures = history_figures(exam, history or [])
    sectors = {r["sector_code"]: r for r in reference.read_csv("sectors.csv")}
    findings: list[Finding] = []
    by_year = {}
    for rule_id, (divisor, column) in OUTLIER_METRICS.items():
        national, provincial, elsewhere = defaultdict(list), defaultdict(list), set()
        for (figure_divisor, sector, own), values in figures.items():
            if figure_divisor != divisor or not values:
                continue
            national[sector] += values  # the order does not matter: medians
            if own:
                provincial[sector] += values
            else:
                elsewhere.add(sector)
        in_file = [_figure(row, divisor) for _, row in rows]
        for (_, row), figure in zip(rows, in_file):
            if figure is not None:
                national[row["sector_code"]].append(figure)
                provincial[row["sector_code"]].append(figure)
        ranges = {}
        for scope, groups in (("nation", national), ("province", provincial)):
            for sector, values in groups.items():
                if scope == "province" or sector in elsewhere:  # a nation of one province is the province
                    ranges[scope, sector] = usual_range(values)
        for (sheet, row), figure in zip(rows, in_file):
            if figure is None:
                continue
            year = row.get("approval_year")
            policy = by_year.get(year) or by_year.setdefault(year, policy_for_year(year))
            for scope in ("nation", "province"):
                found = ranges.get((scope, row["sector_code"]))
                if found is None or found.count < policy.outlier_min_projects:
                    continue
                if abs(found.z(figure)) > policy.outlier_robust_z:
                    low, high = found.bounds(policy.outlier_robust_z)
                    sector = sectors.get(row["sector_code"], {})
                    findings.append(Finding(rule_id, sheet.name, row["excel_row"], sheet.headers.get(column),
                                            format_rounded_mad(figure), row["project_code"], {
                                                "low": format_rounded_mad(low), "high": format_rounded_mad(high),
                                                "sector_fr": sector.get("name_fr", row["sector_code"]),
                                                "sector_ar": sector.get("name_ar", row["sector_code"]),
                                                "scope_fr": "au niveau national" if scope == "nation"
                                                else "dans la province",
                                                "scope_ar": "على الصعيد الوطني" if scope == "nation"
                                                else "في الإقليم",
                                            }))
                break  # the broadest range with enough projects decides
    return findings


def cross_province_findings(exam, others: list[dict]) -> list[Finding]:
    """A project code another province already reported (warning at the code cell).

    ``others``: dicts with project_code, province_code, name_fr, name_ar for codes of this file
    found under another province in the warehouse. The finding goes to this province's clerks, so
    it does not say which province (that is the other province's data): one finding per code, and
    the national coordination's digest names the provinces (``sql/quality/codes_shared.sql``).
    """
    by_code = defaultdict(list)
    for other in others:
        by_code[other["project_code"]].append(other)
    return [Finding("W_CODE_OTHER_PROVINCE", sheet.name, row["excel_row"], sheet.headers.get("project_code"),
                    row["project_code"], row["project_code"])
            for sheet, row in exam.rows if by_code.get(row["project_code"])]


def _sql(name: str) -> str:
    return (SQL_DIR / "quality" / name).read_text(encoding="utf-8")


def warehouse_checks(exam, engine=None) -> list[Finding]:
    """Checks against what the warehouse holds (read-only transaction), or against the file alone
    when ``engine`` is None (``iga check`` on a machine without a warehouse). Adds the findings to
    ``exam`` and returns them; all are warnings, so the rows to load do not change."""
    if not exam.rows:
        return []
    others, figures = [], {}
    if engine is not None:
        codes = sorted({row["project_code"] for _, row in exam.rows})
        parameters = {"province_code": exam.province_code, "codes": codes}
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            others = conn.execute(text(_sql("codes_in_other_provinces.sql")), parameters).mappings().all()
            # Grouped in SQL: a few arrays, not a row per project of the nation for every file.
            for sector, own, per_beneficiary, per_job in conn.execute(text(_sql("outlier_figures.sql")), parameters):
                figures["beneficiaries", sector, own] = per_beneficiary or []
                figures["jobs_created", sector, own] = per_job or []
            conn.rollback()
    found = cross_province_findings(exam, [dict(o) for o in others])
    found += outlier_findings(exam, figures=figures)
    exam.findings.extend(found)
    exam.findings.sort(key=_reading_order)
    return found
