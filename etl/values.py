"""Pure parsers for the values clerks type: amounts, counts, years, dates, labels.

Each parser returns ``(value, problem)``: ``problem`` is None when the value was read, else the id of
the rule it breaks. Nothing is guessed: a value that cannot be read is reported, never turned into 0.
Amounts are returned in centimes (int), so sums stay exact to the dirham and below.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009']+")
_CURRENCY = re.compile(r"(?i)(dhs?|mad|dirhams?|درهم|د\.م\.?)\.?$")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
# The ways most amounts are typed, read without Decimal: "1 250 000,00", "1250000,5", "98 500 DH",
# "1.250.000,00", "1,250,000.00". Anything else goes through clean_number_text.
_FRENCH_AMOUNT = re.compile(
    r"\s*(?:(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,(\d{1,2}))?"
    r"|(\d{1,3}(?:\.\d{3})+),(\d{1,2})|(\d{1,3}(?:,\d{3})+)\.(\d{1,2}))(?:\s*(?i:dhs?|mad))?\s*")
_YEAR_TEXT = re.compile(r"\d{4}(\.0+)?")
_YEAR_ONLY = re.compile(r"(19|20)\d\d")
_SERIAL_TEXT = re.compile(r"\d{5}(\.\d+)?")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f.,]")
_PERCENT = re.compile(r"-?[\d\s\u00a0\u202f.,٠-٩٫٬]+\s*[%٪]")
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Excel serials of 1990-01-01 and 2100-12-31: a number in a date column outside them is not a date.
FIRST_SERIAL, LAST_SERIAL = 32_874, 73_415
# Sane ceilings: no income-generating project costs ten billion dirhams or counts a million
# beneficiaries; beyond them a value is a typing slip (or an attack), reported on its cell, and the
# warehouse's numeric(16, 2) and integer columns can never overflow.
MAX_AMOUNT_MAD = 10_000_000_000
MAX_AMOUNT_CENTS = MAX_AMOUNT_MAD * 100
MAX_COUNT = 1_000_000
MAX_NUMBER_TEXT = 64  # characters: longer "numbers" are not read as numbers (int() of 5,000 digits raises)


def _is_blank(value: object) -> bool:
    if value is None or value == "":
        return True
    kind = type(value)
    return (kind is str and not value.strip()) or (kind is float and math.isnan(value))


def clean_number_text(text: str) -> str | None:
    """'1 250 000,00 DH' -> '1250000.00'; None when it is not a number."""
    text = text.translate(_DIGITS).replace("٫", ".").replace("٬", ",").replace("−", "-").strip()
    text = _CURRENCY.sub("", text).strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = True, text[1:]
    text = _SPACES.sub("", text)
    if not text:
        return None
    if "," in text and "." in text:
        decimal_sep = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_sep == "," else ","
        whole, _, frac = text.rpartition(decimal_sep)
        if not _GROUPED.fullmatch(whole) or whole.replace(thousands, "").isdigit() is False:
            return None
        text = whole.replace(thousands, "") + "." + frac
    elif text.count(",") + text.count(".") > 1:
        if not _GROUPED.fullmatch(text) or ("," in text and "." in text):
            return None
        text = text.replace(",", "").replace(".", "")
    elif "," in text or "." in text:
        whole, _, frac = text.replace(",", ".").partition(".")
        # Amounts have at most two decimals, so "1.250" or "1,250" is a thousands separator.
        text = whole + frac if len(frac) == 3 and whole.isdigit() and whole != "0" else whole + "." + frac
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return ("-" if negative else "") + text


def parse_amount(value: object) -> tuple[int | None, str | None]:
    """An amount in MAD -> centimes, exactly. Empty is (None, None); the caller decides if it is
    required, and whether it is beyond :data:`MAX_AMOUNT_MAD` (normalise: ``E_AMOUNT_TOO_LARGE``).
    Never raises: a float too large for centimes (1e308) is ``E_AMOUNT_TOO_LARGE`` here."""
    kind = type(value)
    if kind is float and value.is_integer() and abs(value) < 2**52:  # fast path: a whole-dirham number cell
        return int(value) * 100, None
    if _is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, "E_AMOUNT_INVALID"
    if isinstance(value, int):
        return value * 100, None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "E_AMOUNT_INVALID"
        cents = value * 100
        if math.isfinite(cents) and abs(cents - round(cents)) < 1e-6 and abs(cents) < 2**52:
            return int(round(cents)), None
        try:
            return int(Decimal(repr(value)).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP)), None
        except InvalidOperation:  # more digits than Decimal's precision (1e308): no project costs that
            return None, "E_AMOUNT_TOO_LARGE"
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT:
            return None, "E_AMOUNT_INVALID"
        fast = _FRENCH_AMOUNT.fullmatch(value)
        if fast:  # "1 250 000,00", "1250000,5", "98 500": most typed amounts, without Decimal
            whole, frac, whole_dot, frac_dot, whole_comma, frac_comma = fast.groups()
            if whole is None:
                whole, frac = (whole_dot, frac_dot) if whole_dot else (whole_comma, frac_comma)
            return int(_GROUP_SPACES.sub("", whole)) * 100 + (int(frac.ljust(2, "0")) if frac else 0), None
        cleaned = clean_number_text(value)
        if cleaned is None:
            # "30 %" in an amount column is a share, not dirhams: say so rather than guess the amount.
            return None, "E_AMOUNT_PERCENT" if _PERCENT.fullmatch(value.strip()) else "E_AMOUNT_INVALID"
        try:
            return int(Decimal(cleaned).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP)), None
        except InvalidOperation:
            return None, "E_AMOUNT_INVALID"
    return None, "E_AMOUNT_INVALID"


def parse_count(value: object) -> tuple[int | None, str | None]:
    """A whole number of people or jobs, >= 0 and at most :data:`MAX_COUNT` (``E_COUNT_TOO_LARGE``)."""
    number, problem = _count(value)
    if number is not None and number > MAX_COUNT:
        return None, "E_COUNT_TOO_LARGE"
    return number, problem


def _count(value: object) -> tuple[int | None, str | None]:
    if type(value) is float and value.is_integer() and 0 <= value <= MAX_COUNT:  # fast path: a number cell
        return int(value), None
    if _is_blank(value):
        return None, None
    if isinstance(value, bool):
        return None, "E_COUNT_INVALID"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None, "E_COUNT_INVALID"
        number = int(value)
    elif isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT:
            return None, "E_COUNT_INVALID"
        cleaned = clean_number_text(value)
        if cleaned is None or "." in cleaned and cleaned.split(".")[1].strip("0"):
            return None, "E_COUNT_INVALID"
        number = int(cleaned.split(".")[0])
    else:
        return None, "E_COUNT_INVALID"
    if number < 0:
        return None, "E_COUNT_INVALID"
    return number, None


def parse_year(value: object) -> tuple[int | None, str | None]:
    if type(value) is float and value.is_integer() and 1900 <= value <= 2100:  # fast path: a number cell
        return int(value), None
    if _is_blank(value):
        return None, None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year, None
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if isinstance(value, str):
        text = value.translate(_DIGITS).strip()[:MAX_NUMBER_TEXT]
        if _YEAR_TEXT.fullmatch(text):
            value = int(text[:4])
        else:  # a whole date typed in the year column still says the year without doubt
            date, _ = parse_date(text)
            value = date.year if date else None
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100:
        return value, None
    return None, "E_YEAR_INVALID"


_DATE_PATTERNS = (
    (re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"), ("d", "m", "y")),
    (re.compile(r"(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})"), ("y", "m", "d")),
)


def parse_date(value: object) -> tuple[dt.date | None, str | None]:
    """Excel dates and serials, '12/03/2010' (day first, as in Morocco) and '2010-03-12'."""
    kind = type(value)
    if kind is dt.datetime:  # fast path: a date cell
        return value.date(), None
    if kind is dt.date:
        return value, None
    if _is_blank(value):
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None, "W_DATE_INVALID"
        if FIRST_SERIAL <= value < LAST_SERIAL + 1:  # an Excel serial date (the fraction is the time)
            return EXCEL_EPOCH + dt.timedelta(days=int(value)), None
        if value != int(value):
            return None, "W_DATE_INVALID"
        if 1990 <= value <= 2100:
            return None, "W_DATE_YEAR_ONLY"  # a year is not a day: never turned into 1 January
        return None, "W_DATE_INVALID"
    if isinstance(value, str):
        text = value[:MAX_NUMBER_TEXT].translate(_DIGITS).strip().split(" ")[0]
        if _YEAR_ONLY.fullmatch(text):
            return None, "W_DATE_YEAR_ONLY"
        if _SERIAL_TEXT.fullmatch(text):  # a serial exported as text (date cell formatted as number)
            return parse_date(float(text))
        for pattern, order in _DATE_PATTERNS:
            match = pattern.fullmatch(text)
            if match:
                parts = dict(zip(order, map(int, match.groups())))
                try:
                    return dt.date(parts["y"], parts["m"], parts["d"]), None
                except ValueError:
                    return None, "W_DATE_INVALID"
    return None, "W_DATE_INVALID"


def parse_text(value: object) -> str | None:
    if type(value) is str:  # the usual case, first
        text = " ".join(value.split())
        return text or None
    if _is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def parse_code(value: object) -> str | None:
    """A project code as typed, with numbers from Excel shown without '.0'."""
    text = parse_text(value)
    return text.translate(_DIGITS) if text else None
