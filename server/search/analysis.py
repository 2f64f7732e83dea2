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
field of character unigrams. English is case-folded and Porter-stemmed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import jieba
from pypinyin import Style, lazy_pinyin
from whoosh.lang.porter import stem

from server.directory.models import Category, Facility
from server.search import SearchFilters

# Bump when the analysis below changes in a way that changes tokens.
ANALYSIS_VERSION = 1

WORDS_FILE = Path(__file__).with_name("facility_words.txt")

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
    h.update(WORDS_FILE.read_bytes())
    for package in ("jieba", "pypinyin"):
        h.update(f"{package}={version(package)}".encode())
    return h.hexdigest()[:16]


def normalise(text: str) -> str:
    # NFKC folds full-width letters, digits and brackets to ASCII.
    return unicodedata.normalize("NFKC", text).casefold()


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
    ``terms`` is in its index, or, when ``grams`` is not empty, when its gram
    field holds every one of them (a single character: the only gram)."""

    word: str
    terms: tuple[tuple[str, str], ...]
    grams: tuple[str, ...] = ()


@functools.lru_cache(maxsize=4096)
def query(text: str) -> tuple[Clause, ...]:
    """The clauses a facility must all match. Empty when the text holds
    nothing searchable (only punctuation, say)."""
    clauses: dict[str, Clause] = {}
    for word, forms, word_grams in _query_words(text):
        if word not in clauses:
            pairs = tuple((field, form) for field in TEXT_FIELDS for form in forms)
            clauses[word] = Clause(word, pairs, word_grams)
    return tuple(clauses.values())


def _query_words(text: str) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    for m in _RUNS.finditer(normalise(text)):
        han, latin = m.groups()
        if han:
            for word in _cut(han):
                # a multi-character word is a dictionary word, indexed wherever
                # it occurs; a single character is looked up among characters
                yield word, (word,), (word,) if len(word) == 1 else ()
        else:
            # The stem finds English text; the word as typed finds pinyin,
            # which is indexed unstemmed.
            yield latin, tuple(dict.fromkeys((_latin_term(latin), latin))), ()
