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
# Headers and labels as clerks type them but as no reference list gives them (an article dropped,
# words reordered, an abbreviation, a plural, one typo): each file writes a share of its columns
# and labels this way, and each must be read and reported as read by resemblance.
UNSEEN_HEADERS = {
    "project_code": {"fr": ["Code du projet AGR", "Réf. du projet", "N° de projet"], "ar": ["رمز مشروع", "رقم مشروع"]},
    "title": {"fr": ["Intitulé de projet", "Intitulés des projets", "Désignation de projet"],
              "ar": ["عنوان مشروع", "اسم مشروع"]},
    "commune": {"fr": ["Commune du projet", "Communes"], "ar": ["جماعة", "الجماعات"]},
    "programme": {"fr": ["Programme INDH concerné", "Prog. INDH"], "ar": ["برنامج", "البرامج"]},
    "sector": {"fr": ["Secteur activité", "Secteurs d'activité"], "ar": ["قطاع", "قطاع النشاط الاقتصادي"]},
    "promoter_type": {"fr": ["Type porteur", "Nature de porteur"], "ar": ["نوع حامل مشروع"]},
    "promoter_name": {"fr": ["Porteur du projet", "Nom de porteur"], "ar": ["حامل مشروع", "اسم حامل مشروع"]},
    "approval_year": {"fr": ["Année d'approb.", "Année approbation", "Annee d'aprobation"],
                      "ar": ["سنة مصادقة", "سنوات المصادقة"]},
    "start_date": {"fr": ["Date démarrage", "Date de démarage"], "ar": ["تاريخ انطلاق", "تاريخ انطلاق المشروع"]},
    "status": {"fr": ["Etat avancement", "Statut du projet"], "ar": ["وضعية", "حالة مشروع"]},
    "total_cost_mad": {"fr": ["Coût globale (DH)", "Mt global (en DH)", "Coût tot. du projet"],
                       "ar": ["كلفة اجمالية (درهم)", "الكلفة الاجمالية للمشاريع"]},
    "indh_contribution_mad": {"fr": ["Contrib. INDH", "Part de l'INDH", "Mt INDH (DH)"],
                              "ar": ["مساهمات المبادرة", "مساهمة مبادرة"]},
    "promoter_contribution_mad": {"fr": ["Contrib. porteur", "Apport porteur", "Contribution de porteur"],
                                  "ar": ["مساهمة حامل مشروع", "مساهمات حامل المشروع"]},
    "partner_contribution_mad": {"fr": ["Autres partenaire", "Contrib. partenaires"], "ar": ["مساهمة شركاء", "مساهمات الشركاء"]},
    "beneficiaries": {"fr": ["Nbre de bénéficiaires", "Nb bénéf."], "ar": ["عدد المستفيدون", "عدد مستفيدين"]},
    "women": {"fr": ["Nbre femmes", "Femmes bénéficiaires"], "ar": ["عدد النساء", "منهم النساء"]},
    "youth": {"fr": ["Nbre jeunes", "Jeunes bénéficiaires"], "ar": ["عدد الشباب", "منهم الشباب"]},
    "jobs_created": {"fr": ["Nbre d'emplois créés", "Emplois créé"], "ar": ["مناصب شغل محدثة", "عدد مناصب الشغل"]},
}
UNSEEN_LABELS = {  # label as typed -> the label of the lists it stands for
    "sector": {"Agriculture": "Agricultur", "Apiculture": "Apicultures", "Artisanat": "Artisanats",
               "Commerce": "Commerces", "Tourisme rural": "Tourism rural", "الخياطة": "الخياطه و الطرز"},
    "status": {"Achevé": "Achevés", "Arrêté": "Arrêtés", "Approuvé": "Approuvés", "في طور الإنجاز": "في طور انجاز"},
    "promoter_type": {"Association": "Assoc.", "Personne physique": "Personnes physiques", "جمعية": "جمعيات",
                      "تعاونية": "تعاونيات"},
    "programme": {"Milieu rural": "Milieu rurale", "Milieu urbain": "Milieu urbaine",
                  "Programme transversal": "Programme transversale", "البرنامج الأفقي": "برنامج الافقي"},
}
UNSEEN_HEADER_SHARE = 0.3  # of each file's columns
UNSEEN_LABEL_SHARE = 0.15  # of each file's label cells
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
    unseen_headers: dict[str, list[str]] = field(default_factory=dict)  # file -> headers no list gives
    unseen_labels: dict[str, set[str]] = field(default_factory=dict)  # file -> labels no list gives

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
                        errors: int, unseen: dict | None = None) -> tuple[Totals, list[int]]:
    """Write one province's workbook; returns the totals of its loadable rows and the wrong rows.

    ``unseen``: when given, a share of the headers and labels are written as no reference list
    gives them, and recorded there (``{"headers": [...], "labels": set()}``)."""
    from openpyxl import Workbook

    province = reference.provinces()[province_code]
    arabic = rng.random() < 0.35
    headers = dict(ARABIC_HEADERS if arabic else FRENCH_HEADERS)
    columns = list(FRENCH_HEADERS)
    if rng.random() < 0.5:  # some provinces order their columns their own way
        head, tail = columns[:4], columns[4:]
        rng.shuffle(tail)
        columns = head + tail
    variants = random.Random(rng.random())  # its own stream: the projects stay those of the seed
    if unseen is not None:
        for column in variants.sample(columns, round(UNSEEN_HEADER_SHARE * len(columns))):
            headers[column] = variants.choice(UNSEEN_HEADERS[column]["ar" if arabic else "fr"])
            unseen["headers"].append(headers[column])
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
        if unseen is not None:
            for domain, labels in UNSEEN_LABELS.items():
                if cells[domain] in labels and variants.random() < UNSEEN_LABEL_SHARE:
                    cells[domain] = labels[cells[domain]]
                    unseen["labels"].add(cells[domain])
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
             errors_per_file: int = 2, unseen_variants: bool = True) -> Expected:
    """Write one workbook per province into ``landing`` and return what the warehouse must hold.

    ``unseen_variants``: a share of each file's headers and labels typed as no list gives them."""
    rng = random.Random(seed)
    expected = Expected()
    for code in provinces or sorted(reference.provinces()):
        # Taounate reported 157 IGA projects for 2005-2013 (provincial study day, June 2013).
        count = 157 if code == "MA-TAO" and period.startswith("2013") else rng.randrange(*rows)
        path = landing / code / period / f"situation_agr_{code[3:].lower()}_{period}.xlsx"
        unseen = {"headers": [], "labels": set()} if unseen_variants else None
        totals, wrong = write_province_file(path, code, period, count, rng, errors_per_file, unseen)
        if unseen is not None:
            expected.unseen_headers[str(path)] = unseen["headers"]
            expected.unseen_labels[str(path)] = unseen["labels"]
        expected.provinces[code] = totals
        expected.files.append(path)
        expected.wrong_rows[str(path)] = wrong
    return expected


