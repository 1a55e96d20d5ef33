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


# --- Cases the mutation run found untested (issue 13): each kills mutants of etl/values.py. ---

@pytest.mark.parametrize("typed, cents", [
    ("1.250.000", 125_000_000),          # thousands separators without decimals
    ("1,250,000", 125_000_000),
    ("12.345.678", 1_234_567_800),
    ("-1.250.000,00", -125_000_000),     # mixed separators, through clean_number_text
    ("-1,250,000.50", -125_000_050),
    ("1.250.000,5 dirhams", 125_000_050),
    ("١٬٢٥٠٬٠٠٠", 125_000_000),          # U+066C, the Arabic thousands separator
    ("١٢٫٥", 1_250),                      # U+066B, the Arabic decimal separator
    ("−500", -50_000),                    # U+2212, the Unicode minus
    ("(1 250,50)", -125_050),
    ("0,250", 25),                        # a leading zero: decimals, not thousands
    ("0.250", 25),
    ("1,250", 125_000),
    ("1,250.000", 125_000),              # mixed: the last separator is the decimal one
    ("12,345", 1_234_500),
    ("0,125", 13),                        # finer than a centime: rounded half-up
    ("0,005", 1),
    ("-0,125", -13),
    ("1,2345", 123),
    ("1'250'000", 125_000_000),
    ("1\u2009250", 125_000),
    ("500 درهم", 50_000),
    ("500 د.م.", 50_000),
    ("500 DH.", 50_000),
    ("500 Dirhams", 50_000),
    ("98 500 dhs", 9_850_000),
    ("1 250 000,5 MAD", 125_000_050),
    ("١٢٥٠٠٠٠,٥", 125_000_050),
    (1.005, 101),                         # the decimal as typed, not the binary float below it
    (0.125, 13),
    (0.005, 1),
    (-1234.5, -123_450),
    (2.0 ** 53, 2 ** 53 * 100),           # past the float fast path, still exact
    (-7, -700),
    (0, 0),
])
def test_amounts_in_every_typed_form(typed, cents):
    assert parse_amount(typed) == (cents, None)


@pytest.mark.parametrize("typed, problem", [
    ("(300", "E_AMOUNT_INVALID"),         # unbalanced brackets
    ("300)", "E_AMOUNT_INVALID"),
    ("12.50,00", "E_AMOUNT_INVALID"),     # the whole part of a mixed form is not grouped
    ("1,25.000,00", "E_AMOUNT_INVALID"),
    ("1.2345,00", "E_AMOUNT_INVALID"),
    ("DH", "E_AMOUNT_INVALID"),
    ("-", "E_AMOUNT_INVALID"),
    ("1" * 40 + ".5", "E_AMOUNT_INVALID"),       # beyond what a Decimal quantizes: refused, not wrapped
    (float("inf"), "E_AMOUNT_INVALID"),
    (float("-inf"), "E_AMOUNT_INVALID"),
    (False, "E_AMOUNT_INVALID"),
    (dt.date(2010, 1, 1), "E_AMOUNT_INVALID"),
    ("30 % du coût", "E_AMOUNT_INVALID"),
    ("- 30 %", "E_AMOUNT_PERCENT"),
])
def test_amounts_that_cannot_be_read(typed, problem):
    assert parse_amount(typed) == (None, problem)


def test_a_long_whole_number_is_kept_exactly():
    assert parse_amount("1" * 40) == (int("1" * 40) * 100, None)


def test_clean_number_text_keeps_what_it_can_prove():
    from etl.values import clean_number_text

    assert clean_number_text(" 1 250 000,00 DH ") == "1250000.00"
    assert clean_number_text("(12,5)") == "-12.5"
    assert clean_number_text("-0,250") == "-0.250"
    assert clean_number_text("1,250") == "1250"
    assert clean_number_text("١٬٢٥٠٫٥") == "1250.5"
    assert clean_number_text("12a") is None
    assert clean_number_text("") is None
    assert clean_number_text("1.250.000") == "1250000"
    assert clean_number_text("1.25.000") is None


