"""Sample provincial files written the way clerks write them, with the totals they must produce.

Each file has a title block with merged cells, French or Arabic headers (units in brackets, columns
in a province's own order), amounts as numbers or as text ("1 250 000,00", "1.250.000,00 DH"),
dates as Excel dates or text, a totals row, and a few wrong rows. The generator knows which rows
are wrong, so it returns the exact totals the warehouse must end with for each province.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from etl import reference

FRENCH_HEADERS = {
    "project_code": "Code projet", "title": "Intitulé du projet", "commune": "Commune",
    "programme": "Programme", "sector": "Secteur d'activité", "promoter_type": "Type de porteur",
    "promoter_name": "Porteur de projet", "approval_year": "Année d'approbation",
    "start_date": "Date de démarrage", "status": "Statut / Etat d'avancement",
    "total_cost_mad": "Coût global (DH)", "indh_contribution_mad": "Contribution INDH",
    "promoter_contribution_mad": "Contribution porteur", "partner_contribution_mad": "Autres partenaires",
    "beneficiaries": "Nombre de bénéficiaires", "women": "Dont femmes", "youth": "Dont jeunes",
    "jobs_created": "Emplois créés",
}
ARABIC_HEADERS = {
    "project_code": "رمز المشروع", "title": "عنوان المشروع", "commune": "الجماعة", "programme": "البرنامج",
    "sector": "القطاع", "promoter_type": "نوع حامل المشروع", "promoter_name": "حامل المشروع",
    "approval_year": "سنة المصادقة", "start_date": "تاريخ الانطلاق", "status": "الوضعية",
    "total_cost_mad": "الكلفة الإجمالية (درهم)", "indh_contribution_mad": "مساهمة المبادرة الوطنية للتنمية البشرية",
    "promoter_contribution_mad": "مساهمة حامل المشروع", "partner_contribution_mad": "مساهمة الشركاء",
    "beneficiaries": "عدد المستفيدين", "women": "منهم نساء", "youth": "منهم شباب",
    "jobs_created": "مناصب الشغل المحدثة",
}
SECTORS_FR = ["Agriculture", "Elevage", "Apiculture", "Produits du terroir", "Artisanat", "Couture",
              "Commerce", "Services", "Tourisme rural"]
SECTORS_AR = ["الفلاحة", "تربية الماشية", "تربية النحل", "الصناعة التقليدية", "الخياطة", "تجارة", "خدمات"]
STATUSES_FR = ["Approuvé", "En cours", "Achevé", "En difficulté", "Arrêté"]
STATUSES_AR = ["مصادق عليه", "في طور الإنجاز", "منجز", "متعثر", "متوقف"]
PROMOTERS_FR = ["Association", "Coopérative", "GIE", "Personne physique"]
PROMOTERS_AR = ["جمعية", "تعاونية", "مجموعة ذات النفع الاقتصادي", "شخص ذاتي"]
PROGRAMMES_FR = ["Milieu rural", "Milieu urbain", "Précarité", "Programme transversal"]
PROGRAMMES_AR = ["محاربة الفقر بالوسط القروي", "محاربة الإقصاء الاجتماعي بالوسط الحضري", "محاربة الهشاشة", "البرنامج الأفقي"]
ACTIVITIES = ["Unité de valorisation du lait", "Atelier de couture", "Élevage caprin", "Rucher moderne",
              "Pressoir d'huile d'olive", "Boulangerie", "Gîte rural", "Unité de couscous", "Poterie",
              "Tissage de tapis", "Cyber-espace", "Transport scolaire"]
# Errors a clerk makes; each makes the row impossible to load (see DESIGN.md, severity "error").
ERROR_KINDS = ("negative_amount", "indh_above_total", "women_above_beneficiaries", "missing_code",
               "year_out_of_range", "amount_not_a_number")


@dataclass
class Totals:
    projects: int = 0
    total_cost_cents: int = 0
    indh_contribution_cents: int = 0
    promoter_contribution_cents: int = 0
    partner_contribution_cents: int = 0
    beneficiaries: int = 0
    women: int = 0
    youth: int = 0
    jobs_created: int = 0

    def add(self, row: dict) -> None:
        self.projects += 1
        self.total_cost_cents += row["total_cost_mad"]
        self.indh_contribution_cents += row["indh_contribution_mad"]
        self.promoter_contribution_cents += row["promoter_contribution_mad"]
        self.partner_contribution_cents += row["partner_contribution_mad"]
        for key in ("beneficiaries", "women", "youth", "jobs_created"):
            setattr(self, key, getattr(self, key) + row[key])


@dataclass
class Expected:
    provinces: dict[str, Totals] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    wrong_rows: dict[str, list[int]] = field(default_factory=dict)  # file -> Excel rows refused

    @property
    def national(self) -> Totals:
        total = Totals()
        for t in self.provinces.values():
            for key, value in asdict(t).items():
                setattr(total, key, getattr(total, key) + value)
        return total


def project_row(rng: random.Random, code: str, year: int) -> dict:
    """One valid project, amounts in centimes, parts adding up to the total."""
    total = rng.randrange(40_000, 600_000) * 100 + rng.choice([0, 0, 0, 50, 25])
    promoter = -(-total * rng.choice([30, 30, 32, 35, 40]) // 100)  # at least the share, never under
    partner = rng.choice([0, 0, total // 10])
    indh = total - promoter - partner
    beneficiaries = rng.randrange(5, 60)
    return {
        "project_code": code, "total_cost_mad": total, "indh_contribution_mad": indh,
        "promoter_contribution_mad": promoter, "partner_contribution_mad": partner,
        "beneficiaries": beneficiaries, "women": rng.randrange(0, beneficiaries + 1),
        "youth": rng.randrange(0, beneficiaries + 1), "jobs_created": rng.randrange(1, 15),
        "approval_year": year, "start_date": dt.date(year, rng.randrange(1, 13), rng.randrange(1, 29)),
        "title": rng.choice(ACTIVITIES),
    }


def amount_cell(rng: random.Random, cents: int) -> object:
    whole, frac = divmod(cents, 100)
    style = rng.randrange(5)
    if style == 0:
        return cents / 100
    grouped = f"{whole:,}"
    if style == 1:
        return grouped.replace(",", " ") + f",{frac:02d}"
    if style == 2:
        return grouped.replace(",", ".") + f",{frac:02d} DH"
    if style == 3:
        return grouped.replace(",", "\u00a0") + (f",{frac:02d}" if frac else "")
    return f"{grouped}.{frac:02d}"


def spoil(rng: random.Random, row: dict, kind: str, cells: dict) -> None:
    """Make one kind of error in a row's cells."""
    if kind == "negative_amount":
        cells["promoter_contribution_mad"] = -row["promoter_contribution_mad"] / 100
    elif kind == "indh_above_total":
        cells["indh_contribution_mad"] = (row["total_cost_mad"] + 1_000_000) / 100
    elif kind == "women_above_beneficiaries":
        cells["women"] = row["beneficiaries"] + 3
    elif kind == "missing_code":
        cells["project_code"] = None
    elif kind == "year_out_of_range":
        cells["approval_year"] = 2003
    elif kind == "amount_not_a_number":
        cells["total_cost_mad"] = "à compléter"


