"""Headers and labels no list has seen: the labelled corpus, generated variants, and the rules of
precision (ambiguity, numbers, exact mappings first)."""
import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl import reference
from etl.matching import match_header, resolve_label
from etl.normalise import map_headers

pytestmark = pytest.mark.unit
CORPUS = Path(__file__).resolve().parent / "corpus"


def read_corpus(name):
    with open(CORPUS / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_header_corpus_precision_is_total_and_recall_at_least_95_percent(capsys):
    variants = read_corpus("header_variants.csv")
    negatives = read_corpus("header_negatives.csv")
    assert len(variants) >= 300 and len(negatives) >= 50
    assert {row["language"] for row in variants} == {"fr", "ar", "en"}
    assert {row["column"] for row in variants} <= set(reference.header_lookup().values())
    unseen = [row for row in variants if reference.text_key(row["header"]) not in reference.header_lookup()]
    assert len(unseen) >= 300  # variants the synonym list does not hold as typed
    mapped = [(row, match_header(row["header"]).target) for row in variants]
    wrong = [(row["header"], row["column"], target) for row, target in mapped if target not in (None, row["column"])]
    right = sum(1 for row, target in mapped if target == row["column"])
    false_positives = [(row["header"], match_header(row["header"]).target) for row in negatives
                       if match_header(row["header"]).target is not None]
    decided = right + len(wrong) + len(false_positives)
    precision = right / decided if decided else 1.0
    recall = right / len(variants)
    with capsys.disabled():
        print(f"\nheader corpus: {len(variants)} variants ({len(unseen)} not in the synonym list), "
              f"{len(negatives)} that map to nothing: precision {precision:.1%}, recall {recall:.1%}")
    assert wrong == [] and false_positives == []
    assert precision == 1.0
    assert recall >= 0.95


# --- generated variants: what clerks do to a header, applied to every synonym -----------------

STOP_INSERTS = {"fr": ["de", "du", "des", "la", "le", "l'"], "ar": ["و"], "en": ["of", "the"]}
ABBREVIATIONS = {"nombre": ["Nbre", "Nb", "Nbr"], "montant": ["Mt", "Mnt"], "contribution": ["Contrib.", "Contrib"],
                 "approbation": ["Approb.", "Approb"], "beneficiaires": ["Bénéf.", "Benef"]}


@st.composite
def typo(draw, word: str) -> str:
    """One typo a clerk makes in a long word: a letter dropped, doubled, or two letters swapped."""
    i = draw(st.integers(1, len(word) - 3))
    return draw(st.sampled_from([word[:i] + word[i + 1:], word[:i] + word[i] + word[i:],
                                 word[:i] + word[i + 1] + word[i] + word[i + 2:]]))


@st.composite
def header_variant(draw, synonym: str, typos: bool = True) -> str:
    """A synonym as a clerk may type it: abbreviated, with a typo in a long word, articles added,
    words reordered, a unit, capitals."""
    language = "ar" if any("\u0600" <= ch <= "\u06ff" for ch in synonym) else "fr"
    out = []
    for part in synonym.split():
        key = reference.text_key(part)
        if key in ABBREVIATIONS and draw(st.booleans()):
            part = draw(st.sampled_from(ABBREVIATIONS[key]))
        elif typos and len(part) >= 8 and part.isalpha() and draw(st.booleans()):
            part = draw(typo(part))
        out.append(part)
    if len(out) > 1 and draw(st.booleans()):
        out.insert(draw(st.integers(1, len(out) - 1)), draw(st.sampled_from(STOP_INSERTS[language])))
    out = draw(st.permutations(out)) if draw(st.booleans()) else out
    text = " ".join(out) + draw(st.sampled_from(["", "", " (DH)", " (en DH)", " :", "  "]))
    return text.upper() if draw(st.booleans()) else text


SYNONYMS = reference.read_csv("header_synonyms.csv")


@settings(max_examples=500, deadline=None)
@given(data=st.data(), row=st.sampled_from(SYNONYMS))
def test_a_generated_variant_of_a_synonym_maps_to_its_column_or_to_nothing(data, row):
    """Precision on variants made from every synonym: never another column."""
    variant = data.draw(header_variant(row["synonym"]))
    found = match_header(variant)
    assert found.target in (None, row["column"]), (row["synonym"], variant, found)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), row=st.sampled_from(SYNONYMS))
