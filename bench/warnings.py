"""Warnings a clerk reads per 100 project rows: the sample generator's 75 files and the fixtures.

    .venv/bin/python -m bench.warnings               # both sets, a table by rule
    .venv/bin/python -m bench.warnings --json        # the same figures as JSON
    .venv/bin/python -m bench.warnings --sample-dir D  # the sample files in D (written there if D is
                                                     # empty), e.g. to measure another version of
                                                     # the code on the same files

Each file goes through what ``iga check`` does without a warehouse (``examine`` then the
file-only ``warehouse_checks``). Counted: findings of severity *warning*, the rows read, and the
rows that carry at least one warning (the target is at most one warning per such row).
"""
from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
# Fixtures without an expected.json: the province they were written for.
HAND_FIXTURES = {"hand_taounate_cp1252.csv": "MA-TAO", "hand_web_export.xls": "MA-TAO"}


def measure(files: list[tuple[Path, str, str]]) -> dict:
    from etl.examine import examine
    from etl.quality_checks import warehouse_checks

    rows = warnings = files_read = 0
    rows_warned: set = set()
    by_rule: Counter = Counter()
    for path, province, period in files:
        exam = examine(path, province, period)
        warehouse_checks(exam, None)
        if exam.refused_reason is not None:
            continue
        files_read += 1
        rows += exam.rows_read
        for finding in exam.findings:
            if finding.severity == "warning":
                warnings += 1
                by_rule[finding.rule_id] += 1
                if finding.excel_row:
                    rows_warned.add((str(path), finding.sheet, finding.excel_row))
    return {"files": len(files), "files_read": files_read, "rows": rows, "warnings": warnings,
            "rows_with_warnings": len(rows_warned),
            "warnings_per_100_rows": round(100 * warnings / rows, 1) if rows else 0.0,
            "by_rule": dict(by_rule.most_common())}


def sample_files(folder: Path) -> list[tuple[Path, str, str]]:
    if not any(folder.glob("MA-*/*/*.xlsx")):
        from etl.sample import generate

        generate(folder)
    return [(path, path.parent.parent.name, path.parent.name) for path in sorted(folder.glob("MA-*/*/*.xlsx"))]


def fixture_files() -> list[tuple[Path, str, str]]:
    files = []
    for expected in sorted(FIXTURES.glob("*.expected.json")):
        province = json.loads(expected.read_text(encoding="utf-8"))["province"]
        files.append((expected.with_name(expected.name.removesuffix(".expected.json")), province, "2013"))
    files += [(FIXTURES / name, province, "2013") for name, province in HAND_FIXTURES.items()
              if (FIXTURES / name).exists()]
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sample-dir", type=Path, help="where the sample files are (or are written)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="iga-warnings-") as folder:
        sample = args.sample_dir or Path(folder)
        sample.mkdir(parents=True, exist_ok=True)
        results = {"sample_75": measure(sample_files(sample)), "fixtures": measure(fixture_files())}
    if args.json:
        print(json.dumps(results, indent=1))
        return
    for name, result in results.items():
        print(f"{name}: {result['files_read']}/{result['files']} files read, {result['rows']} rows, "
              f"{result['warnings']} warnings on {result['rows_with_warnings']} rows: "
              f"{result['warnings_per_100_rows']} warnings per 100 rows")
        for rule, count in result["by_rule"].items():
            print(f"    {rule:<32} {count:>6}")


if __name__ == "__main__":
    main()
