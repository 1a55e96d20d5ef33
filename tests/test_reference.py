import csv

import pytest

from etl import reference
from etl.config import REFERENCE_DIR
from etl.periods import period_end

pytestmark = pytest.mark.unit


def test_twelve_regions_and_seventy_five_provinces():
    regions = {r["region_code"] for r in reference.read_csv("regions.csv")}
    provinces = reference.provinces()
    assert len(regions) == 12
    assert len(provinces) == 75
    assert {p["region_code"] for p in provinces.values()} == regions
    assert all(p["name_ar"] and p["name_fr"] for p in provinces.values())


@pytest.mark.parametrize("code, region", [
    ("MA-CHT", "MA-09"),  # Chtouka-Aït Baha is in Souss-Massa (some public copies get it wrong)
    ("MA-NOU", "MA-06"),  # Nouaceur is in Casablanca-Settat
    ("MA-TAO", "MA-03"), ("MA-BER", "MA-02"), ("MA-ERR", "MA-08"), ("MA-CHE", "MA-01"),
])
def test_provinces_sit_in_the_right_region(code, region):
    assert reference.provinces()[code]["region_code"] == region


@pytest.mark.parametrize("typed, code", [
    ("Taounate", "MA-TAO"), ("TAOUNATE ", "MA-TAO"), ("تاونات", "MA-TAO"), ("MA-TAO", "MA-TAO"),
    ("Béni-Mellal", "MA-BEM"), ("beni mellal", "MA-BEM"), ("Dakhla", "MA-OUD"), ("Fez", "MA-FES"),
    ("El Kelaa des Sraghna", "MA-KES"), ("Chtouka Ait Baha", "MA-CHT"), ("الداخلة", "MA-OUD"),
])
def test_provinces_are_found_by_the_names_people_type(typed, code):
    assert reference.find_province(typed) == code


def test_aliases_point_to_known_provinces():
    with open(REFERENCE_DIR / "province_aliases.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row["province_code"] in reference.provinces(), row


def test_labels_map_to_known_codes():
    sectors = {r["sector_code"] for r in reference.read_csv("sectors.csv")}
    statuses = {r["status_code"] for r in reference.read_csv("statuses.csv")}
    promoters = {r["promoter_type_code"] for r in reference.read_csv("promoter_types.csv")}
    kinds = {p["kind"] for p in reference.programmes()}
    for domain, known in (("sector", sectors), ("status", statuses), ("promoter_type", promoters),
                          ("programme_kind", kinds)):
        assert set(reference.label_lookup(domain).values()) <= known, domain


def test_programme_phase_follows_the_approval_year():
    assert reference.programme_code("transversal", 2008) == "P1_TRANSVERSAL"
    assert reference.programme_code("transversal", 2013) == "P2_TRANSVERSAL"
    assert reference.programme_code("income", 2021) == "P3_INCOME"
    assert reference.programme_code("territorial", 2008) is None
    assert reference.programme_code("income", None) == "P3_INCOME"
    assert reference.programme_code("rural", None) is None


def test_every_rule_has_both_languages():
    for rule in reference.rules().values():
        assert rule.severity in {"error", "warning", "info"}
        assert rule.message_fr.strip() and rule.message_ar.strip()
        assert any("\u0600" <= ch <= "\u06ff" for ch in rule.message_ar)


def test_periods():
    import datetime as dt

    assert period_end("2013") == dt.date(2013, 12, 31)
    assert period_end("2013-Q2") == dt.date(2013, 6, 30)
    assert period_end("2013-q4") == dt.date(2013, 12, 31)
    assert period_end("2012-02") == dt.date(2012, 2, 29)
    for bad in ("2013-13", "13", "2013-Q5", "1999", "2013/06"):
        assert period_end(bad) is None, bad
