import datetime as dt

import pytest

from etl.values import parse_amount, parse_code, parse_count, parse_date, parse_year

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("typed, cents", [
    ("1 250 000,00", 125_000_000),
    ("1.250.000,00", 125_000_000),
    ("1,250,000.00", 125_000_000),
    ("1 250 000 DH", 125_000_000),
    ("1\u00a0250\u00a0000,50", 125_000_050),
    ("١٢٥٠٠٠٠", 125_000_000),
    ("12,5", 1_250),
    ("1.250", 125_000),
    (1250000.0, 125_000_000),
    (1234.56, 123_456),
    (0.1 + 0.2, 30),
    (42, 4_200),
    ("-500", -50_000),
    ("(300)", -30_000),
    ("2 500 MAD", 250_000),
])
def test_amounts_are_read_exactly_in_centimes(typed, cents):
    assert parse_amount(typed) == (cents, None)


@pytest.mark.parametrize("typed", ["abc", "à compléter", "12,5,3", "1.2.3,4", True, "1.250.00"])
def test_unreadable_amounts_are_reported_not_zeroed(typed):
    assert parse_amount(typed) == (None, "E_AMOUNT_INVALID")


@pytest.mark.parametrize("blank", [None, "", "   ", float("nan")])
def test_empty_amount_is_empty_not_zero(blank):
    assert parse_amount(blank) == (None, None)


def test_counts():
    assert parse_count("12") == (12, None)
    assert parse_count(3.0) == (3, None)
    assert parse_count("1 200") == (1200, None)
    assert parse_count("٣٥") == (35, None)
    assert parse_count("3,5") == (None, "E_COUNT_INVALID")
    assert parse_count(-2) == (None, "E_COUNT_INVALID")
    assert parse_count("beaucoup") == (None, "E_COUNT_INVALID")
    assert parse_count("") == (None, None)


def test_years():
    assert parse_year(2010) == (2010, None)
    assert parse_year(2010.0) == (2010, None)
    assert parse_year("٢٠١٣") == (2013, None)
    assert parse_year(dt.date(2012, 5, 1)) == (2012, None)
    assert parse_year("20l0") == (None, "E_YEAR_INVALID")
    assert parse_year(40000) == (None, "E_YEAR_INVALID")


def test_dates_day_first_as_in_morocco():
    march = dt.date(2010, 3, 12)
    assert parse_date("12/03/2010") == (march, None)
    assert parse_date("2010-03-12") == (march, None)
    assert parse_date("12.03.2010") == (march, None)
    assert parse_date(40249.0) == (march, None)  # Excel serial
    assert parse_date("40249") == (march, None)  # the same serial, exported to CSV
    assert parse_date(dt.datetime(2010, 3, 12, 0, 0)) == (march, None)
    assert parse_date("31/02/2010") == (None, "W_DATE_INVALID")
    assert parse_date("bientôt") == (None, "W_DATE_INVALID")


def test_codes_from_numeric_cells_lose_the_float_suffix():
    assert parse_code(1234.0) == "1234"
    assert parse_code("  TAO-2013-0001 ") == "TAO-2013-0001"
    assert parse_code(None) is None


@pytest.mark.parametrize("typed", ["30 %", "30%", "12,5 %", "٣٠٪"])
def test_a_percentage_is_not_an_amount(typed):
    assert parse_amount(typed) == (None, "E_AMOUNT_PERCENT")


def test_a_year_alone_in_a_date_column_is_not_a_day():
    assert parse_date("2010") == (None, "W_DATE_YEAR_ONLY")
    assert parse_date(2010) == (None, "W_DATE_YEAR_ONLY")
    assert parse_date(2010.0) == (None, "W_DATE_YEAR_ONLY")
    assert parse_date(5000) == (None, "W_DATE_INVALID")  # not 1913-09-08
    assert parse_date(40249.5) == (dt.date(2010, 3, 12), None)  # noon that day
    assert parse_date(2010.5) == (None, "W_DATE_INVALID")


def test_a_whole_date_in_the_year_column_gives_its_year():
    assert parse_year("12/03/2010") == (2010, None)
    assert parse_year("2010-03-12") == (2010, None)
    assert parse_year("2010.0") == (2010, None)
    assert parse_year("mars 2010") == (None, "E_YEAR_INVALID")
