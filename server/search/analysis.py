"""Text analysis shared by every search engine.

Both engines index the token strings made here (split on spaces, nothing else
done to them) and run the boolean queries described here, so they cannot
disagree about what matches: only about how the matches are scored.

Chinese is cut by jieba with a dictionary of facility-name parts, so 仁济 and
和睦家 are single terms, and each word's tone-less pinyin is indexed too, so
``renji`` finds 仁济. Beside the words jieba cuts, every dictionary word
anywhere in the text is indexed (jieba's "search mode", generalised): a query
is cut into dictionary words and single characters, so a query word is found
wherever it occurs, however jieba cut the facility's text around it (特需门诊部
is cut 特需门诊/部, yet 门诊部 finds it). Single characters are matched in a
field of character unigrams. English is case-folded and Porter-stemmed; an
apostrophe inside a word is dropped, so Jing'an is the pinyin ``jingan``.

Queries forgive (``Lexicon``): a Latin word that is no term of the index is
looked up as a prefix (``renj``) and with one typo (``Rengi``), among the
Latin terms the index holds; adjacent words that make one term are joined
(``ren ji``); and a word of the synonym table (``directory_data/synonyms.csv``)
brings its other-language words (``dental`` finds 齿科). Both engines expand a
query the same way from the same lexicon, so they still find the same facilities.
"""

from __future__ import annotations

import bisect
import csv
import functools
import hashlib
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin, load_phrases_dict
from whoosh.lang.porter import stem

from server.directory.models import Category, Facility
from server.search import SearchFilters

# Bump when the analysis below changes in a way that changes tokens.
ANALYSIS_VERSION = 2

WORDS_FILE = Path(__file__).with_name("facility_words.txt")
SYNONYMS_FILE = Path(__file__).parents[2] / "directory_data" / "synonyms.csv"

# Text fields, with the weight a match in each adds to a facility's score.
NAME, ADDRESS, EXTRA, GRAM = "name", "addr", "extra", "gram"
TEXT_FIELDS = (NAME, ADDRESS, EXTRA)  # what a query word's terms are looked up in
FIELD_BOOSTS = {NAME: 3.0, EXTRA: 1.5, ADDRESS: 1.0, GRAM: 0.3}  # GRAM: single characters

CATEGORY_LABELS = {
    Category.GENERAL: ("综合", "General"),
    Category.SPECIALIST: ("专科", "Specialist"),
    Category.TCM: ("中医", "Traditional Chinese Medicine"),
    Category.DENTAL: ("齿科", "Dental"),
}

# Exact-match filter fields. Values are indexed as "=" + value, so an empty
# value is still a term, and several values of one field are joined with SEP.
KEYWORD_FIELDS = ("kind", "city", "district", "ownership", "grade", "dept", "network")
SEP = "\x1f"

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(rf"[{_HAN}]+")
# A run of Han characters, or of Latin letters and digits
_RUNS = re.compile(rf"([{_HAN}]+)|([0-9a-z\u00df-\u00f6\u00f8-\u024f]+)")

# Place names pypinyin reads with the wrong one of a character's readings
# (长 zhang for chang, 行 xing for hang): corrected before any pinyin is made.
PINYIN_PHRASES = {
    "长宁": [["cháng"], ["níng"]],
    "闵行": [["mǐn"], ["háng"]],
    "长海": [["cháng"], ["hǎi"]],
}
load_phrases_dict(PINYIN_PHRASES)

_tokenizer = jieba.Tokenizer()
_init_lock = threading.Lock()
_ready = False


def initialize() -> None:
    """Load jieba's dictionary and the facility-name parts.

    Call once at start-up: loading takes about a second, which would
    otherwise land on the first search. Safe to call again.
    """
    global _ready
    if _ready:
        return
    with _init_lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)  # its start-up chatter is not ours to log
        _tokenizer.initialize()
        for word in user_words():
            _tokenizer.add_word(word)
        # a Chinese synonym must be one query word, so it is one term wherever it occurs
        for group in synonym_groups():
            for word in group:
                if _HAN_RUN.fullmatch(word) and len(word) > 1:
                    _tokenizer.add_word(word)
        _ready = True


def user_words() -> list[str]:
    words = []
    for line in WORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words


@functools.cache
def fingerprint() -> str:
    """Changes whenever the tokens for the same text could change; keys built indexes."""
    h = hashlib.sha256()
    h.update(f"v{ANALYSIS_VERSION}".encode())
    h.update(repr(sorted(PINYIN_PHRASES.items())).encode())
    h.update(WORDS_FILE.read_bytes())
    h.update(SYNONYMS_FILE.read_bytes())
    for package in ("jieba", "pypinyin"):
        h.update(f"{package}={version(package)}".encode())
    return h.hexdigest()[:16]


