"""A dry run of one file: what ``iga check`` prints and the portal shows, nothing loaded.

:func:`dry_run` examines the file in a forked child capped in memory and time
(:mod:`etl.isolate`), compares it with the warehouse when there is one (read-only), writes the
HTML report and the findings workbook, and returns a small, picklable :class:`DryRun`. A file that
kills or hangs the reader gives a ``FILE_UNREADABLE`` refusal with what happened, like any other
refusal; an ordinary error of the pipeline itself is raised (:class:`etl.isolate.ChildError`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FIRST_FINDINGS = 50


@dataclass
class DryRun:
    file_name: str
    province_code: str | None
    period: str
    status: str  # loaded, partial or refused
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    reason_fr: str | None
    reason_ar: str | None
    by_rule: list[tuple[str, str, int]]  # (severity, rule id, count): errors first, then by count
    findings_total: int
    first_findings: list[dict] = field(default_factory=list)  # the first ones in the order to fix them
    compared: str = ""  # how the file was compared with the warehouse
    html_path: Path | None = None
    xlsx_path: Path | None = None
    isolated_failure: str | None = None  # "memory", "timeout", ... when the child was stopped


def dry_run(path: Path, province: str, period: str, report_folder: Path, first: int = FIRST_FINDINGS,
            limits=None) -> DryRun:
    """Examine ``path`` as ``iga check`` does, in a child process; see the module docstring."""
    from etl.isolate import ChildFailed, prepare_to_fork, run_isolated

    prepare_to_fork()
    try:
        return run_isolated(_dry_run_here, Path(path), province, period, Path(report_folder), first, limits=limits)
    except ChildFailed as failure:
        exam = _unreadable(path, province, period, failure)
        result = summarise(exam, report_folder, first, "not compared: the file could not be read")
        result.isolated_failure = failure.what
        return result


def examine_isolated(path: Path, province: str, period: str, limits=None):
    """:func:`etl.examine.examine` in a capped child: the same :class:`~etl.examine.Examination`, or a
    ``FILE_UNREADABLE`` refusal when the child dies or overstays. For a caller that keeps its own
    warehouse connection (the portal): run the warehouse checks on the result in the caller."""
    from etl.examine import examine
    from etl.isolate import ChildFailed, prepare_to_fork, run_isolated

    prepare_to_fork()
    try:
        return run_isolated(examine, Path(path), province, period, limits=limits)
    except ChildFailed as failure:
        return _unreadable(path, province, period, failure)


def _unreadable(path: Path, province: str, period: str, failure):
    from etl import reference
    from etl.examine import Examination
    from etl.periods import period_end

    code = reference.find_province(province)
    return Examination(Path(path), code, period, period_end(period)).refuse(
        "FILE_UNREADABLE", detail=failure.detail_fr, detail_ar=failure.detail_ar)


def _dry_run_here(path: Path, province: str, period: str, report_folder: Path, first: int) -> DryRun:
    from etl.examine import examine

    exam = examine(path, province, period)
    return summarise(exam, report_folder, first, compare_with_warehouse(exam))


def compare_with_warehouse(exam) -> str:
    """Compare with the warehouse (other provinces' codes, usual cost ranges) when there is one:
    the configured URL, or the embedded server if this machine already has one; read-only. Without
    one, costs are compared within the file only."""
    from etl.config import settings
    from etl.quality_checks import warehouse_checks

    current = settings()
    if exam.rows and (current.warehouse_url or current.pgdata.exists()):
        from etl.warehouse import engine

        try:
            warehouse_checks(exam, engine())
            return "compared with the warehouse (read-only)"
        except Exception as exc:  # noqa: BLE001 - the clerk still gets the file's own checks
            reason = f"warehouse not reachable ({type(exc).__name__})"
    else:
        reason = "no warehouse here"
    warehouse_checks(exam, None)
    return f"{reason}: costs compared within this file only; codes of other provinces not compared"


def summarise(exam, report_folder: Path, first: int, compared: str) -> DryRun:
    """Write the reports of an examination and sum it up."""
    from etl.reports import SEVERITY_ORDER, finding_dicts, fix_order, write_check_report

    html_path, xlsx_path = write_check_report(exam, report_folder)
    by_rule = Counter((f.severity, f.rule_id) for f in exam.findings)
    in_order = sorted(exam.findings, key=lambda f: fix_order(f.rule_id, f.severity, f.sheet, f.excel_row))
    return DryRun(
        file_name=exam.path.name, province_code=exam.province_code, period=exam.period, status=exam.status,
        rows_read=exam.rows_read, rows_loaded=len(exam.rows), rows_rejected=len(exam.rejected),
        reason_fr=exam.reason_text(), reason_ar=exam.reason_text("ar"),
        by_rule=sorted(((severity, rule, count) for (severity, rule), count in by_rule.items()),
                       key=lambda item: (SEVERITY_ORDER.get(item[0], 3), -item[2], item[1])),
        findings_total=len(exam.findings), first_findings=finding_dicts(in_order[:first]),
        compared=compared, html_path=html_path, xlsx_path=xlsx_path)
