"""Costs of the hostile-input defences (issue 10), part of ``make bench``; alone:

    python -m bench.hostile_bench

- the child-process wall: a fork with GX and calamine already imported, and the check of a
  10,000-row file in a child against the same check in the process (medians, same run);
- a file with a finding on every row: ``iga check``'s path (child, reports) on 100,000 rows that each
  carry a warning, and the reports alone (HTML and findings workbook, 100,000 findings).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from bench.run import median_time as _median
from bench.run import workbook

BENCH_DIR = Path(__file__).resolve().parent
WORK = BENCH_DIR / "work"


def finding_on_every_row(rows: int) -> Path:
    """A workbook of ``rows`` projects, each with a warning of its own (cached in bench/work)."""
    return workbook(rows, warn_every_row=True)


def cases(repeat: int = 3) -> dict:
    from etl.dry_run import _dry_run_here, dry_run
    from etl.examine import examine
    from etl.isolate import prepare_to_fork, run_isolated
    from etl.reports import write_check_report

    WORK.mkdir(parents=True, exist_ok=True)
    reports = Path(tempfile.mkdtemp(prefix="iga-bench-reports-"))
    prepare_to_fork()
    results: dict = {}
    fork_s, _ = _median(lambda: run_isolated(int, 1), 20)
    small = finding_on_every_row(10_000)
    inline_s, _ = _median(lambda: _dry_run_here(small, "MA-TAO", "2013", reports, 50), repeat)
    child_s, _ = _median(lambda: dry_run(small, "MA-TAO", "2013", reports), repeat)
    results["wall"] = {"fork_return_ms": fork_s * 1000, "check_10k_inline_s": inline_s,
                       "check_10k_child_s": child_s, "overhead_s": child_s - inline_s,
                       "ratio": child_s / inline_s}
    big = finding_on_every_row(100_000)
    check_s, result = _median(lambda: dry_run(big, "MA-TAO", "2013", reports), 1)
    exam = examine(big, "MA-TAO", "2013")
    write_s, _ = _median(lambda: write_check_report(exam, reports), repeat)
    results["finding_every_row"] = {"rows": 100_000, "findings": len(exam.findings), "iga_check_s": check_s,
                                    "reports_s": write_s, "reports_us_per_finding": write_s / len(exam.findings) * 1e6,
                                    "status": result.status}
    return results


def main() -> int:
    print(json.dumps(cases(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