# An apostrophe between letters: Jing'an, Pu’an, People's
_APOSTROPHE = re.compile(r"(?<=[a-z])['\u2019\u02bc](?=[a-z])")


def normalise(text: str) -> str:
    # NFKC folds full-width letters, digits and brackets to ASCII.
    return _APOSTROPHE.sub("", unicodedata.normalize("NFKC", text).casefold())


def _is_word(s: str) -> bool:
    return _tokenizer.FREQ.get(s, 0) > 0


@functools.lru_cache(maxsize=200_000)
def _cut(run: str) -> tuple[str, ...]:
    # Dictionary only (no HMM guessing of unknown words): the same characters
    # are then cut the same way in a query as in a facility's text.
    initialize()
    return tuple(w for w in _tokenizer.cut(run, HMM=False) if w.strip())


@functools.lru_cache(maxsize=65536)
def pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


@functools.lru_cache(maxsize=65536)
def _han_terms(word: str) -> tuple[str, ...]:
    """A jieba word, every dictionary word inside it, and their pinyin."""
    terms = [word]
    n = len(word)
    for size in range(2, n):
        for i in range(n - size + 1):
            part = word[i : i + size]
            if _is_word(part):
                terms.append(part)
    terms += [p for p in (pinyin(t) for t in terms if len(t) > 1) if p]
    return tuple(terms)


@functools.lru_cache(maxsize=65536)
def _latin_term(word: str) -> str:
    return stem(word) if word.isalpha() else word


@functools.lru_cache(maxsize=200_000)  # departments, districts and streets repeat
def terms(text: str) -> tuple[str, ...]:
    """The index terms for one piece of facility text."""
    out: list[str] = []
    for m in _RUNS.finditer(normalise(text)):
        han, latin = m.groups()
        if han:
            out += _han_run_terms(han)
        else:
            out.append(_latin_term(latin))
    return tuple(out)


