"""Reference data from the versioned files in ``reference/``: provinces, labels, header synonyms, rules.

The same files are synced into the warehouse's ``ref`` schema by the migrations; the reader uses
the files directly so that ``iga check`` works without a warehouse.
"""
from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass

from etl.config import REFERENCE_DIR

_ARABIC_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": None,  # tatweel
})
_NON_WORD = re.compile(r"[^0-9a-z\u0600-\u06ff]+")


def text_key(value: object) -> str:
    """Fold a label the way people mistype it: case, accents, Arabic letter variants, punctuation."""
    text = unicodedata.normalize("NFKD", str(value).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_FOLD)
    return _NON_WORD.sub(" ", text).strip()


def read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@functools.cache
def provinces() -> dict[str, dict[str, str]]:
    return {row["province_code"]: row for row in read_csv("provinces.csv")}


@functools.cache
def province_lookup() -> dict[str, str]:
    """text_key(any known spelling or code) -> ISO province code."""
    lookup: dict[str, str] = {}
    for code, row in provinces().items():
        for name in (code, code.removeprefix("MA-"), row["name_fr"], row["name_ar"]):
            lookup[text_key(name)] = code
    for row in read_csv("province_aliases.csv"):
        lookup[text_key(row["alias"])] = row["province_code"]
    return lookup


def find_province(value: object) -> str | None:
    return province_lookup().get(text_key(value))


LABEL_TABLES = {
    "sector": ("sectors.csv", "sector_code"),
    "status": ("statuses.csv", "status_code"),
    "promoter_type": ("promoter_types.csv", "promoter_type_code"),
}


@functools.cache
def label_lookup(domain: str) -> dict[str, str]:
    """text_key(label) -> canonical code for one domain (sector, status, promoter_type, programme_kind)."""
    lookup: dict[str, str] = {}
    if domain in LABEL_TABLES:
        file_name, key = LABEL_TABLES[domain]
        for row in read_csv(file_name):
            for name in (row[key], row["name_fr"], row["name_ar"]):
                lookup[text_key(name)] = row[key]
    elif domain == "programme_kind":
        for row in read_csv("programmes.csv"):
            for name in (row["kind"], row["name_fr"], row["name_ar"]):
                lookup.setdefault(text_key(name), row["kind"])
    for row in read_csv("label_aliases.csv"):
        if row["domain"] == domain:
            lookup[text_key(row["label"])] = row["code"]
    return lookup


@functools.cache
def programmes() -> list[dict[str, str]]:
    return read_csv("programmes.csv")


def programme_code(kind: str, approval_year: int | None) -> str | None:
    """The programme of that kind in force in the approval year (phases 1-3)."""
    candidates = [p for p in programmes() if p["kind"] == kind]
    if approval_year is not None:
        for p in candidates:
            last = int(p["last_year"]) if p["last_year"] else 9999
            if int(p["first_year"]) <= approval_year <= last:
                return p["programme_code"]
        return None
    return candidates[0]["programme_code"] if len(candidates) == 1 else None


@functools.lru_cache(maxsize=256)
def phase_of_year(year: int) -> int | None:
    """The INDH phase an approval year falls in (programmes.csv), None outside every phase."""
    for p in programmes():
        if int(p["first_year"]) <= year <= (int(p["last_year"]) if p["last_year"] else 9999):
            return int(p["phase"])
    return None


@functools.cache
def header_lookup() -> dict[str, str]:
    """text_key(header) -> canonical column name."""
    return {text_key(row["synonym"]): row["column"] for row in read_csv("header_synonyms.csv")}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    scope: str
    message_fr: str
    message_ar: str


@functools.cache
def rules() -> dict[str, Rule]:
    return {row["rule_id"]: Rule(**row) for row in read_csv("rules.csv")}


@functools.cache
def rule_summaries() -> dict[str, dict[str, str]]:
    """rule_id -> its heading by language ("fr", "ar") for a group of its findings, for the rules
    whose messages name figures (rule_summaries.csv), where eliding them would leave "… DH"."""
    return {row["rule_id"]: {"fr": row["summary_fr"], "ar": row["summary_ar"]}
            for row in read_csv("rule_summaries.csv")}