@pytest.mark.parametrize("typed, count", [
    ("12,0", 12), ("12.00", 12), (12, 12), (0, 0), (0.0, 0), ("1.000.000", 1_000_000),
    ("12,000", 12_000), ("٣٥", 35), (" 7 ", 7), ("1 200", 1_200),
])
def test_counts_read(typed, count):
    assert parse_count(typed) == (count, None)


@pytest.mark.parametrize("typed", [
    "2.5", 2.5, "12,5", -1, -1.0, "-3", True, False, float("inf"), float("-inf"),
    dt.date(2010, 1, 1), "douze", "1,5 %",
])
def test_non_integral_or_negative_counts_are_refused(typed):
    assert parse_count(typed) == (None, "E_COUNT_INVALID")


@pytest.mark.parametrize("blank", [None, "", "  ", float("nan")])
def test_empty_counts_years_and_dates_are_empty(blank):
    assert parse_count(blank) == (None, None)
    assert parse_year(blank) == (None, None)
    assert parse_date(blank) == (None, None)


@pytest.mark.parametrize("typed, year", [
    (1900, 1900), (2100, 2100), (1900.0, 1900), (2100.0, 2100), ("2013.0", 2013), ("2013.00", 2013),
    (" 2013 ", 2013), ("2010-03-12 08:30", 2010), (dt.datetime(2011, 5, 1, 9, 30), 2011), ("40249", 2010),
])
def test_years_read(typed, year):
    assert parse_year(typed) == (year, None)


@pytest.mark.parametrize("typed", [1899, 2101, 1899.0, 2101.0, 2010.5, "2013.5", True, "", "abc", "13/2010"])
def test_years_refused(typed):
    expected = (None, None) if typed == "" else (None, "E_YEAR_INVALID")
    assert parse_year(typed) == expected


@pytest.mark.parametrize("typed, day", [
    (dt.datetime(2010, 3, 12, 8, 30), dt.date(2010, 3, 12)),   # a date with a time
    ("12/03/2010 08:30", dt.date(2010, 3, 12)),
    ("2010-03-12 08:30:00", dt.date(2010, 3, 12)),
    ("12-03-2010", dt.date(2010, 3, 12)),
    ("2010/03/12", dt.date(2010, 3, 12)),
    ("2010.3.2", dt.date(2010, 3, 2)),
    ("1/2/2010", dt.date(2010, 2, 1)),
    ("١٢/٠٣/٢٠١٠", dt.date(2010, 3, 12)),
    (" 12/03/2010", dt.date(2010, 3, 12)),
    (40249, dt.date(2010, 3, 12)),
    (40249.99, dt.date(2010, 3, 12)),
    ("40249.75", dt.date(2010, 3, 12)),
    (32_874, dt.date(1990, 1, 1)),       # the first serial read as a date
    (73_415, dt.date(2100, 12, 31)),     # the last one
    (73_415.5, dt.date(2100, 12, 31)),
    (dt.date(2011, 1, 2), dt.date(2011, 1, 2)),
])
def test_dates_read(typed, day):
    assert parse_date(typed) == (day, None)


@pytest.mark.parametrize("typed, problem", [
    (32_873, "W_DATE_INVALID"), (73_416, "W_DATE_INVALID"), (1990, "W_DATE_YEAR_ONLY"),
    (2100, "W_DATE_YEAR_ONLY"), (1989, "W_DATE_INVALID"), (2101, "W_DATE_INVALID"),
    ("1989", "W_DATE_YEAR_ONLY"), ("2013", "W_DATE_YEAR_ONLY"), ("٢٠١٣", "W_DATE_YEAR_ONLY"),
    (float("inf"), "W_DATE_INVALID"), (float("-inf"), "W_DATE_INVALID"), (True, "W_DATE_INVALID"),
    ("2010-02-30", "W_DATE_INVALID"), ("12/13/2010", "W_DATE_INVALID"), ("12/03/10", "W_DATE_INVALID"),
    ("x12/03/2010", "W_DATE_INVALID"), ("12345", "W_DATE_INVALID"), (["12/03/2010"], "W_DATE_INVALID"),
    ("12/03/2010x", "W_DATE_INVALID"),
])
def test_dates_refused(typed, problem):
    assert parse_date(typed) == (None, problem)