# --- Variants: every layout, encoding and format a province really sends -------------------------
#
# ``write_variant`` writes a list of valid projects through one :class:`Layout` and returns the
# canonical rows the reader must give back, cell for cell (amounts in centimes, label codes, Excel
# rows). The property-based tests draw random projects and layouts; the committed fixtures in
# ``tests/fixtures/`` were written by ``write_fixtures``. ``generate()`` above is left as it was.

ENGLISH_HEADERS = {
    "project_code": "Project code", "title": "Project title", "commune": "Municipality",
    "programme": "Programme", "sector": "Sector", "promoter_type": "Promoter type",
    "promoter_name": "Promoter", "approval_year": "Approval year", "start_date": "Start date",
    "status": "Status", "total_cost_mad": "Total cost (MAD)", "indh_contribution_mad": "INDH contribution",
    "promoter_contribution_mad": "Promoter contribution", "partner_contribution_mad": "Partner contribution",
    "beneficiaries": "Beneficiaries", "women": "Women", "youth": "Youth", "jobs_created": "Jobs created",
}
HEADERS = {"fr": FRENCH_HEADERS, "ar": ARABIC_HEADERS, "en": ENGLISH_HEADERS}
# Other ways the same headers are typed (see reference/header_synonyms.csv).
HEADER_VARIANTS = {
    "project_code": ["N° projet", "Code du projet", "Référence projet"],
    "title": ["Intitulé", "Nom du projet", "Désignation du projet"],
    "promoter_name": ["Promoteur", "Bénéficiaire", "Nom du porteur"],
    "total_cost_mad": ["Montant en MAD", "Coût total (Dhs)", "Coût global [DH]", "Montant global en DH"],
    "indh_contribution_mad": ["Part INDH (DH)", "Montant INDH", "Subvention INDH"],
    "promoter_contribution_mad": ["Apport du porteur", "Contribution du promoteur (DH)"],
    "beneficiaries": ["Nb bénéficiaires", "Bénéficiaires"],
    "status": ["Etat d'avancement", "Situation"],
}
# A two-line header: a group title over the amounts and one over the people.
TWO_LINE_GROUPS = {
    "fr": {"total_cost_mad": ("Financement (DH)", "Coût global"),
           "indh_contribution_mad": ("Financement (DH)", "INDH"),
           "promoter_contribution_mad": ("Financement (DH)", "Porteur"),
           "partner_contribution_mad": ("Financement (DH)", "Partenaires"),
           "beneficiaries": ("Bénéficiaires", "Total"), "women": ("Bénéficiaires", "Dont femmes"),
           "youth": ("Bénéficiaires", "Dont jeunes")},
    "ar": {"total_cost_mad": ("التمويل (درهم)", "الكلفة الإجمالية"),
           "indh_contribution_mad": ("التمويل (درهم)", "المبادرة"),
           "promoter_contribution_mad": ("التمويل (درهم)", "حامل المشروع"),
           "partner_contribution_mad": ("التمويل (درهم)", "الشركاء"),
           "beneficiaries": ("المستفيدون", "المجموع"), "women": ("المستفيدون", "النساء"),
           "youth": ("المستفيدون", "الشباب")},
}
TITLES_AR = ["وحدة تثمين الحليب", "ورشة الخياطة", "تربية الماعز", "منحل عصري", "معصرة زيت الزيتون",
             "مخبزة", "مأوى قروي", "وحدة الكسكس", "صناعة الفخار", "نسج الزرابي"]
