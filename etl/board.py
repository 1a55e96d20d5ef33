"""What the portal shows the national coordination (and a clerk, for their own province).

The completeness board of one reporting period (the figures of ``mart.reporting_completeness``,
on time / late / not yet against the calendar's deadline, errors still open), a province's
submissions and projects, a submission's findings, a project's versions, the national figures and
the latest published files. Read-only queries from ``sql/portal/`` and ``sql/quality/``.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from etl.config import SQL_DIR, Settings


def _rows(engine, path: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text((SQL_DIR / path).read_text(encoding="utf-8")),
                                              params).mappings()]


def reporting_period(period: str | None = None, today: dt.date | None = None):
    """(the calendar, the period asked for, or the current one when None or not in the calendar)."""
    from etl.periods import current_period, reporting_calendar

    calendar = reporting_calendar()
    chosen = next((p for p in calendar if p.period == period), None)
    return calendar, chosen or current_period(calendar, today or dt.date.today())


def completeness_board(engine, period: str | None = None, today: dt.date | None = None) -> dict:
    """Every province by region for one period: delivered on time / late / not yet, last status,
    errors still open; ``period`` None is the calendar's current period."""
    from etl.reports import timeliness

    today = today or dt.date.today()
    calendar, due = reporting_period(period, today)
    rows = _rows(engine, "quality/completeness.sql", period=due.period)  # what the weekly digest says
    marts = {m["province_code"]: m for m in _rows(engine, "portal/period_completeness.sql", period=due.period)}
    regions: dict[str, dict] = {}
    for row in rows:
        row.update(marts.get(row["province_code"], {"submissions": 0, "rows_loaded": 0, "rows_rejected": 0,
                                                     "period_status": None}))
        row["state"] = timeliness(row, due, today)
        region = regions.setdefault(row["region_code"], {
            "region_code": row["region_code"], "name_fr": row["region_name_fr"], "name_ar": row["region_name_ar"],
            "provinces": []})
        region["provinces"].append(row)
    for region in regions.values():
        region["counts"] = Counter(p["state"] for p in region["provinces"])
    return {"calendar": calendar, "due": due, "today": today, "regions": list(regions.values()),
            "counts": Counter(r["state"] for r in rows), "open_errors": sum(r["open_errors"] or 0 for r in rows),
            "provinces": len(rows)}


def province_state(engine, province_code: str, today: dt.date | None = None) -> dict:
    """One province's line of the board for the current period (what its clerk's home page says)."""
    board = completeness_board(engine, None, today)
    row = next(p for region in board["regions"] for p in region["provinces"]
               if p["province_code"] == province_code)
    return {"due": board["due"], "today": board["today"], "row": row}


def province_overview(engine, province_code: str) -> dict | None:
    """A province's names, its submissions (newest first) and its current projects."""
    from etl import reference

    province = reference.provinces().get(province_code)
    if province is None:
        return None
    from etl.uploads import province_submissions

    return {"province_code": province_code, "province": province,
            "submissions": province_submissions(engine, province_code),
            "projects": _rows(engine, "portal/province_projects.sql", province_code=province_code)}


def submission_detail(engine, submission_id: int) -> dict | None:
    """A submission and its findings in the order the clerk reads the file; None if unknown."""
    found = _rows(engine, "portal/submission.sql", submission_id=submission_id)
    if not found:
        return None
    return {"submission": found[0],
            "findings": _rows(engine, "quality/submission_findings.sql", submission_id=submission_id)}


def project_history(engine, province_code: str, project_code: str) -> dict | None:
    """Every version of one project, with the file, sheet and row it came from; None if unknown."""
    versions = _rows(engine, "portal/project_versions.sql", province_code=province_code, project_code=project_code)
    if not versions:
        return None
    return {"province_code": province_code, "project_code": project_code, "versions": versions}


def national_figures(engine, settings: Settings) -> dict:
    """The national and regional marts, and the files of the latest publication."""
    national = _rows(engine, "portal/national_summary.sql")
    latest = settings.published / "latest"
    files = sorted(p.name for p in latest.iterdir() if p.is_file()) if latest.is_dir() else []
    return {"national": national[0] if national else None,
            "regions": _rows(engine, "portal/region_summary.sql"), "published": files}


def published_file(settings: Settings, name: str) -> Path | None:
    """A file of the latest publication by its name; None for anything else (no path from input)."""
    latest = settings.published / "latest"
    if not latest.is_dir():
        return None
    return next((p for p in latest.iterdir() if p.is_file() and p.name == name), None)


def clerk_overview(engine, province_code: str, today: dt.date | None = None) -> dict:
    """A clerk's home: the current period, its deadline, whether the province delivered it, the
    calendar's periods (to deliver a late one) and every delivery of the province."""
    from etl.uploads import province_submissions

    state = province_state(engine, province_code, today)
    calendar, _ = reporting_period(None, today)
    return {**state, "calendar": calendar, "submissions": province_submissions(engine, province_code)}


def warehouse_ready(engine) -> bool:
    """The portal's health: the warehouse answers and has the portal's schema."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass('portal.user_account') IS NOT NULL")).scalar_one()
