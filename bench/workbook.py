"""A large provincial workbook for the benchmarks: 20 columns, the clerk's mix of typed values.

Amounts are numbers or text ("1 250 000,00", "1.250.000,00 DH", non-breaking spaces), dates are
Excel dates or "12/03/2010" text, 1 % of the rows carry an error, and a title block sits above the
header. Written with openpyxl's streaming writer so a million rows fit in memory.
"""
from __future__ import annotations

import random
from pathlib import Path

from etl.sample import ERROR_KINDS, FRENCH_HEADERS, amount_cell, project_row, spoil

COLUMNS = ["N°", *FRENCH_HEADERS.values(), "Observations"]  # 20 columns


UNKNOWN_SECTOR = "Pêche au large"  # in no reference list: a W_LABEL_UNKNOWN warning on its row


def write_big_workbook(path: Path, rows: int, seed: int = 100_000, warn_every_row: bool = False) -> int:
    """Write ``rows`` project rows; returns how many of them are wrong (1 %).

    With ``warn_every_row`` each row also carries one warning of its own: a sector no list knows
    on even rows, no title on odd ones. Half a column each, so no warning is the column-wide root
    cause that the report says once at the header: one finding per row, the report's worst case.
    """
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Projets AGR")
    sheet.append(["Royaume du Maroc — Ministère de l'Intérieur — INDH"])
    sheet.append(["Province de Taounate — situation des projets AGR"])
    sheet.append([])
    sheet.append(COLUMNS)
    wrong = 0
    for index in range(rows):
        code = f"TAO-{index + 1:07d}"
        row = project_row(rng, code, rng.randrange(2005, 2014))
        cells = {
            "project_code": code, "title": None if warn_every_row and index % 2 else row["title"],
            "commune": f"Commune {rng.randrange(1, 40)}",
            "programme": rng.choice(["Milieu rural", "Programme transversal", "Précarité"]),
            "sector": UNKNOWN_SECTOR if warn_every_row and not index % 2 else rng.choice(
                ["Agriculture", "Elevage", "Artisanat", "Couture", "Services"]),
            "promoter_type": rng.choice(["Association", "Coopérative", "GIE"]),
            "promoter_name": f"Coopérative {rng.randrange(100, 9999)}",
            "approval_year": row["approval_year"],
            "start_date": row["start_date"] if index % 2 else row["start_date"].strftime("%d/%m/%Y"),
            "status": rng.choice(["Approuvé", "En cours", "Achevé", "En difficulté"]),
            "beneficiaries": row["beneficiaries"], "women": row["women"], "youth": row["youth"],
            "jobs_created": row["jobs_created"],
        }
        for amount in ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                       "partner_contribution_mad"):
            cells[amount] = amount_cell(rng, row[amount])
        if index % 100 == 99:
            spoil(rng, row, ERROR_KINDS[wrong % len(ERROR_KINDS)], cells)
            wrong += 1
        sheet.append([index + 1, *(cells[c] for c in FRENCH_HEADERS), ""])
    sheet.append(["", "TOTAL GENERAL"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return wrong
