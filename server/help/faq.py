"""The claimants' FAQ: the insurer's questions and answers in Chinese and English, searchable.

The entries live in faq.toml beside this module, each with the section of the source
document it comes from. Search uses the directory's text analysis (jieba words, pinyin,
English stems), so `bingli`, `病历` and `medical record` find the same entry, whatever the
page language; entries are ranked by how rare the matched words are.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from server.errors import InvalidInput
from server.search.analysis import terms

FAQ_FILE = Path(__file__).with_name("faq.toml")
LANGUAGES = ("zh", "en")
MAX_QUERY = 100

# The claim steps an entry can answer; the app and the H5 pages link to entries from them.
STEPS = ("contact", "basics", "amount", "upload", "confirm", "success", "progress")

# Words too common in the questions to tell entries apart.
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "can",
        "do",
        "doe",
        "does",
        "for",
        "from",
        "get",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "my",
        "not",
        "of",
        "on",
        "or",
        "the",
        "to",
        "what",
        "when",
        "where",
        "whi",
        "why",
        "with",
        "you",
        "your",
        "我",
        "的",
        "了",
        "是",
        "怎么办",
        "什么",
        "怎样",
        "吗",
    ]
)


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    source: str  # the section of the insurer's guide the answer comes from
    topics: tuple[str, ...]
    answers: tuple[str, ...]  # claim steps (STEPS) this entry answers
    question: dict[str, str]  # language -> text
    answer: dict[str, str]

    def text(self, lang: str) -> tuple[str, str]:
        return self.question[lang], self.answer[lang]


@cache
def entries() -> tuple[FaqEntry, ...]:
    with FAQ_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    out = []
    for row in data["entry"]:
        for step in row["answers"]:
            if step not in STEPS:
                raise ValueError(f"FAQ {row['id']}: unknown claim step {step!r}")
        out.append(
            FaqEntry(
                id=row["id"],
                source=row["source"],
                topics=tuple(row["topics"]),
                answers=tuple(row["answers"]),
                question={lang: row[f"question_{lang}"] for lang in LANGUAGES},
                answer={lang: row[f"answer_{lang}"] for lang in LANGUAGES},
            )
        )
    ids = [e.id for e in out]
    if len(set(ids)) != len(ids):
        raise ValueError("FAQ ids repeat")
    return tuple(out)


def get(entry_id: str) -> FaqEntry | None:
    return next((e for e in entries() if e.id == entry_id), None)


def for_step(step: str) -> list[FaqEntry]:
    """The entries to link beside one claim step."""
    if step not in STEPS:
        raise InvalidInput(f"unknown claim step {step!r}", field="step")
    return [e for e in entries() if step in e.answers]


def search(query: str | None) -> list[FaqEntry]:
    """Every entry for an empty query; else those that share a telling word, best first."""
    text = (query or "").strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"a question has at most {MAX_QUERY} characters", field="query")
    if not text:
        return list(entries())
    wanted = {t for t in terms(text) if t not in _STOP}
    index = _index()
    scored = []
    for position, (entry, words) in enumerate(index.words):
        score = sum(index.weight[w] for w in wanted & words)
        if score > 0:
            scored.append((-score, position, entry))
    return [entry for _, _, entry in sorted(scored)]


@dataclass(frozen=True, slots=True)
class _Index:
    words: list[tuple[FaqEntry, frozenset[str]]]
    weight: dict[str, float]


@cache
def _index() -> _Index:
    words = []
    for entry in entries():
        bag: set[str] = set(entry.topics)
        for lang in LANGUAGES:
            for part in entry.text(lang):
                bag.update(terms(part))
        for topic in entry.topics:
            bag.update(terms(topic))
        words.append((entry, frozenset(bag - _STOP)))
    df = Counter(w for _, bag in words for w in bag)
    n = len(words)
    # a word in every entry tells nothing; a rare one tells most
    weight = {w: math.log(1 + n / d) for w, d in df.items() if d < n}
    return _Index(words, weight)