TOTALS_LABELS = ("Total", "TOTAL GENERAL", "المجموع", "Sous-total", "المجموع العام", "Totaux")
AMOUNT_STYLES = ("number", "fr_space", "fr_dot", "en_comma", "dh", "nbsp", "arabic_digits")
DATE_STYLES = ("date", "dmy", "iso", "serial")
FILE_FORMATS = ("xlsx", "xlsm", "xls", "ods", "csv")
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "cp1256", "utf-16")
CSV_DELIMITERS = (";", ",", "\t")
LABEL_CHOICES = {  # code -> labels as typed, by language (French is used for English files too)
    "sector": {"fr": {"AGRICULTURE": ["Agriculture", "agricole"], "LIVESTOCK": ["Elevage", "Élevage caprin"],
                      "BEEKEEPING": ["Apiculture", "APICULTURE"], "CRAFTS": ["Artisanat"],
                      "TEXTILE": ["Couture", "couture et broderie"], "TRADE": ["Commerce"],
                      "SERVICES": ["Services"], "TOURISM": ["Tourisme rural", "Gîte"]},
               "ar": {"AGRICULTURE": ["الفلاحة"], "LIVESTOCK": ["تربية الماشية"], "BEEKEEPING": ["تربية النحل"],
                      "CRAFTS": ["الصناعة التقليدية"], "TEXTILE": ["الخياطة"], "TRADE": ["تجارة"],
                      "SERVICES": ["خدمات"]}},
    "status": {"fr": {"approved": ["Approuvé", "approuve"], "in_progress": ["En cours", "EN COURS DE RÉALISATION"],
                      "completed": ["Achevé", "Réalisé", "terminé"], "in_difficulty": ["En difficulté"],
                      "stopped": ["Arrêté", "Abandonné"]},
               "ar": {"approved": ["مصادق عليه"], "in_progress": ["في طور الإنجاز", "في طور الانجاز"],
                      "completed": ["منجز"], "in_difficulty": ["متعثر"], "stopped": ["متوقف"]}},
    "promoter_type": {"fr": {"association": ["Association", "ASSOCIATION"], "cooperative": ["Coopérative", "Coop"],
                             "gie": ["GIE", "G.I.E"], "individual": ["Personne physique"]},
                      "ar": {"association": ["جمعية"], "cooperative": ["تعاونية", "تعاونيه"],
                             "gie": ["مجموعة ذات النفع الاقتصادي"], "individual": ["شخص ذاتي"]}},
    "programme": {"fr": {"rural": ["Milieu rural"], "urban": ["Milieu urbain"], "precarity": ["Précarité"],
                         "transversal": ["Programme transversal", "Transversal"], "income": ["Programme 3"]},
                  "ar": {"rural": ["محاربة الفقر بالوسط القروي"], "urban": ["محاربة الإقصاء الاجتماعي بالوسط الحضري"],
                         "precarity": ["محاربة الهشاشة"], "transversal": ["البرنامج الأفقي"],
                         "income": ["البرنامج 3"]}},
}


