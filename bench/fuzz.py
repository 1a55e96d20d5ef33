"""The fuzz suite: mutated provincial files through the check path, in a child each.

    make fuzz                                  # 2,000 files, seed 2026, both readers, the README table
    python -m bench.fuzz --files 200 --seed 7  # any size and seed
    python -m bench.fuzz --readers columns     # one reader only

Files are made from the test fixtures and the sample generator, deterministically from the seed:
byte mutations (flips, truncation, inserted NULs, BOMs, overwritten blocks), zip members
(corrupted, missing, duplicated, lying sizes, the encrypted flag, an unknown compression method,
huge, deep or entity-expanding XML), sheet geometry (far cells, many columns, many sheets, ODS
repeated rows and columns), cell values (extreme numbers, NaN and infinities, negative and far
dates, control characters, right-to-left marks, zero-width spaces, 1 MB strings, formulas, ``\\N``)
and CSV encodings, separators and quotes.

Each file goes through :func:`etl.dry_run.dry_run` (what ``iga check`` runs: the reader's own
child wall included, reports written) inside a harness child with a larger memory cap and timeout,
and ends in one of: refused, findings, clean (the check answered), unhandled (an exception escaped
the check path), hang (the harness timeout) or memory (the harness child died).

The files go through the check twice, once for each reader: ``auto`` as the pipeline chooses
(these files are small: the per-cell reader, unless one is over ``IGA_COLUMNS_FROM_KB``) and
``columns`` with every file read column-wise (``IGA_COLUMNS_FROM_KB=0``), as large files are.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import statistics
import struct
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
SEED_FILES = ("taounate_two_line_header.xlsx", "taounate_macros.xlsm", "berkane_arabic.xls", "errachidia.ods",
              "chefchaouen_windows1256.csv", "berkane_utf16_tab.txt", "hand_taounate_cp1252.csv")
HEADER = ["Code projet", "Intitulé du projet", "Commune", "Année d'approbation", "Date de démarrage",
          "Coût global (DH)", "Contribution INDH", "Contribution porteur", "Nombre de bénéficiaires",
          "Dont femmes"]
EXTREME_VALUES = [1e308, -1e308, 1e26, -1e26, 1.7976931348623157e308, 5e-324, float("nan"), float("inf"),
                  float("-inf"), -1e13, -1e12, 2**63, -(2**63), 2**64 + 1, 10**30, "9" * 5000, "1e999", "-0",
                  "\\N", "", " ", "\x00", "\x01\x02", "\x0c", "\x1b[31m", "\u200f\u202e", "\u200b", "\ufeff",
                  "=HYPERLINK(\"http://x\")", "+1", "-cmd|' /C calc'!A0", "@SUM(A1)", "\t=1+1", "\r=1",
                  "١٢٣٤٥٦٧٨٩٠", "1 250 000,00", "(300)", "30 %", "NaN", "inf", "-inf", "31/02/2013",
                  "9999-12-31", "0000-00-00", "x" * 40_000, "é" * 1_000_000]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
OUTCOMES = ("refused", "findings", "clean", "unhandled", "hang", "memory")
READERS = {"auto": None, "columns": "0"}  # reader -> IGA_COLUMNS_FROM_KB (None: the configured size)


# --- seeds -----------------------------------------------------------------------------------

def seed_files(work: Path) -> dict[str, bytes]:
    """The fixtures and two sample-generator workbooks, as bytes."""
    from etl.sample import generate

    seeds = {name: (FIXTURES / name).read_bytes() for name in SEED_FILES if (FIXTURES / name).exists()}
    landing = work / "seed-landing"
    expected = generate(landing, seed=11, provinces=["MA-TAO", "MA-BER"], rows=(20, 30))
    for path in expected.files:
        seeds[path.name] = stable(path.read_bytes())
    shutil.rmtree(landing, ignore_errors=True)
    return seeds


def project_workbook(rows: list[list[object]], formats: dict[str, str] | None = None, far: list[tuple] = (),
                     sheets: int = 1, columns: int = 0) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER + [f"Col {i}" for i in range(columns)])
    for row in rows:
        sheet.append([_ooxml_escaped(v) for v in row])
    for ref, fmt in (formats or {}).items():
        sheet[ref].number_format = fmt
    for ref, value in far:
        sheet[ref] = value
    for index in range(1, sheets):
        book.create_sheet(f"S{index}")["A1"] = index
    buffer = io.BytesIO()
    book.save(buffer)
    return stable(buffer.getvalue())


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def stable(data: bytes) -> bytes:
    """A workbook without the time it was written (zip entry dates, document properties), so the
    same seed gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "docProps/core.xml":
                payload = _STAMP.sub(rb"\g<1>2013-06-30T00:00:00Z\2", payload)
            archive.writestr(zipfile.ZipInfo(info.filename, date_time=(2013, 6, 30, 0, 0, 0)), payload,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _ooxml_escaped(value: object) -> object:
    """Control characters as OOXML writes them (``_x001B_``): openpyxl refuses them raw, readers
    decode them back into the cell."""
    if isinstance(value, str) and _CONTROL.search(value):
        return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


def good_row(index: int) -> list[object]:
    return [f"TAO-{index:04d}", "Rucher collectif", "Tissa", 2012, "12/03/2012", 250000, 150000, 80000, 30, 12]


def ods_document(table_xml: str) -> bytes:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="Projets">' + table_xml +
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        def member(name: str, text_: str) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2013, 6, 30, 0, 0, 0)), text_)

        member("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        member("content.xml", content)
        member("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                         'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buffer.getvalue()


def _ods_cell(value: object, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value="{value}"{rep}>'
                f'<text:p>{value}</text:p></table:table-cell>')
    return f'<table:table-cell office:value-type="string"{rep}><text:p>{value}</text:p></table:table-cell>'


def _ods_row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


# --- mutations --------------------------------------------------------------------------------

def byte_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    data = bytearray(data)
    kind = rng.choice(["flip", "flips", "truncate", "nuls", "bom", "overwrite", "duplicate", "zero-tail"])
    if kind == "flip":
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "flips":
        for _ in range(rng.randint(2, 64)):
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    elif kind == "truncate":
        data = data[:rng.randrange(1, len(data))]
    elif kind == "nuls":
        at = rng.randrange(len(data))
        data[at:at] = b"\x00" * rng.choice([1, 16, 4096])
    elif kind == "bom":
        data[0:0] = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"])
    elif kind == "overwrite":
        at = rng.randrange(len(data))
        data[at:at + 64] = bytes(rng.randrange(256) for _ in range(64))
    elif kind == "duplicate":
        at, size = rng.randrange(len(data)), rng.randint(16, 4096)
        data[at:at] = data[at:at + size] * rng.randint(1, 8)
    else:
        at = rng.randrange(len(data))
        data[at:] = bytes(len(data) - at)
    return f"bytes-{kind}", bytes(data)


def _rebuild(entries: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, payload in entries:
            clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            clone.compress_type = info.compress_type
            archive.writestr(clone, payload)
    return buffer.getvalue()


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                            for i in range(1, 10))
                  + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                  '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')


def zip_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    except Exception:  # noqa: BLE001 - not a zip after all: mutate its bytes
        return byte_mutation(rng, data)
    sheet_index = next((i for i, (info, _) in enumerate(entries)
                        if info.filename.startswith("xl/worksheets/") or info.filename == "content.xml"), 0)
    kind = rng.choice(["corrupt-member", "missing-member", "duplicate-member", "lying-size", "encrypted-flag",
                       "unknown-compression", "huge-xml", "deep-xml", "entities", "garbage-xml", "empty-member",
                       "far-ref"])
    if kind == "missing-member":
        del entries[rng.randrange(len(entries))]
        return f"zip-{kind}", _rebuild(entries)
    if kind == "duplicate-member":
        entries.append(entries[rng.randrange(len(entries))])
        return f"zip-{kind}", _rebuild(entries)
    if kind == "empty-member":
        info, _ = entries[sheet_index]
        entries[sheet_index] = (info, b"")
        return f"zip-{kind}", _rebuild(entries)
    if kind in ("huge-xml", "deep-xml", "entities", "garbage-xml", "far-ref"):
        info, payload = entries[sheet_index]
        if kind == "huge-xml":
            payload = payload.replace(b"</sheetData>", b"<row>" + b"<c><v>1</v></c>" * 400_000 + b"</row></sheetData>")
        elif kind == "deep-xml":
            payload = b"<a>" * 200_000 + b"</a>" * 200_000
        elif kind == "entities":
            payload = BILLION_LAUGHS.encode()
        elif kind == "garbage-xml":
            payload = payload[: len(payload) // 2] + b"<<<&&&\x00"
        else:
            payload = payload.replace(b'r="A1"', f'r="{rng.choice(["XFD1048576", "A1048576", "ZZ999999", "XFD1"])}"'
                                      .encode(), 1)
        entries[sheet_index] = (info, payload)
        return f"zip-{kind}", _rebuild(entries)
    rebuilt = bytearray(_rebuild(entries))
    header = rebuilt.find(b"PK\x03\x04", 0 if rng.random() < 0.5 else 30)
    header = header if header >= 0 else 0
    if kind == "corrupt-member":
        offset = header + 30 + struct.unpack_from("<H", rebuilt, header + 26)[0] + 2
        for _ in range(8):
            if offset < len(rebuilt):
                rebuilt[min(offset + rng.randrange(64), len(rebuilt) - 1)] ^= 0xFF
    elif kind == "lying-size":
        struct.pack_into("<I", rebuilt, header + 22, rng.choice([0, 1, 2**31, 2**32 - 1]))
        central = rebuilt.find(b"PK\x01\x02")
        if central >= 0:
            struct.pack_into("<I", rebuilt, central + 24, rng.choice([0, 1, 2**31, 2**32 - 1]))
    elif kind == "encrypted-flag":
        for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = rebuilt.find(signature)
            while start >= 0:
                rebuilt[start + flag_offset] |= 1
                start = rebuilt.find(signature, start + 4)
    else:  # unknown-compression
        for signature, method_offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            start = rebuilt.find(signature)
            while start >= 0:
                struct.pack_into("<H", rebuilt, start + method_offset, 99)
                start = rebuilt.find(signature, start + 4)
    return f"zip-{kind}", bytes(rebuilt)


def geometry_case(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["far-cell", "far-column", "far-row", "many-columns", "many-sheets", "ods-rows-repeated",
                       "ods-columns-repeated", "ods-empty-then-cell", "ods-lo-trailing", "wide-header"])
    rows = [good_row(i) for i in range(rng.randint(1, 5))]
    if kind == "far-cell":
        return kind, project_workbook(rows, far=[("XFD1048576", 2)])
    if kind == "far-column":
        return kind, project_workbook(rows, far=[(f"XFD{rng.randint(1, 50_000)}", 1)])
    if kind == "far-row":
        return kind, project_workbook(rows, far=[(f"A{rng.randint(200_001, 1_048_576)}", 1)])
    if kind == "many-columns":
        return kind, project_workbook(rows, columns=rng.choice([500, 5_000, 16_000]))
    if kind == "many-sheets":
        return kind, project_workbook(rows, sheets=rng.choice([50, 300]))
    if kind == "wide-header":
        return kind, project_workbook([good_row(0) + [1] * rng.choice([100, 2_000])])
    header = "".join(_ods_cell(h) for h in HEADER)
    body = "".join(_ods_cell(v) for v in good_row(1))
    if kind == "ods-rows-repeated":
        table = _ods_row(header) + _ods_row(body, rng.choice([1_000, 250_000, 1_000_000, 2**31 - 1]))
    elif kind == "ods-columns-repeated":
        table = _ods_row(header) + _ods_row(_ods_cell(1, rng.choice([1_000, 16_384, 10**6])),
                                            rng.choice([1, 100, 1_000]))
    elif kind == "ods-empty-then-cell":
        table = (_ods_row(header) + _ods_row('<table:table-cell table:number-columns-repeated="16384"/>', 1_000_000)
                 + _ods_row(body))
    else:
        table = (_ods_row(header) + _ods_row(body + '<table:table-cell table:number-columns-repeated="16000"/>')
                 + _ods_row('<table:table-cell table:number-columns-repeated="16384"/>', 1_048_000))
    return kind, ods_document(table)


def value_case(rng: random.Random) -> tuple[str, bytes]:
    rows = [good_row(i) for i in range(rng.randint(2, 8))]
    formats = {}
    for _ in range(rng.randint(1, 6)):
        row, column = rng.randrange(len(rows)), rng.randrange(len(HEADER))
        value = rng.choice(EXTREME_VALUES)
        if isinstance(value, str) and len(value) > 32_767 and rng.random() < 0.7:
            value = value[:32_767]
        rows[row][column] = value
        if isinstance(value, (int, float)) and rng.random() < 0.5:
            formats[f"{'ABCDEFGHIJ'[column]}{row + 2}"] = "yyyy-mm-dd"
    sheet_name = rng.choice(["Projets", "\\N", "=cmd", "Feuille\u200f", "x" * 31])
    data = project_workbook(rows, formats)
    if sheet_name != "Projets":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data))
        try:
            book.active.title = sheet_name
        except ValueError:
            pass
        buffer = io.BytesIO()
        book.save(buffer)
        data = stable(buffer.getvalue())
    return "values", data


