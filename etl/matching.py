"""Headers and labels no list has seen yet: read them as the clerk meant them, or say why not.

A header or a label is first looked up exactly (folded: case, accents, Arabic letter variants,
punctuation, units), as the reference lists give it. When that fails it is compared word by word
with every entry of the list:

- words that carry no meaning in a header (« de », « du », « l' », the Arabic article …) are
  dropped, abbreviations are expanded (« Nbre », « Mt », « Contrib. »), and the order of the words
  does not matter: « Bénéficiaires (nombre) » is « Nombre de bénéficiaires »
  (``reference/matching_words.csv``);
- one typo per word is tolerated (rapidfuzz's optimal string alignment distance, so a swapped
  pair of letters is one typo), on words of four letters or more;
- a header may carry one word more than an entry of two words or more (« Coût global
  prévisionnel ») at a lower score;
- numbers must be the same (« Contribution 1 » is not « Contribution 2 »).

Precision comes before recall: when two targets score within :data:`MARGIN` of each other the
text is not guessed (:attr:`Match.how` ``"ambiguous"``, both named as suggestions); a text that
is only close to an entry (rapidfuzz's token-sort ratio) is not mapped but suggested
(``"close"``). Every answer is cached per distinct text, so a sheet of 100,000 rows pays once per
header and once per distinct label, never per cell.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass

from etl import reference

MARGIN = 10  # a second target scoring within this of the best makes the text ambiguous
ACCEPT = 70  # lowest score taken as a mapping
SUGGEST = 75  # lowest token-sort ratio (0-100) for a "did you mean" on an unmapped text
MIN_TYPO_LENGTH = 4  # shorter words must be typed exactly
MAX_TEXT, MAX_WORDS = 120, 12  # longer texts are compared exactly only
MAX_CACHED = 50_000  # distinct texts remembered per list
MIN_LONE_TYPO_LENGTH = 7  # a header of one word ("Annexe" is not "Année") needs a longer word
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
_UNITS = re.compile(r"\(.*?\)|\[.*?\]")
_UNIT_WORDS = re.compile(r"\b(en )?(dh|dhs|mad|dirhams?|درهم|بالدرهم)\b")


@dataclass(frozen=True)
class Match:
    """How a header or label was read: the target it maps to (None if it does not), and how."""
    target: str | None
    how: str  # exact, words, typo, partial (mapped); ambiguous, close, none (not mapped)
    via: str | None = None  # the reference entry it was matched to
    suggestions: tuple[str, ...] = ()  # targets to suggest when not mapped
    score: int = 0

    @property
    def guessed(self) -> bool:
        """Mapped, but not as the reference lists give it: to be reported so a person confirms it."""
        return self.target is not None and self.how != "exact"


NO_MATCH = Match(None, "none")


@functools.cache
def words_table():
    """(words dropped, Arabic prefixes longest first, abbreviation -> its words, words a header may
    add) from ``reference/matching_words.csv``."""
    dropped, prefixes, expansions = set(), [], {}
    optional = set()
    for row in reference.read_csv("matching_words.csv"):
        word = reference.text_key(row["word"])
        if row["kind"] in ("stop", "unit"):
            dropped.add(word)
        elif row["kind"] == "prefix":
            prefixes.append(word)
        elif row["kind"] in ("abbreviation", "variant"):
            expansions[word] = tuple(reference.text_key(row["expansion"]).split())
        elif row["kind"] == "optional":
            optional.add(word)
    return frozenset(dropped), tuple(sorted(prefixes, key=len, reverse=True)), expansions, frozenset(optional)


def words(text: object) -> tuple[str, ...]:
    """The meaningful words of a text, folded, in order: what two spellings are compared on."""
    dropped, prefixes, expansions, _ = words_table()
    out: list[str] = []
    for word in reference.text_key(str(text).translate(_ARABIC_DIGITS)).split():
        for prefix in prefixes:
            if word.startswith(prefix) and len(word) - len(prefix) >= 2:
                word = word[len(prefix):]
                break
        if word in dropped:
            continue
        if word not in expansions and word[-1:] in ("s", "x") and word[:-1] in expansions:
            word = word[:-1]  # the plural of a variant (« promoteurs »)
        out.extend(expansions.get(word, (word,)))
    return tuple(out)


def _is_number(word: str) -> bool:
    return word.isdigit()


def _numbers(words_: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(w for w in words_ if w.isdigit()))


def _plural_pair(a: str, b: str) -> bool:
    return (a[-1:] in ("s", "x") and a[:-1] == b) or (b[-1:] in ("s", "x") and b[:-1] == a)


class Matcher:
    """Maps texts to targets through a list of (reference text, target) entries."""

    def __init__(self, entries: list[tuple[str, str]], exact: dict[str, str], keys=None):
        self.exact = exact  # folded key -> target (the lookup the reference files give)
        self.keys = keys or (lambda text: (reference.text_key(text),))
        self.entries: list[tuple[tuple[str, ...], str, str]] = []
        self.signatures: dict[tuple[str, ...], set[str]] = defaultdict(set)
        self.by_word: dict[str, set[int]] = defaultdict(set)
        for text, target in entries:
            entry_words = words(text)
            if not entry_words:
                continue
            self.signatures[tuple(sorted(set(entry_words)))].add(target)
            for word in set(entry_words):
                self.by_word[word].add(len(self.entries))
            self.entries.append((entry_words, target, text))
        self.vocabulary = sorted(self.by_word)
        self.word_targets = {word: frozenset(self.entries[i][1] for i in indexes)
                             for word, indexes in self.by_word.items()}
        self.numbers = [_numbers(entry_words) for entry_words, _, _ in self.entries]
        # Entries by the numbers they carry, as sorted-word texts: what a suggestion is drawn from.
        self.sort_texts: dict[tuple[str, ...], dict[int, str]] = defaultdict(dict)
        for index, (entry_words, _, _) in enumerate(self.entries):
            self.sort_texts[self.numbers[index]][index] = " ".join(sorted(entry_words))
        self.cache: dict[str, Match] = {}
        self.exact_cache: dict[str, str | None] = {}

    def match(self, text: object) -> Match:
        text = str(text)
        found = self.cache.get(text)
        if found is None:
            if len(self.cache) >= MAX_CACHED:  # a hostile sheet of distinct texts cannot grow it forever
                self.cache.clear()
            found = self.cache[text] = self._match(text)
        return found

    def exact_target(self, text: object) -> str | None:
        """The target a text maps to as the reference lists give it (folded), else None."""
        text = str(text)
        found = self.cache.get(text)
        if found is not None:
            return found.target if found.how == "exact" else None
        if text not in self.exact_cache:
            if len(self.exact_cache) >= MAX_CACHED:
                self.exact_cache.clear()
            self.exact_cache[text] = next((self.exact[key] for key in self.keys(text) if key in self.exact), None)
        return self.exact_cache[text]

    def _match(self, text: str) -> Match:
        for key in self.keys(text):
            if key in self.exact:
                return Match(self.exact[key], "exact", text, score=100)
        if len(text) > MAX_TEXT:  # a sentence, a note or a damaged cell: not a header nor a label
            return NO_MATCH
        typed = words(text)
        if not typed or len(typed) > MAX_WORDS or not any(c.isalpha() for word in typed for c in word):
            return NO_MATCH
        signature = tuple(sorted(set(typed)))
        targets = self.signatures.get(signature, set())
        if len(targets) == 1:
            (target,) = targets
            return Match(target, "words", self._entry_text(signature, target), score=100)
        if len(targets) > 1:
            return Match(None, "ambiguous", suggestions=tuple(sorted(targets)), score=100)
        return self._fuzzy(typed)

    def _entry_text(self, signature: tuple[str, ...], target: str) -> str:
        return next(text for entry_words, t, text in self.entries
                    if t == target and tuple(sorted(set(entry_words))) == signature)

    def _near(self, word: str) -> set[str]:
        """Words of the vocabulary at most one typo away from ``word`` (itself included)."""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        near = {word} if word in self.by_word else set()
        if word[-1:] in ("s", "x") and word[:-1] in self.by_word:
            near.add(word[:-1])  # a plural (« Noms des porteurs »)
        if len(word) < MIN_TYPO_LENGTH or _is_number(word):
            return near
        near.update(candidate for candidate, _, _ in process.extract(
            word, self.vocabulary, scorer=OSA.distance, score_cutoff=1, limit=None)
            if len(candidate) >= MIN_TYPO_LENGTH)
        if word in self.by_word:
            # A word the lists use is a typo of another only when a plural of it or when both lead
            # to some same target (« rurale », « rural »), never across meanings (« apiculture »,
            # « aviculture »).
            near = {candidate for candidate in near if candidate == word or _plural_pair(candidate, word)
                    or self.word_targets[candidate] & self.word_targets[word]}
        return near

    def _fuzzy(self, typed: tuple[str, ...]) -> Match:
        near = {word: self._near(word) for word in set(typed)}
        candidates = set().union(*(self.by_word[n] for ns in near.values() for n in ns))
        numbers = _numbers(typed)
        best: dict[str, tuple[int, str, str]] = {}
        for index in candidates:
            entry_words, target, text = self.entries[index]
            if self.numbers[index] != numbers:
                continue
            scored = _align(typed, entry_words, near)
            if scored is None:
                continue
            score, how, extra = scored
            if extra is not None and not self._harmless(extra, entry_words, target):
                continue
            if score > best.get(target, (0,))[0]:
                best[target] = (score, how, text)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        if ranked and ranked[0][1][0] >= ACCEPT:
            target, (score, how, text) = ranked[0]
            rivals = tuple(t for t, (s, _, _) in ranked[1:] if score - s < MARGIN)
            if rivals:
                return Match(None, "ambiguous", suggestions=(target, *rivals), score=score)
            return Match(target, how, text, score=score)
        return self._close(typed)

    def _harmless(self, word: str, entry_words: tuple[str, ...], target: str) -> bool:
        """A word a header adds to a synonym may qualify it (« prévisionnel », « directs ») but must
        not resemble what a longer synonym of another column adds to the same words (« املساهمات
        حامل المشروع » is not « حامل المشروع » but a mistyped « المساهمات حامل المشروع »)."""
        from rapidfuzz import fuzz

        for index in set.intersection(*(self.by_word[w] for w in set(entry_words))):
            other_words, other, _ = self.entries[index]
            if other != target and any(fuzz.ratio(word, more) >= 60 for more in set(other_words) - set(entry_words)):
                return False
        return True

    def _close(self, typed: tuple[str, ...]) -> Match:
        from rapidfuzz import fuzz, process

        same_numbers = self.sort_texts.get(_numbers(typed))
        if not same_numbers:
            return NO_MATCH
        found = process.extractOne(" ".join(sorted(typed)), same_numbers, scorer=fuzz.ratio, score_cutoff=SUGGEST)
        if found is None:
            return NO_MATCH
        _, score, index = found
        _, target, text = self.entries[index]
        return Match(None, "close", text, (target,), score=round(score))


def _align(typed: tuple[str, ...], entry: tuple[str, ...], near: dict[str, set[str]]):
    """(score, how, the word added to the entry if any) when every word of ``entry`` is one of ``typed`` (exactly or one typo away)
    and ``typed`` adds at most a word a header may add (« du projet ») or, to an entry of two
    words or more, one other word; None otherwise."""
    left = list(typed)
    typos = 0
    for word in sorted(entry, key=lambda w: w not in left):  # exact words first
        if word in left:
            left.remove(word)
            continue
        partner = next((t for t in left if word in near.get(t, ())), None)
        if partner is None or (len(entry) == 1 and len(typed) == 1 and len(partner) < MIN_LONE_TYPO_LENGTH
                               and not _plural_pair(partner, word)):
            return None
        left.remove(partner)
        typos += 1
    optional = words_table()[3]
    if len(left) == 1 and left[0] in optional and any(word not in optional for word in entry):
        return 90 - 10 * typos, "partial", None
    if not left:
        return 100 - 10 * typos, "typo" if typos else "words", None
    if len(left) == 1 and len(entry) >= 2 and not _is_number(left[0]):
        return 80 - 10 * typos, "partial", left[0]
    return None


def header_key(cell: object) -> str:
    """The folded key of a header without its units (« Coût global (DH) » = « Coût global »)."""
    text = _UNITS.sub(" ", str(cell))
    key = reference.text_key(text)
    return _UNIT_WORDS.sub(" ", key).strip() if key not in reference.header_lookup() else key


@functools.cache
def header_matcher() -> Matcher:
    rows = reference.read_csv("header_synonyms.csv")
    return Matcher([(row["synonym"], row["column"]) for row in rows], reference.header_lookup(),
                   keys=lambda text: (reference.text_key(text), header_key(text)))


LABEL_DOMAINS = ("sector", "status", "promoter_type", "programme_kind")


def warm() -> None:
    """Build the header and label matchers and import rapidfuzz now: done once in the process that
    forks the file readers (:func:`etl.isolate.prepare_to_fork`), not again in each of them."""
    import rapidfuzz.distance  # noqa: F401
    import rapidfuzz.fuzz  # noqa: F401
    import rapidfuzz.process  # noqa: F401

    header_matcher()
    for domain in LABEL_DOMAINS:
        label_matcher(domain)


def match_header(text: object) -> Match:
    """How a header cell maps to a canonical column (cached per distinct text)."""
    return header_matcher().match(text)


def exact_header(text: object) -> str | None:
    """The canonical column a header gives as the synonym list has it (folded), else None."""
    return header_matcher().exact_target(text)


@functools.cache
def label_matcher(domain: str) -> Matcher:
    lookup = reference.label_lookup(domain)
    entries = [(row["label"], row["code"]) for row in reference.read_csv("label_aliases.csv")
               if row["domain"] == domain]
    entries += [(key, code) for key, code in lookup.items()]
    return Matcher(entries, lookup)


@functools.lru_cache(maxsize=8192)
def resolve_label(domain: str, text: object) -> Match:
    """How a label maps to a code of its domain (sector, status, promoter_type, programme_kind);
    a function of the text alone, cached, so a column-wise reader calls it once per distinct label."""
    return label_matcher(domain).match(text)


@functools.cache
def column_names() -> dict[str, tuple[str, str]]:
    """Canonical column -> (French, Arabic) name shown to the clerk: the first synonym the reference
    lists for it in each script."""
    names: dict[str, list[str | None]] = defaultdict(lambda: [None, None])
    for row in reference.read_csv("header_synonyms.csv"):
        slot = 1 if re.search(r"[\u0600-\u06ff]", row["synonym"]) else 0
        names[row["column"]][slot] = names[row["column"]][slot] or row["synonym"]
    return {column: (fr or ar or column, ar or fr or column) for column, (fr, ar) in names.items()}


@functools.cache
def label_names(domain: str) -> dict[str, tuple[str, str]]:
    """Code -> (French, Arabic) name of a label domain, for the messages."""
    if domain in reference.LABEL_TABLES:
        file_name, key = reference.LABEL_TABLES[domain]
        return {row[key]: (row["name_fr"], row["name_ar"]) for row in reference.read_csv(file_name)}
    names: dict[str, tuple[str, str]] = {}
    for row in reference.programmes():
        names.setdefault(row["kind"], (row["name_fr"], row["name_ar"]))
    return names