@dataclass
class Layout:
    """How one clerk's file looks. Every combination is valid input the reader must read exactly."""
    file_format: str = "xlsx"  # xlsx, xlsm, xls, ods, csv
    encoding: str = "utf-8"  # csv only
    delimiter: str = ";"  # csv only
    language: str = "fr"  # fr, ar, en
    header_case: str = "as_typed"  # as_typed, upper, no_accents, spaced
    header_variants: bool = False  # synonyms instead of the usual headers
    columns: list[str] | None = None  # order; None: the canonical order
    title_rows: int = 2
    two_line_header: bool = False
    numbering_column: bool = False  # a leading "N°" column
    blank_column: bool = False  # an empty column between two headers
    blank_every: int = 0  # a blank row after every n projects (0: none)
    section_rows: bool = False  # "Programme transversal" heading rows between projects
    totals_label: str | None = "TOTAL GENERAL"
    amount_styles: tuple[str, ...] = AMOUNT_STYLES
    date_styles: tuple[str, ...] = DATE_STYLES
    cover_sheet: bool = False  # a first sheet with a note (workbooks)
    hidden_sheet: bool = False  # a hidden sheet holding an old copy (xlsx, xls)
    hidden_rows: bool = False  # every fifth row hidden (xlsx): hidden rows are read like the others
    sheet_name: str = "Projets AGR"
    seed: int = 0


def _strip_accents(text: str) -> str:
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def random_projects(rng: random.Random, count: int, province_code: str = "MA-TAO",
                    last_year: int = 2013, language: str = "fr") -> list[dict]:
    """Valid projects with their labels chosen as typed and the codes they must map to."""
    projects = []
    labels_language = "ar" if language == "ar" else "fr"
    for index in range(count):
        year = rng.randrange(2005, last_year + 1)
        row = project_row(rng, f"{province_code[3:]}-{year}-{index + 1:04d}", year)
        for domain in ("sector", "status", "promoter_type", "programme"):
            choices = LABEL_CHOICES[domain][labels_language]
            if domain == "programme":
                choices = {k: v for k, v in choices.items() if reference.programme_code(k, year)}
            code = rng.choice(sorted(choices))
            row[domain] = rng.choice(choices[code])
            row[domain + "_code"] = reference.programme_code(code, year) if domain == "programme" else code
        if language == "ar":
            row["title"] = rng.choice(TITLES_AR)
            row["commune"] = f"جماعة {rng.randrange(1, 40)}"
            row["promoter_name"] = f"تعاونية {rng.randrange(100, 999)}"
        else:
            row["commune"] = f"Commune {rng.randrange(1, 40)}"
            row["promoter_name"] = f"{rng.choice(['Coopérative', 'Association'])} {rng.randrange(100, 999)}"
        projects.append(row)
    return projects