def csv_case(rng: random.Random) -> tuple[str, bytes]:
    separator = rng.choice([";", ",", "\t", "|"])
    rows = [HEADER] + [[str(v) for v in good_row(i)] for i in range(rng.randint(1, 10))]
    kind = rng.choice(["encoding", "unclosed-quote", "long-field", "nul", "mixed-endings", "ragged", "values",
                       "only-separators", "huge-width"])
    if kind == "values":
        for _ in range(rng.randint(1, 5)):
            rows[rng.randint(1, len(rows) - 1)][rng.randrange(len(HEADER))] = str(rng.choice(EXTREME_VALUES))[:200_000]
    if kind == "ragged":
        rows = [row[:rng.randint(1, len(row))] for row in rows]
    text = "\r\n".join(separator.join(f'"{c}"' if rng.random() < 0.2 else c for c in row) for row in rows)
    if kind == "unclosed-quote":
        text = text.replace(separator, separator + '"', 1)
    elif kind == "long-field":
        text += "\r\n" + separator.join(["X-1", "a" * rng.choice([131_073, 1_000_000])])
    elif kind == "nul":
        text = text[:len(text) // 2] + "\x00" + text[len(text) // 2:]
    elif kind == "mixed-endings":
        text = text.replace("\r\n", rng.choice(["\n", "\r", "\n\r"]))
    elif kind == "only-separators":
        text = separator * rng.choice([10, 1_000_000])
    elif kind == "huge-width":
        text = separator.join(HEADER) + "\r\n" + separator * 5_000_000
    encoding = rng.choice(["utf-8", "utf-8-sig", "utf-16", "cp1256", "cp1252", "latin-1"]) if kind == "encoding" \
        else "utf-8"
    return f"csv-{kind}", text.encode(encoding, errors="replace")


def generate_cases(seed: int, count: int, work: Path) -> list[tuple[str, str, bytes]]:
    """``count`` (name, family, bytes), the same for the same seed."""
    with warnings.catch_warnings():  # openpyxl's and zipfile's own warnings while making the files
        warnings.simplefilter("ignore")
        return _generate_cases(seed, count, work)


def _generate_cases(seed: int, count: int, work: Path) -> list[tuple[str, str, bytes]]:
    rng = random.Random(seed)
    seeds = seed_files(work)
    names = sorted(seeds)
    zip_seeds = [n for n in names if seeds[n].startswith(b"PK")]
    cases = []
    makers = [("bytes", 0.30), ("zip", 0.25), ("geometry", 0.12), ("values", 0.18), ("csv", 0.15)]
    for index in range(count):
        case_rng = random.Random(rng.getrandbits(64))
        family = case_rng.choices([m for m, _ in makers], weights=[w for _, w in makers])[0]
        if family == "bytes":
            seed_name = case_rng.choice(names)
            kind, data = byte_mutation(case_rng, seeds[seed_name])
        elif family == "zip":
            seed_name = case_rng.choice(zip_seeds)
            kind, data = zip_mutation(case_rng, seeds[seed_name])
        elif family == "geometry":
            seed_name, (kind, data) = "generated", geometry_case(case_rng)
        elif family == "values":
            seed_name, (kind, data) = "generated", value_case(case_rng)
        else:
            seed_name, (kind, data) = "generated", csv_case(case_rng)
        suffix = Path(seed_name).suffix if seed_name != "generated" else (
            ".csv" if family == "csv" else ".ods" if kind.startswith("ods") else ".xlsx")
        cases.append((f"{index:05d}-{kind}{suffix}", kind, data))
    return cases


# --- running ----------------------------------------------------------------------------------

def check_case(path: Path, report_folder: Path) -> dict:
    """In the harness child: the check path (the reader's own wall inside), summed up."""
    from etl.dry_run import dry_run

    result = dry_run(path, "MA-TAO", "2013", report_folder)
    outcome = "refused" if result.status == "refused" else ("findings" if result.findings_total else "clean")
    return {"outcome": outcome, "status": result.status, "findings": result.findings_total,
            "wall": result.isolated_failure,
            "rule": result.by_rule[0][1] if result.status == "refused" and result.by_rule else None}


def run_cases(cases, work: Path, harness_limits, progress=None, reader: str = "auto") -> list[dict]:
    """Each case through the check in a harness child, read as ``reader`` (a key of READERS) says."""

    saved = os.environ.get("IGA_COLUMNS_FROM_KB")
    if READERS[reader] is not None:
        os.environ["IGA_COLUMNS_FROM_KB"] = READERS[reader]
    try:
        return _run_cases(cases, work, harness_limits, progress)
    finally:
        if saved is None:
            os.environ.pop("IGA_COLUMNS_FROM_KB", None)
        else:
            os.environ["IGA_COLUMNS_FROM_KB"] = saved


def _run_cases(cases, work: Path, harness_limits, progress) -> list[dict]:
    from etl.isolate import ChildError, ChildFailed, run_isolated

    results = []
    for index, (name, kind, data) in enumerate(cases):
        path = work / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        reports = work / "reports"
        started = time.perf_counter()
        try:
            record = run_isolated(check_case, path, reports, limits=harness_limits)
        except ChildError as exc:
            record = {"outcome": "unhandled", "error": f"{exc.type_name}: {exc.message[:200]}"}
        except ChildFailed as exc:
            record = {"outcome": "hang" if exc.what == "timeout" else "memory", "error": exc.detail_fr}
        record.update(name=name, kind=kind, size=len(data), seconds=time.perf_counter() - started)
        results.append(record)
        if record["outcome"] in ("unhandled", "hang", "memory") and progress:
            print(f"  {record['outcome']}: {name}: {record.get('error')}", flush=True)
        path.unlink()
        shutil.rmtree(reports, ignore_errors=True)
        if progress and (index + 1) % progress == 0:
            counts = Counter(r["outcome"] for r in results)
            print(f"  {index + 1}/{len(cases)} " + " ".join(f"{k}={counts[k]}" for k in OUTCOMES), flush=True)
    return results


def summary(results: list[dict]) -> dict:
    counts = Counter(r["outcome"] for r in results)
    times = sorted(r["seconds"] for r in results)
    return {
        "files": len(results), **{k: counts[k] for k in OUTCOMES},
        "refused_by_wall": sum(1 for r in results if r.get("wall")),
        "median_s": round(statistics.median(times), 3) if times else 0,
        "p95_s": round(times[int(0.95 * (len(times) - 1))], 3) if times else 0,
        "max_s": round(times[-1], 3) if times else 0,
        "families": dict(sorted(Counter(r["kind"] for r in results).items())),
        "failures": [r for r in results if r["outcome"] in ("unhandled", "hang", "memory")][:50],
    }


def write_readme(tables: list[dict], readme: Path = REPO / "README.md") -> None:
    """The result table between the fuzz markers of the README, a row per reader."""
    start, end = "<!-- fuzz:start -->", "<!-- fuzz:end -->"
    first = tables[0]
    machine = f"{first['cpus']} cores shared with other work, Python {first['python']}"
    lines = [start, "",
             f"Measured by `make fuzz` (seed {first['seed']}, {first['date']}, {machine}; "
             f"{sum(t['total_s'] for t in tables) / 60:.0f} min in all):", "",
             "| reader | files | refused (by the child wall) | findings | clean | unhandled | hang | memory "
             "| time per file: median / p95 / max |",
             "|---|---|---|---|---|---|---|---|---|"]
    for table in tables:
        lines.append(f"| {READER_LABELS[table['reader']]} | {table['files']:,} | {table['refused']:,} "
                     f"({table['refused_by_wall']}) | {table['findings']:,} | {table['clean']:,} | "
                     f"{table['unhandled']} | {table['hang']} | {table['memory']} | "
                     f"{table['median_s']:.2f} s / {table['p95_s']:.2f} s / {table['max_s']:.2f} s |")
    lines += ["", "Refused by the child wall: `FILE_UNREADABLE` (memory or time), the others by the readers' own "
              "checks. Targets: 0 unhandled, 0 hang, 0 memory, none by the wall; p95 under 2 s.", "", end]
    text = readme.read_text(encoding="utf-8")
    if start in text:
        head, rest = text.split(start, 1)
        readme.write_text(head + "\n".join(lines) + rest.split(end, 1)[1], encoding="utf-8")


READER_LABELS = {"auto": "as the pipeline chooses (these small files: cell by cell)",
                 "columns": "column-wise (`IGA_COLUMNS_FROM_KB=0`)"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "fuzz_results.json")
    parser.add_argument("--no-readme", dest="readme", action="store_false", help="do not update README.md")
    parser.add_argument("--readers", default="auto,columns",
                        help="comma-separated, of: " + ", ".join(READERS) + " (default: both)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # openpyxl's and zipfile's own warnings while making the files
    work = Path(tempfile.mkdtemp(prefix="iga-fuzz-"))
    os.environ["IGA_HOME"] = str(work / "home")  # no warehouse: the check compares within the file
    os.environ.pop("IGA_WAREHOUSE_URL", None)
    try:
        from etl.isolate import WorkerLimits

        wall = WorkerLimits.from_settings()
        harness = WorkerLimits(wall.memory_bytes + 1024 * 1024 * 1024, wall.timeout_s + 30)
        print(f"Generating {args.files} files (seed {args.seed}) ...", flush=True)
        cases = generate_cases(args.seed, args.files, work)
        from etl.examine import examine  # warm: GX, calamine and the reference data, before forking

        warm = work / "warm.xlsx"
        warm.write_bytes(project_workbook([good_row(1)]))
        examine(warm, "MA-TAO", "2013")
        print(f"Running each through the check path (wall: {wall.memory_bytes >> 20} MB, {wall.timeout_s:g} s; "
              f"harness: {harness.memory_bytes >> 20} MB, {harness.timeout_s:g} s) ...", flush=True)
        tables = []
        for reader in args.readers.split(","):
            print(f"Reader: {reader}", flush=True)
            started = time.perf_counter()
            table = summary(run_cases(cases, work, harness, progress=200, reader=reader))
            table.update(reader=reader, seed=args.seed, total_s=round(time.perf_counter() - started, 1),
                         cpus=os.cpu_count(), python=sys.version.split()[0], date=time.strftime("%Y-%m-%d"))
            tables.append(table)
            print(json.dumps({k: v for k, v in table.items() if k not in ("failures", "families")}, indent=1))
            for failure in table["failures"]:
                print("  ", failure)
        args.out.write_text(json.dumps(tables, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        if args.readme:
            write_readme(tables)
        return 0 if not sum(t["unhandled"] + t["hang"] + t["memory"] for t in tables) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