def test_text_and_codes_as_the_clerk_sees_them():
    from etl.values import parse_text

    assert parse_text("  Unité   de  couture ") == "Unité de couture"
    assert parse_text("   ") is None
    assert parse_text("") is None
    assert parse_text(None) is None
    assert parse_text(float("nan")) is None
    assert parse_text(12.0) == "12"
    assert parse_text(12.5) == "12.5"
    assert parse_text(7) == "7"
    assert parse_text(dt.date(2010, 3, 12)) == "2010-03-12"
    assert parse_text(True) == "True"
    assert parse_code("١٢٣") == "123"
    assert parse_code("") is None
    assert parse_code(" A  B ") == "A B"


def test_a_float_a_hair_off_a_centime_is_that_centime():
    assert parse_amount(200.000000001) == (20_000, None)
    assert parse_amount(-3.0000000001) == (-300, None)


def test_a_date_followed_by_another_separator_than_a_space_is_not_read():
    # Only "date time" with a space is cut at the space; a tab or a no-break space is not a time.
    assert parse_date("12/03/2010\t08:30") == (None, "W_DATE_INVALID")
    assert parse_date("12/03/2010\u00a008:30") == (None, "W_DATE_INVALID")


def test_text_of_a_date_with_a_time_keeps_its_single_spaces():
    from etl.values import parse_text

    assert parse_text(dt.datetime(2010, 3, 12, 8, 30)) == "2010-03-12 08:30:00"


# --- The limits of each parser, at their edges (mutation run on the current code, issue 13). ---

def test_a_number_cell_too_large_for_centimes_is_too_large_not_a_crash():
    assert parse_amount(1e308) == (None, "E_AMOUNT_TOO_LARGE")
    assert parse_amount(-1e300) == (None, "E_AMOUNT_TOO_LARGE")


@pytest.mark.parametrize("cell, cents", [
    (77_531_270_481_533.4, 7_753_127_048_153_340),  # cell * 100 in floats ends in ...341
    (87_331_514_469_051.1, 8_733_151_446_905_110),  # ... and here in ...109
    (2.0 ** 60, 115_292_150_460_684_700_000),      # Excel shows 1.152921504606847E+18, not ...697600
])
def test_a_huge_number_cell_is_read_as_the_digits_it_shows(cell, cents):
    # Beyond the ceiling, so normalise refuses it; but the parser itself never invents digits.
    assert parse_amount(cell) == (cents, None)


def test_numbers_are_read_as_text_up_to_64_characters_and_refused_beyond():
    assert parse_amount("1 250,50".rjust(64)) == (125_050, None)
    assert parse_amount("1 250,50".rjust(65)) == (None, "E_AMOUNT_INVALID")
    assert parse_count("12".rjust(64)) == (12, None)
    assert parse_count("12".rjust(65)) == (None, "E_COUNT_INVALID")


@pytest.mark.parametrize("typed", [1_000_001, 1_000_001.0, "1 000 001", "1.000.001"])
def test_a_count_beyond_a_million_is_too_large(typed):
    assert parse_count(typed) == (None, "E_COUNT_TOO_LARGE")
    assert parse_count(1_000_000) == (1_000_000, None)


def test_a_float_from_a_numpy_column_is_read_like_a_number_cell():
    # pandas and Arrow hand numbers over as numpy.float64 (a float subclass): no fast path applies.
    import numpy as np

    assert parse_amount(np.float64(1250.5)) == (125_050, None)
    assert parse_count(np.float64(12.0)) == (12, None)
    assert parse_count(np.float64(2.5)) == (None, "E_COUNT_INVALID")
    assert parse_year(np.float64(2015.0)) == (2015, None)
    assert parse_year(np.float64(1850.0)) == (None, "E_YEAR_INVALID")
    assert parse_date(np.float64(40249.0)) == (dt.date(2010, 3, 12), None)