def test_word_order_articles_abbreviations_and_case_never_lose_a_synonym(data, row):
    """Recall on the variants without a typo: always mapped, or left as ambiguous when two columns'
    synonyms have the same words."""
    variant = data.draw(header_variant(row["synonym"], typos=False))
    found = match_header(variant)
    assert found.target == row["column"] or (found.target is None and found.how == "ambiguous"
                                             and row["column"] in found.suggestions), (variant, found)


# --- precision rules -----------------------------------------------------------------------------

def test_numbers_in_a_header_matter():
    assert match_header("Contribution 1").target is None
    assert match_header("Contribution 2").target is None
    assert match_header("Programme INDH 2").target is None


def test_a_header_that_resembles_two_columns_is_not_guessed():
    found = match_header("Bénéficiaire")  # exact: the promoter
    assert found.target == "promoter_name" and found.how == "exact"
    found = match_header("Contribution")
    assert found.target is None


def test_an_exact_column_is_never_taken_by_a_guess():
    # "Code projet" is exact; "Code projt" would guess the same column: the exact one keeps it.
    assert map_headers(["Code projt", "Code projet", "Coût global"]) == {1: "project_code", 2: "total_cost_mad"}
    # Two guesses for one column, equally good: neither is taken.
    assert map_headers(["Code projt", "Cdoe projet", "Coût global"]) == {2: "total_cost_mad"}


def test_close_headers_are_suggested_not_mapped():
    found = match_header("Année de création")
    assert found.target is None and found.how == "close" and found.suggestions == ("approval_year",)


def test_the_guess_says_how_and_from_which_synonym():
    found = match_header("Année d'approb.")
    assert (found.target, found.how, found.via) == ("approval_year", "words", "Année d'approbation")
    assert found.guessed
    found = match_header("Coût globale")
    assert (found.target, found.how) == ("total_cost_mad", "typo")


# --- labels -------------------------------------------------------------------------------------

@pytest.mark.parametrize("domain, typed, code", [
    ("sector", "Apicultures", "BEEKEEPING"), ("sector", "Agricultur", "AGRICULTURE"),
    ("sector", "Elevage ovin et caprin", "LIVESTOCK"), ("status", "Achevés", "completed"),
    ("status", "Arrêtés", "stopped"), ("promoter_type", "Assoc.", "association"),
    ("programme_kind", "Prog. transversal", "transversal"), ("programme_kind", "Milieu rurale", "rural"),
    ("sector", "تربيه النحل و العسل", "BEEKEEPING"),
])
def test_labels_no_list_has_seen_are_read_and_marked_as_guessed(domain, typed, code):
    found = resolve_label(domain, typed)
    assert found.target == code and found.guessed


def test_labels_are_never_guessed_across_meanings_or_numbers():
    assert resolve_label("sector", "Aviculture moderne").target != "BEEKEEPING"  # not « Apiculture »
    found = resolve_label("programme_kind", "Programme 5")
    assert found.target is None and found.suggestions == ()  # not « Programme 2 »
    assert resolve_label("sector", "Astronautique").target is None


def test_warming_builds_every_matcher_the_readers_use():
    import sys

    from etl import matching
    from etl.normalise import LABEL_COLUMNS

    domains = {row["domain"] for row in reference.read_csv("label_aliases.csv")}
    assert set(matching.LABEL_DOMAINS) == domains == set(LABEL_COLUMNS.values()) | {"programme_kind"}
    matching.header_matcher.cache_clear()
    matching.label_matcher.cache_clear()
    matching.warm()
    assert matching.header_matcher.cache_info().currsize == 1
    assert matching.label_matcher.cache_info().currsize == len(domains)
    assert {"rapidfuzz.process", "rapidfuzz.fuzz", "rapidfuzz.distance"} <= set(sys.modules)