def _amount_text(cents: int, style: str) -> object:
    whole, frac = divmod(cents, 100)
    grouped = f"{whole:,}"
    if style == "number":
        return cents / 100
    if style == "fr_space":
        return grouped.replace(",", " ") + f",{frac:02d}"
    if style == "fr_dot":
        return grouped.replace(",", ".") + f",{frac:02d}"
    if style == "en_comma":
        return f"{grouped}.{frac:02d}"
    if style == "dh":
        return grouped.replace(",", " ") + (f",{frac:02d}" if frac else "") + " DH"
    if style == "nbsp":
        return grouped.replace(",", "\u00a0") + f",{frac:02d}"
    if style == "arabic_digits":
        digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
        return (f"{whole}".translate(digits) + "٫" + f"{frac:02d}".translate(digits))
    raise ValueError(style)


def _date_cell(date: dt.date, style: str) -> object:
    if style == "date":
        return date
    if style == "dmy":
        return date.strftime("%d/%m/%Y")
    if style == "iso":
        return date.isoformat()
    if style == "serial":
        return (date - EXCEL_EPOCH_DATE).days
    raise ValueError(style)


EXCEL_EPOCH_DATE = dt.date(1899, 12, 30)


def _header_text(column: str, layout: Layout, rng: random.Random) -> str:
    text = HEADERS[layout.language][column]
    if layout.header_variants and layout.language == "fr" and column in HEADER_VARIANTS:
        text = rng.choice(HEADER_VARIANTS[column])
    if layout.header_case == "upper":
        text = text.upper()
    elif layout.header_case == "no_accents":
        text = _strip_accents(text)
    elif layout.header_case == "spaced":
        text = "  " + text.replace(" ", "   ") + " "
    return text


