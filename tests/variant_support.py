"""The layout variants both column-wise tests read: every format, title block, header and row shape."""
import random
from pathlib import Path

from etl import sample


def write_layout_variants(folder: Path, both_languages: bool = False) -> list[Path]:
    """Fifteen files: each file format three times, over the layouts the generator knows."""
    rng = random.Random(13)
    paths = []
    for index, file_format in enumerate(sample.FILE_FORMATS * 3):
        language = ("fr", "ar")[index % 2] if both_languages else "fr"
        layout = sample.Layout(file_format=file_format, title_rows=index % 4, two_line_header=index % 2 == 0,
                               numbering_column=index % 3 == 0, blank_column=index % 2 == 1,
                               blank_every=index % 5, section_rows=index % 2 == 0,
                               totals_label=[None, *sample.TOTALS_LABELS][index % (len(sample.TOTALS_LABELS) + 1)],
                               amount_styles=sample.AMOUNT_STYLES, date_styles=sample.DATE_STYLES,
                               cover_sheet=index % 3 == 1, hidden_sheet=file_format in ("xlsx", "xls"),
                               hidden_rows=file_format in ("xlsx", "xlsm"), seed=index, language=language)
        projects = sample.random_projects(rng, 30, "MA-TAO", language=language)
        path = folder / f"variant_{index}.{file_format}"
        sample.write_variant(path, projects, layout)
        paths.append(path)
    return paths


def write_provincial_files(folder: Path) -> list[tuple[Path, str]]:
    """The sample generator's 75 provincial files (20 to 60 rows each), with each one's province."""
    expected = sample.generate(folder, rows=(20, 60))
    assert len(expected.files) == 75
    return [(path, path.parent.parent.name) for path in expected.files]


def write_text_table(path: Path, rows: list[list[object]], delimiter: str = ";") -> Path:
    """The rows as a UTF-8 text table, a cell holding the delimiter or a line break flattened."""
    lines = [delimiter.join("" if c is None else str(c).replace(delimiter, " ").replace("\n", " ") for c in row)
             for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