@functools.lru_cache(maxsize=200_000)
def _han_run_terms(run: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in _cut(run):
        out += _han_terms(word)
    # Every dictionary word in the run, also across the cuts jieba made.
    seen = set(out)
    for start, ends in _tokenizer.get_DAG(run).items():
        for end in ends:
            word = run[start : end + 1]
            if end > start and word not in seen:
                seen.add(word)
                out.append(word)
    return tuple(out)


@functools.lru_cache(maxsize=200_000)
def grams(text: str) -> tuple[str, ...]:
    """The Chinese characters of a piece of text, for single-character queries."""
    return tuple(ch for run in _HAN_RUN.findall(normalise(text)) for ch in run)


def document(f: Facility) -> dict[str, str]:
    """Space-separated index terms for each field of one facility."""
    names = [f.name_zh, f.name_en]
    # Many addresses leave out the district; the pinyin of the district and
    # city also answers "pudong" or "shanghai" typed by a foreign client.
    addresses = [f.address_zh, f.address_en, f.district, f.city]
    extras = [d.zh for d in f.departments] + [d.en for d in f.departments] + list(f.tags)
    # The category and grade are shown as tags in every list, so they are searched too.
    extras += [*CATEGORY_LABELS[f.category], f.grade]
    return {
        NAME: _join(terms(t) for t in names),
        ADDRESS: _join(terms(t) for t in addresses),
        EXTRA: _join(terms(t) for t in extras),
        GRAM: _join(grams(t) for t in (f.name_zh, f.address_zh, f.district, f.city, *extras)),
    }


def keywords(f: Facility) -> dict[str, list[str]]:
    """The filter values of one facility, field by field."""
    return {
        "kind": [_kw(f.kind.value)],
        "city": [_kw(f.city)],
        "district": [_kw(f.district)],
        "ownership": [_kw(f.ownership.value)],
        "grade": [_kw(f.grade)],
        "dept": list(dict.fromkeys(_kw(d.zh) for d in f.departments)),
        "network": list(dict.fromkeys(_kw(n) for n in f.networks)),
    }


def filter_terms(filters: SearchFilters) -> list[tuple[str, str]]:
    """(field, term) pairs a facility must all have to pass the filters."""
    values = {
        "kind": None if filters.kind is None else filters.kind.value,
        "city": filters.city,
        "district": filters.district,
        "ownership": None if filters.ownership is None else filters.ownership.value,
        "grade": filters.grade,
        "dept": filters.department,
        "network": filters.network,
    }
    return [(field, _kw(v)) for field, v in values.items() if v is not None]


def _kw(value: str) -> str:
    return "=" + value


def _join(parts: Iterable[Iterable[str]]) -> str:
    return " ".join(t for part in parts for t in part)


@dataclass(frozen=True, slots=True)
class Clause:
    """One query word. A facility matches it when any (field, term) pair in
    ``terms`` or ``near`` is in its index, or, when ``grams`` is not empty, when
    its gram field holds every one of them (a single character: the only gram).
    ``near`` holds the word's synonyms and the lexicon's completions and one-typo
    neighbours of it: they match too, but score ``NEAR_WEIGHT`` of the word itself,
    so what was typed ranks first."""

    word: str
    terms: tuple[tuple[str, str], ...]
    grams: tuple[str, ...] = ()
    near: tuple[tuple[str, str], ...] = ()


NEAR_WEIGHT = 0.5


def query(text: str, lexicon: Lexicon | None = None) -> tuple[Clause, ...]:
    """The clauses a facility must all match. Empty when the text holds
    nothing searchable (only punctuation, say). With a lexicon, Latin words
    the index does not hold are forgiven (see ``Lexicon``)."""
    if lexicon is None:
        return _query(text)
    return lexicon.query(text)


@functools.lru_cache(maxsize=4096)
def _query(text: str) -> tuple[Clause, ...]:
    return _clauses(_query_words(text), None)


def _clauses(words: Iterable[_Word], lexicon: Lexicon | None) -> tuple[Clause, ...]:
    clauses: dict[str, Clause] = {}
    for word, forms, word_grams in words:
        if word in clauses:
            continue
        near = _synonym_forms(word, forms)
        # a word of the synonym table is a real word, not a typo ("teeth" is not "tenth")
        if lexicon is not None and not near and not _HAN_RUN.match(word):
            near += lexicon.neighbours(word, forms)
        near = tuple(t for t in dict.fromkeys(near) if t not in forms)
        clauses[word] = Clause(word, _pairs(forms), word_grams, _pairs(near))
    return tuple(clauses.values())


def _pairs(forms: Iterable[str]) -> tuple[tuple[str, str], ...]:
    forms = tuple(forms)
    return tuple((field, form) for field in TEXT_FIELDS for form in forms)


_Word = tuple[str, tuple[str, ...], tuple[str, ...]]  # word, its terms, its grams


def _query_words(text: str) -> Iterator[_Word]:
    for m in _RUNS.finditer(normalise(text)):
        han, latin = m.groups()
        if han:
            for word in _cut(han):
                # a multi-character word is a dictionary word, indexed wherever
                # it occurs; a single character is looked up among characters
                yield word, (word,), (word,) if len(word) == 1 else ()
        else:
            yield _latin_word(latin)


def _latin_word(latin: str) -> _Word:
    # The stem finds English text; the word as typed finds pinyin,
    # which is indexed unstemmed.
    return latin, tuple(dict.fromkeys((_latin_term(latin), latin))), ()


# Synonyms ---------------------------------------------------------------------


def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """Each row of the synonym table: its English and Chinese words, normalised."""
    return _synonym_table()[0]


@functools.cache
def _synonym_table() -> tuple[tuple[tuple[str, ...], ...], dict[str, tuple[str, ...]]]:
    groups: list[tuple[str, ...]] = []
    with SYNONYMS_FILE.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            words = [
                normalise(w).strip()
                for column in ("en", "zh")
                for w in (row.get(column) or "").split("|")
            ]
            group = tuple(dict.fromkeys(w for w in words if w))
            if len(group) > 1:
                groups.append(group)
    # A word's key: the stem of an English word, a Chinese word as it is
    by_key: dict[str, list[str]] = {}
    for group in groups:
        for word in group:
            by_key.setdefault(_synonym_key(word), []).extend(group)
    return tuple(groups), {k: tuple(dict.fromkeys(v)) for k, v in by_key.items()}


def _synonym_key(word: str) -> str:
    return word if _HAN_RUN.match(word) else _latin_term(word)


@functools.lru_cache(maxsize=4096)
def _synonym_forms(word: str, forms: tuple[str, ...]) -> tuple[str, ...]:
    """The terms of a query word's synonyms (none when it is in no group)."""
    group = _synonym_table()[1].get(_synonym_key(word))
    if not group:
        return ()
    out: list[str] = []
    for other in group:
        if _HAN_RUN.fullmatch(other):
            out.append(other)
        elif _RUNS.fullmatch(other):
            out += _latin_word(other)[1]
    return tuple(t for t in dict.fromkeys(out) if t not in forms)


# Forgiving queries --------------------------------------------------------------

LEXICON_FILE = "lexicon.tsv"
PREFIX_MIN = 3  # letters typed before a word is completed from the lexicon
TYPO_MIN = 4  # letters a word needs before one typo is forgiven
MAX_PREFIX_TERMS = 24  # completions kept per query word, the most common first
MAX_TYPO_TERMS = 8
MAX_JOIN = 4  # at most this many typed words are joined into one term (ren ji yi yuan)
_LATIN_TERM = re.compile(r"[a-z]+")


def lexicon_counts(documents: Iterable[dict[str, str]]) -> Counter[str]:
    """How many facilities hold each Latin term in a text field: what a lexicon
    is built from, counted while an index is written."""
    counts: Counter[str] = Counter()
    for doc in documents:
        seen: set[str] = set()
        for field in TEXT_FIELDS:
            seen.update(t for t in doc[field].split(" ") if _LATIN_TERM.fullmatch(t))
        counts.update(seen)
    return counts


class Lexicon:
    """The Latin terms of one index (English stems and words, pinyin), with the
    number of facilities holding each; saved beside the index.

    A query word the index holds is looked up as it is. Otherwise it is
    completed (every term it starts, ``PREFIX_MIN`` letters or more) and, from
    ``TYPO_MIN`` letters, matched with one typo: a letter added, dropped,
    changed, or two swapped (found through the terms' one-letter deletions).
    Only the most common completions count, so a short prefix stays cheap.
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self._sorted = sorted(counts)
        deletions: dict[str, list[str]] = {}
        for term in self._sorted:
            if len(term) >= TYPO_MIN - 1:
                for variant in _deletions(term):
                    deletions.setdefault(variant, []).append(term)
        self._deletions = deletions
        self._cached_query = functools.lru_cache(maxsize=4096)(self._query)

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, term: object) -> bool:
        return term in self._counts

    def save(self, folder: Path) -> None:
        lines = (f"{t}\t{n}\n" for t, n in sorted(self._counts.items()))
        (folder / LEXICON_FILE).write_text("".join(lines), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Lexicon:
        """Raises OSError or ValueError when the file is missing or damaged."""
        counts: dict[str, int] = {}
        for line in (folder / LEXICON_FILE).read_text(encoding="utf-8").splitlines():
            term, n = line.split("\t")
            counts[term] = int(n)
        return cls(counts)

    def query(self, text: str) -> tuple[Clause, ...]:
        return self._cached_query(text)

    def _query(self, text: str) -> tuple[Clause, ...]:
        return _clauses(self._joined(list(_query_words(text))), self)

    def _joined(self, words: list[_Word]) -> Iterator[_Word]:
        """Adjacent Latin words that make one term the index holds, as that term:
        ``ren ji`` is the pinyin ``renji`` typed with a space."""
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + MAX_JOIN), i + 1, -1):
                run = [w for w, _, _ in words[i:j]]
                joined = "".join(run)
                if all(_LATIN_TERM.fullmatch(w) for w in run) and joined in self._counts:
                    yield _latin_word(joined)
                    i = j
                    break
            else:
                yield words[i]
                i += 1

    def neighbours(self, word: str, forms: tuple[str, ...]) -> tuple[str, ...]:
        """Terms a Latin query word stands for when the index holds none of its forms."""
        if any(f in self._counts for f in forms) or not _LATIN_TERM.fullmatch(word):
            return ()
        found: list[str] = []
        if len(word) >= PREFIX_MIN:
            found += self._most_common(self._completions(word), MAX_PREFIX_TERMS)
        if len(word) >= TYPO_MIN:
            found += self._most_common(self._one_typo(word), MAX_TYPO_TERMS)
        return tuple(dict.fromkeys(found))

    def _completions(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\x7f", lo=start)
        return self._sorted[start:end]

    def _one_typo(self, word: str) -> list[str]:
        candidates = set(self._deletions.get(word, ()))  # a letter too few
        for variant in _deletions(word):
            if variant in self._counts:  # a letter too many
                candidates.add(variant)
            candidates.update(self._deletions.get(variant, ()))  # changed or swapped
        return [t for t in candidates if _one_edit(word, t)]

    def _most_common(self, terms: list[str], n: int) -> list[str]:
        return sorted(terms, key=lambda t: (-self._counts[t], t))[:n]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """At most one insertion, deletion, substitution or swap of neighbours apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]
