"""Every amount, count and percentage shown to a person, formatted one way.

French usage, as the clerks type amounts: a plain space between thousands and a decimal comma
(``1 250 000,00``). Reports, mails, the command line and the national report all format here, so a
figure reads the same wherever it appears. (``etl.sample`` writes amounts the many ways clerks type
them on purpose; that is input, not output.)
"""
from __future__ import annotations

THOUSANDS_SEPARATOR = " "


def format_count(value: int) -> str:
    """1250000 -> '1 250 000'."""
    return f"{value:,}".replace(",", THOUSANDS_SEPARATOR)


def format_mad(cents: int) -> str:
    """12345678 -> '123 456,78' (the way the clerk reads amounts)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{format_count(whole)},{frac:02d}"


def format_amount(value) -> str:
    """An amount in dirhams (Decimal or float): Decimal('1250000.5') -> '1 250 000,50'."""
    return f"{value:,.2f}".replace(",", THOUSANDS_SEPARATOR).replace(".", ",")


def format_rounded_mad(value: float) -> str:
    """An amount in dirhams rounded to the dirham: 18450.6 -> '18 451'."""
    return format_mad(round(value) * 100).removesuffix(",00")


def format_percent(share: float) -> str:
    """A share as the number of a percentage in a message, trailing zeros dropped: 0.125 -> '12,5'."""
    text = f"{share * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_share(share) -> str:
    """A share in a table, one decimal and its sign: Decimal('0.315') -> '31,5 %'."""
    return f"{share * 100:.1f} %".replace(".", ",")
