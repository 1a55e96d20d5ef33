"""Reporting periods: what '2013', '2013-Q2' and '2013-06' cover, and the reporting calendar.

A period is a year, a quarter or a month. The calendar (``reference/reporting_calendar.csv``, or
``IGA_REPORTING_CALENDAR``) lists the periods the provinces must report and their deadlines; the
file checks, the completeness table and the digests all read periods from here.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from dataclasses import dataclass

from etl.config import settings

_PERIOD = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?")


def period_end(period: str) -> dt.date | None:
    """'2013' -> 2013-12-31, '2013-Q2' -> 2013-06-30, '2013-06' -> 2013-06-30; None if not a period."""
    match = _PERIOD.fullmatch(period.strip().upper())
    if not match:
        return None
    year = int(match.group(1))
    if not 2005 <= year <= dt.date.today().year + 1:
        return None
    month = int(match.group(2)) * 3 if match.group(2) else int(match.group(3) or 12)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_start(period: str) -> dt.date | None:
    """'2013' -> 2013-01-01, '2013-Q2' -> 2013-04-01, '2013-06' -> 2013-06-01."""
    end = period_end(period)
    if end is None:
        return None
    text_ = period.strip().upper()
    if "-Q" in text_:
        return dt.date(end.year, end.month - 2, 1)
    if "-" in text_:
        return dt.date(end.year, end.month, 1)
    return dt.date(end.year, 1, 1)


@dataclass(frozen=True)
class DuePeriod:
    period: str
    deadline: dt.date


def reporting_calendar() -> list[DuePeriod]:
    """Periods the provinces must report and their deadlines, in order (``IGA_REPORTING_CALENDAR``
    overrides the versioned ``reference/reporting_calendar.csv``)."""
    with open(settings().reporting_calendar, newline="", encoding="utf-8") as f:
        periods = [DuePeriod(r["period"].strip(), dt.date.fromisoformat(r["deadline"].strip()))
                   for r in csv.DictReader(f)]
    return sorted(periods, key=lambda p: p.deadline)


def current_period(calendar: list[DuePeriod], today: dt.date) -> DuePeriod:
    """The period being collected: the first whose deadline has not passed, else the last one."""
    return next((p for p in calendar if p.deadline >= today), calendar[-1])


def missing_periods(calendar: list[DuePeriod], received: set[str], today: dt.date) -> list[DuePeriod]:
    """Periods whose deadline has passed and for which nothing usable was received."""
    return [p for p in calendar if p.deadline < today and p.period not in received]