def write_province_file(path: Path, province_code: str, period: str, rows: int, rng: random.Random,
                        errors: int) -> tuple[Totals, list[int]]:
    """Write one province's workbook; returns the totals of its loadable rows and the wrong rows."""
    from openpyxl import Workbook

    province = reference.provinces()[province_code]
    arabic = rng.random() < 0.35
    headers = ARABIC_HEADERS if arabic else FRENCH_HEADERS
    columns = list(FRENCH_HEADERS)
    if rng.random() < 0.5:  # some provinces order their columns their own way
        head, tail = columns[:4], columns[4:]
        rng.shuffle(tail)
        columns = head + tail
    last_year = int(period[:4])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "مشاريع" if arabic else "Projets AGR"
    title = (f"المبادرة الوطنية للتنمية البشرية — عمالة/إقليم {province['name_ar']}" if arabic
             else f"INDH — Province de {province['name_fr']} — Division de l'Action Sociale")
    sheet.append([title])
    sheet.append([f"Situation des projets AGR — période {period}"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    sheet.append([])
    sheet.append([headers[c] for c in columns])
    totals = Totals()
    wrong: list[int] = []
    error_rows = set(rng.sample(range(rows), min(errors, rows)))
    shown = Totals()
    for index in range(rows):
        code = f"{province_code[3:]}-{last_year}-{index + 1:04d}"
        row = project_row(rng, code, rng.randrange(2005, last_year + 1))
        cells = {
            "project_code": code, "title": row["title"],
            "commune": f"Commune {rng.randrange(1, 30)}",
            "programme": rng.choice(PROGRAMMES_AR if arabic else PROGRAMMES_FR),
            "sector": rng.choice(SECTORS_AR if arabic else SECTORS_FR),
            "promoter_type": rng.choice(PROMOTERS_AR if arabic else PROMOTERS_FR),
            "promoter_name": f"{'تعاونية' if arabic else 'Coopérative'} {rng.randrange(100, 999)}",
            "approval_year": row["approval_year"] if rng.random() < 0.8 else str(row["approval_year"]),
            "start_date": row["start_date"] if rng.random() < 0.5 else row["start_date"].strftime("%d/%m/%Y"),
            "status": rng.choice(STATUSES_AR if arabic else STATUSES_FR),
            "beneficiaries": row["beneficiaries"], "women": row["women"], "youth": row["youth"],
            "jobs_created": row["jobs_created"],
        }
        for amount in ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                       "partner_contribution_mad"):
            cells[amount] = amount_cell(rng, row[amount])
        if index in error_rows:
            spoil(rng, row, ERROR_KINDS[len(wrong) % len(ERROR_KINDS)], cells)
            wrong.append(sheet.max_row + 1)
        else:
            totals.add(row)
        shown.add(row)
        sheet.append([cells[c] for c in columns])
    totals_label = "المجموع" if arabic else "TOTAL GENERAL"
    footer = {c: None for c in columns}
    footer[columns[0]] = totals_label
    footer["total_cost_mad"] = shown.total_cost_cents / 100
    footer["indh_contribution_mad"] = shown.indh_contribution_cents / 100
    footer["beneficiaries"] = shown.beneficiaries
    sheet.append([footer[c] for c in columns])
    if not path.exists():  # a file already dropped stays byte-identical: a second demo is a no-op
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        workbook.save(partial)
        partial.replace(path)
    return totals, wrong


def generate(landing: Path, *, seed: int = 2013, period: str = "2013",
             provinces: list[str] | None = None, rows: tuple[int, int] = (8, 40),
             errors_per_file: int = 2) -> Expected:
    """Write one workbook per province into ``landing`` and return what the warehouse must hold."""
    rng = random.Random(seed)
    expected = Expected()
    for code in provinces or sorted(reference.provinces()):
        # Taounate reported 157 IGA projects for 2005-2013 (provincial study day, June 2013).
        count = 157 if code == "MA-TAO" and period.startswith("2013") else rng.randrange(*rows)
        path = landing / code / period / f"situation_agr_{code[3:].lower()}_{period}.xlsx"
        totals, wrong = write_province_file(path, code, period, count, rng, errors_per_file)
        expected.provinces[code] = totals
        expected.files.append(path)
        expected.wrong_rows[str(path)] = wrong
    return expected
