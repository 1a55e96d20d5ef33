"""Figures inside Arabic messages read in their own order, as an Arabic-reading clerk sees them.

In a right-to-left sentence the spaces between digit groups and a leading sign are neutral, so
"-63 868,53" would show as "868,53 -63". Checked in a real browser (Debian's chromium).
"""
from pathlib import Path
from string import Formatter

import pytest

from etl import reference
from etl.findings import LRM, Finding, left_to_right
from etl.formatting import format_mad

CHROMIUM = "/usr/bin/chromium"
FIGURES = [format_mad(cents) for cents in (-6_386_853, 44_510_625, 125_000_000_00, 98_500_00, -5)] + [
    "30 %", "12/03/2010", "MA-TAO-2013-001", "1.250.000,00 DH"]
# The rules whose messages need nothing but the value, and quote it in Arabic.
VALUE_RULES = [rule_id for rule_id, rule in sorted(reference.rules().items())
               if {name for _, name, _, _ in Formatter().parse(rule.message_fr + rule.message_ar) if name} == {"value"}]


@pytest.mark.unit
@pytest.mark.parametrize("index, figure", enumerate(FIGURES))
def test_a_figure_in_an_arabic_message_is_one_left_to_right_run(index, figure):
    rule_id = VALUE_RULES[index * 7 % len(VALUE_RULES)]
    french, arabic = Finding(rule_id, value=figure).messages()
    assert LRM + figure + LRM in arabic
    assert LRM not in french  # French reads left to right already


@pytest.mark.unit
@pytest.mark.parametrize("text", ["الفلاحة", "تعاونية 12", "", None, "Apiculture", "2013", 30])
def test_plain_digits_words_and_arabic_text_are_left_as_typed(text):
    assert left_to_right(text) == text


@pytest.mark.integration
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system-deps)")
def test_chromium_shows_each_figure_of_an_arabic_message_in_reading_order():
    from playwright.sync_api import sync_playwright

    # The characters of one marked run, sorted by where the browser drew them, left to right.
    drawn_order = """(id) => { const node = document.getElementById(id).firstChild; const chars = [];
      for (let i = 0; i < node.length; i++) { const range = document.createRange();
        range.setStart(node, i); range.setEnd(node, i + 1);
        chars.push([i, range.getBoundingClientRect().left]); }
      return chars; }"""
    messages = {f"m{i}": Finding("E_AMOUNT_NEGATIVE", value=figure).messages()[1] for i, figure in enumerate(FIGURES)}
    body = "".join(f'<p id="{key}">{message}</p>' for key, message in messages.items())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_content(f'<html lang="ar" dir="rtl"><body>{body}</body></html>')
            for key, message in messages.items():
                start, end = message.index(LRM) + 1, message.rindex(LRM)
                positions = dict(page.evaluate(drawn_order, key))
                figure = message[start:end]
                shown = "".join(message[i] for i in sorted(range(start, end), key=positions.__getitem__))
                assert shown == figure, f"{figure!r} is shown as {shown!r}"
        finally:
            browser.close()