def layout_grid(projects: list[dict], layout: Layout, province_code: str = "MA-TAO",
                period: str = "2013") -> tuple[list[list[object]], list[dict], list[tuple[int, int, int, int]]]:
    """The cells of the project sheet, the rows the reader must return, and the merged ranges."""
    rng = random.Random(layout.seed)
    columns = list(layout.columns or FRENCH_HEADERS)
    lead = ["N°"] if layout.numbering_column else []
    if layout.blank_column:
        columns.insert(len(columns) // 2, None)
    province = reference.provinces()[province_code]
    width = len(lead) + len(columns)
    grid: list[list[object]] = []
    merged: list[tuple[int, int, int, int]] = []
    titles = [
        "Royaume du Maroc — Ministère de l'Intérieur — INDH" if layout.language != "ar"
        else "المملكة المغربية — وزارة الداخلية — المبادرة الوطنية للتنمية البشرية",
        f"Province de {province['name_fr']}" if layout.language != "ar" else f"إقليم {province['name_ar']}",
        f"Situation des projets AGR — période {period}",
        "(montants en dirhams)",
    ]
    for i in range(layout.title_rows):
        grid.append([titles[i % len(titles)]] + [None] * (width - 1))
        merged.append((len(grid) - 1, 0, len(grid) - 1, width - 1))
    if layout.title_rows:
        grid.append([None] * width)
    groups = TWO_LINE_GROUPS.get("ar" if layout.language == "ar" else "fr") if layout.two_line_header else None
    if groups:
        upper: list[object] = list(lead)
        lower: list[object] = [None] * len(lead)
        previous = None
        for index, column in enumerate(columns):
            position = len(lead) + index
            if column in groups:
                group, child = groups[column]
                upper.append(group if group != previous else None)
                if group == previous:
                    start = merged[-1]
                    merged[-1] = (start[0], start[1], start[2], position)
                else:
                    merged.append((len(grid), position, len(grid), position))
                lower.append(child)
                previous = group
            else:
                upper.append(None if column is None else _header_text(column, layout, rng))
                lower.append(None)
                previous = None
        merged = [m for m in merged if m[1] != m[3] or m[0] < len(grid)]
        grid.append(upper)
        grid.append(lower)
    else:
        grid.append(lead + [None if c is None else _header_text(c, layout, rng) for c in columns])
    expected: list[dict] = []
    sections = LABEL_CHOICES["programme"]["ar" if layout.language == "ar" else "fr"]
    for number, project in enumerate(projects, start=1):
        if layout.section_rows and number % 7 == 1:
            heading = [None] * width
            heading[len(lead)] = rng.choice(sorted(v[0] for v in sections.values()))
            grid.append(heading)
        cells = dict(project)
        for amount in ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                       "partner_contribution_mad"):
            cells[amount] = _amount_text(project[amount], rng.choice(layout.amount_styles))
        cells["start_date"] = _date_cell(project["start_date"], rng.choice(layout.date_styles))
        choice = rng.randrange(4)
        cells["approval_year"] = project["approval_year"] if choice < 2 else (
            str(project["approval_year"]) if choice == 2 else str(project["approval_year"]).translate(
                str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
        if rng.random() < 0.2:
            cells["beneficiaries"] = str(project["beneficiaries"])
        grid.append([number] * bool(lead) + [None if c is None else cells[c] for c in columns])
        expected.append(expected_row(project, len(grid)))
        if layout.blank_every and number % layout.blank_every == 0:
            grid.append([None] * width)
    if layout.totals_label:
        footer = [None] * width
        for amount in ("total_cost_mad", "indh_contribution_mad"):
            footer[len(lead) + columns.index(amount)] = sum(p[amount] for p in projects) / 100
        # The label goes in the first cell that is not a sum (the "N°" column when there is one).
        footer[next(i for i, v in enumerate(footer) if v is None)] = layout.totals_label
        grid.append(footer)
    return grid, expected, merged


def expected_row(project: dict, excel_row: int) -> dict:
    """The canonical values the reader must return for one written project."""
    return {
        "excel_row": excel_row, "project_code": project["project_code"],
        "title": " ".join(project["title"].split()), "commune": project["commune"],
        "promoter_name": project["promoter_name"], "approval_year": project["approval_year"],
        "start_date": project["start_date"],
        **{k: project[k] for k in ("total_cost_mad", "indh_contribution_mad", "promoter_contribution_mad",
                                   "partner_contribution_mad", "beneficiaries", "women", "youth",
                                   "jobs_created")},
        "sector_code": project["sector_code"], "status_code": project["status_code"],
        "promoter_type_code": project["promoter_type_code"], "programme_code": project["programme_code"],
    }


def write_variant(path: Path, projects: list[dict], layout: Layout, province_code: str = "MA-TAO",
                  period: str = "2013") -> list[dict]:
    """Write the projects through one layout and format; returns the rows the reader must return."""
    grid, expected, merged = layout_grid(projects, layout, province_code, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    writers = {"xlsx": _write_xlsx, "xlsm": _write_xlsm, "xls": _write_xls, "ods": _write_ods,
               "csv": _write_csv}
    writers[layout.file_format](path, grid, merged, layout)
    for row in expected:
        row["sheet"] = path.stem if layout.file_format == "csv" else layout.sheet_name
    return expected


def _cover(layout: Layout) -> list[list[object]]:
    return [["Note de présentation"], [None], ["Ce classeur contient la situation des projets AGR."]]


def _write_xlsx(path: Path, grid, merged, layout: Layout) -> None:
    from openpyxl import Workbook

    book = Workbook()
    cover = book.active
    if layout.cover_sheet:
        cover.title = "Présentation"
        for row in _cover(layout):
            cover.append(row)
        sheet = book.create_sheet(layout.sheet_name)
    else:
        sheet = cover
        sheet.title = layout.sheet_name
    for row in grid:
        sheet.append(row)
    for top, left, bottom, right in merged:
        if (top, left) != (bottom, right):
            sheet.merge_cells(start_row=top + 1, start_column=left + 1, end_row=bottom + 1, end_column=right + 1)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    if layout.hidden_rows:
        for number in range(5, len(grid) + 1, 5):
            sheet.row_dimensions[number].hidden = True
    if layout.hidden_sheet:
        old = book.create_sheet("Ancienne version")
        for row in grid:
            old.append(row)
        old.sheet_state = "hidden"
    book.save(path)


def _write_xlsm(path: Path, grid, merged, layout: Layout) -> None:
    """An xlsx made macro-enabled: the content type of a .xlsm and a VBA project part."""
    import io
    import zipfile

    buffer = io.BytesIO()
    plain = path.with_name(path.name + ".tmp.xlsx")
    _write_xlsx(plain, grid, merged, layout)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            target.writestr(item, data)
        # A macro that would delete files if anything ran it: the reader must only read cells.
        target.writestr("xl/vbaProject.bin", b"Sub Workbook_Open(): Kill \"C:\\*.*\": End Sub")
    plain.unlink()
    path.write_bytes(buffer.getvalue())


def _write_xls(path: Path, grid, merged, layout: Layout) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    if layout.cover_sheet:
        cover = book.add_sheet("Présentation")
        for r, row in enumerate(_cover(layout)):
            for c, value in enumerate(row):
                if value is not None:
                    cover.write(r, c, value)
    sheet = book.add_sheet(layout.sheet_name[:31])
    merged_starts = {(t, l): (b, r) for t, l, b, r in merged if (t, l) != (b, r)}
    covered = {(rr, cc) for (t, l), (b, r) in merged_starts.items()
               for rr in range(t, b + 1) for cc in range(l, r + 1)} - set(merged_starts)
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if (r, c) in covered:
                continue
            style = date_style if isinstance(value, dt.date) else xlwt.Style.default_style
            if (r, c) in merged_starts:
                b, rr = merged_starts[(r, c)]
                sheet.write_merge(r, b, c, rr, value, style)
            elif value is not None:
                sheet.write(r, c, value, style)
    if layout.hidden_sheet:
        old = book.add_sheet("Ancienne version")
        old.visibility = 1
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if value is not None and not isinstance(value, dt.date):
                    old.write(r, c, value)
    book.save(str(path))


def _ods_cell(value: object) -> str:
    from xml.sax.saxutils import escape, quoteattr

    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool) or not isinstance(value, (int, float, dt.date, str)):
        value = str(value)
    if isinstance(value, dt.date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value.strftime('%d/%m/%Y')}</text:p></table:table-cell>")
    if isinstance(value, (int, float)):
        return (f'<table:table-cell office:value-type="float" office:value={quoteattr(repr(value))}>'
                f"<text:p>{value}</text:p></table:table-cell>")
    lines = "".join(f"<text:p>{escape(line)}</text:p>" for line in value.split("\n"))
    return f'<table:table-cell office:value-type="string">{lines}</table:table-cell>'


def _write_ods(path: Path, grid, merged, layout: Layout) -> None:
    """A minimal OpenDocument spreadsheet (what LibreOffice Calc saves), written without a library."""
    import zipfile
    from xml.sax.saxutils import quoteattr

    def table(name: str, rows) -> str:
        body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
                       for row in rows)
        return f"<table:table table:name={quoteattr(name)}>{body}</table:table>"

    tables = (table("Présentation", _cover(layout)) if layout.cover_sheet else "") + table(layout.sheet_name, grid)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)


def _csv_text(value: object, encoding: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    if encoding in ("cp1252", "cp1256"):
        try:
            text.encode(encoding)
        except UnicodeEncodeError:  # a legacy encoding cannot hold Arabic-Indic digits: use 0-9
            text = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩٫", "0123456789,"))
    return text


def _write_csv(path: Path, grid, merged, layout: Layout) -> None:
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=layout.delimiter, lineterminator="\r\n")
    for row in grid:
        writer.writerow([_csv_text(v, layout.encoding) for v in row])
    path.write_bytes(buffer.getvalue().encode(layout.encoding))
