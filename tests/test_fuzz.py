"""A deterministic subset of the fuzz suite (``make fuzz`` runs 2,000): 200 mutated files through
the check path, each in a child capped in memory and time, half of them read as the pipeline
chooses (cell by cell: they are small) and half column-wise, as large files are. None may escape
the check path (unhandled), hang or exhaust memory, nor be stopped by the child wall; every one
ends refused, with findings, or clean."""
import pytest

from bench.fuzz import generate_cases, good_row, project_workbook, run_cases, summary
from etl.isolate import WorkerLimits

pytestmark = pytest.mark.fuzz
FILES, SEED = 200, 7


def test_two_hundred_mutated_files_each_end_in_an_answer(tmp_path, iga_home):
    from etl.examine import examine

    wall = WorkerLimits.from_settings()
    harness = WorkerLimits(wall.memory_bytes + 1024 * 1024 * 1024, wall.timeout_s + 30)
    cases = generate_cases(SEED, FILES, tmp_path)
    assert len({name for name, _, _ in cases}) == FILES
    assert generate_cases(SEED, 40, tmp_path / "again") == cases[:40]  # deterministic from the seed
    warm = tmp_path / "warm.xlsx"
    warm.write_bytes(project_workbook([good_row(1)]))
    examine(warm, "MA-TAO", "2013")  # GX and calamine loaded before the first fork
    half = FILES // 2
    for reader, part in (("auto", cases[:half]), ("columns", cases[half:])):
        table = summary(run_cases(part, tmp_path, harness, reader=reader))
        assert table["failures"] == [], reader
        assert (table["unhandled"], table["hang"], table["memory"]) == (0, 0, 0), reader
        assert table["refused_by_wall"] == 0, reader  # every refusal is the readers' own, with its reason
        assert table["refused"] + table["findings"] + table["clean"] == half, reader
        assert table["refused"] and table["findings"], reader  # the mutations reach both ends of the check
