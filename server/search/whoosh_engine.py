"""The default engine: a whoosh index of pre-analysed facility text.

whoosh stores the terms and postings; queries are evaluated with numpy over
those postings rather than by whoosh's matcher tree, which scores one
document at a time in Python and takes tens of milliseconds once a common
word (医院, hospital) matches a third of ten thousand facilities. The scoring
is whoosh's own BM25 (same formula, idf and defaults), per field, with the
field weights from ``analysis``.

The index is written in one commit by one writer, so it is a single segment
whose document numbers are the facilities' ordinals; no stored fields are
needed. The exact length of each text field of each facility is saved beside
it for the length normalisation.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index
from whoosh.analysis import RegexTokenizer
from whoosh.fields import ID, TEXT, Schema
from whoosh.reading import IndexReader, TermNotFound
from whoosh.scoring import bm25

from server.directory.directory import Directory
from server.search import BBox, SearchFilters, SearchHits, analysis
from server.search.analysis import (
    FIELD_BOOSTS,
    GRAM,
    KEYWORD_FIELDS,
    NEAR_WEIGHT,
    SEP,
    TEXT_FIELDS,
    Clause,
)

SCORED_FIELDS = (*TEXT_FIELDS, GRAM)
LENGTHS_FILE = "field_lengths.npy"
POINTS_FILE = "points.npy"  # latitude and longitude of each facility, for box filters
B, K1 = 0.75, 1.2  # whoosh's BM25F defaults

# Decoded postings kept in memory, most recently used first; counted in postings.
POSTINGS_CACHE = 2_000_000
FILTER_CACHE = 128
# and at most this many bytes of them: each holds a mask and the ordinals of a million
# facilities in a large directory, and every worker has its own
FILTER_CACHE_BYTES = 64 * 1024 * 1024

_EMPTY = np.empty(0, dtype=np.int64)


class StaleIndex(Exception):
    """The index on disk does not fit the directory; build it again."""


def _schema() -> Schema:
    terms = RegexTokenizer(r"\S+")  # the text is already analysed: split on spaces only
    values = RegexTokenizer(rf"[^{SEP}]+")
    fields: dict[str, object] = {name: TEXT(analyzer=terms, phrase=False) for name in SCORED_FIELDS}
    fields.update({name: ID(analyzer=values) for name in KEYWORD_FIELDS})
    return Schema(**fields)


def build(directory: Directory, path: Path) -> None:
    """Write a new index for ``directory`` into the empty folder ``path``."""
    analysis.initialize()
    path.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(path), _schema())
    lengths = np.zeros((len(SCORED_FIELDS), len(directory)), dtype=np.float32)
    points = np.array([(f.lat, f.lng) for f in directory.facilities], dtype=np.float64)
    writer = ix.writer(procs=1, limitmb=256)
    latin: Counter[str] = Counter()
    try:
        for i, facility in enumerate(directory.facilities):
            doc: dict[str, str] = analysis.document(facility)
            latin.update(analysis.lexicon_counts((doc,)))
            for row, field in enumerate(SCORED_FIELDS):
                lengths[row, i] = doc[field].count(" ") + 1 if doc[field] else 0
            for field, values in analysis.keywords(facility).items():
                doc[field] = SEP.join(values)
            writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    np.save(path / LENGTHS_FILE, lengths)
    np.save(path / POINTS_FILE, points.reshape(-1, 2).T)
    analysis.Lexicon(latin).save(path)


@dataclass(frozen=True, slots=True)
class _Postings:
    ordinals: np.ndarray  # int64, ascending
    scores: np.ndarray  # float32: what a match adds to a facility's score


@dataclass(frozen=True, slots=True)
class _Allowed:
    mask: np.ndarray  # bool per facility
    ordinals: np.ndarray  # the same facilities, in directory order


class WhooshEngine:
    name = "whoosh"

    def __init__(self, path: Path, size: int) -> None:
        analysis.initialize()
        try:
            # read-only, and the arrays memory-mapped: every worker shares their pages
            self._index = index.open_dir(str(path), readonly=True)
            lengths = np.load(path / LENGTHS_FILE, mmap_mode="r")
            points = np.load(path / POINTS_FILE, mmap_mode="r")
            self._lexicon = analysis.Lexicon.load(path)
        except Exception as e:  # missing, truncated or foreign files: all mean "build again"
            raise StaleIndex(f"no usable whoosh index at {path}: {e}") from e
        self._reader: IndexReader = self._index.reader()
        if (
            not self._reader.is_atomic()
            or self._reader.doc_count_all() != size
            or lengths.shape != (len(SCORED_FIELDS), size)
            or points.shape != (2, size)
        ):
            self._reader.close()
            raise StaleIndex(f"the whoosh index at {path} does not hold {size} facilities")
        self._size = size
        self._lat, self._lng = points
        # bm25() divides a facility's field length by the average: the lengths stay on
        # disk (shared), divided for the postings read (and cached) only
        self._lengths = {field: lengths[row] for row, field in enumerate(SCORED_FIELDS)}
        self._averages = {field: _average(lengths[row]) for row, field in enumerate(SCORED_FIELDS)}
        # Reading postings moves a shared file position: one reader at a time.
        self._lock = threading.Lock()
        self._postings: OrderedDict[tuple[str, str], _Postings | None] = OrderedDict()
        self._cached = 0
        self._filters: OrderedDict[tuple[tuple[str, str], ...], _Allowed] = OrderedDict()
        self._filter_bytes = 0

    @classmethod
    def open(cls, directory: Directory, path: Path) -> WhooshEngine:
        return cls(path, len(directory))

    def search(self, text: str | None, filters: SearchFilters, limit: int | None) -> SearchHits:
        if limit is not None and limit < 0:
            limit = 0
        allowed = self._allowed(filters)
        if filters.within is not None:
            allowed = self._inside(filters.within, allowed)
        if not text or not text.strip():
            if allowed is None:
                everything = np.arange(self._size, dtype=np.int64)
                return SearchHits(everything if limit is None else everything[:limit], self._size)
            matches = allowed.ordinals
            return SearchHits(matches if limit is None else matches[:limit], int(matches.size))
        clauses = analysis.query(text, self._lexicon)
        if not clauses or self._size == 0:
            return SearchHits(_EMPTY, 0)

        mask = np.ones(self._size, dtype=bool) if allowed is None else allowed.mask.copy()
        scores = np.zeros(self._size, dtype=np.float32)
        for clause in clauses:
            matched, clause_scores = self._clause(clause)
            mask &= matched
            scores += clause_scores
        ordinals = np.flatnonzero(mask)
        return SearchHits(_ranked(ordinals, scores[ordinals], limit), int(ordinals.size))

    def _clause(self, clause: Clause) -> tuple[np.ndarray, np.ndarray]:
        """Which facilities match one query word, and the score it adds to each."""
        matched = np.zeros(self._size, dtype=bool)
        scores = np.zeros(self._size, dtype=np.float32)
        for pairs, weight in ((clause.terms, None), (clause.near, NEAR_WEIGHT)):
            for field, term in pairs:
                p = self._postings_of(field, term)
                if p is not None:
                    matched[p.ordinals] = True
                    scores[p.ordinals] += p.scores if weight is None else p.scores * weight
        if clause.grams:
            grams = [self._postings_of(GRAM, g) for g in clause.grams]
            if all(p is not None for p in grams):
                count = np.zeros(self._size, dtype=np.int32)
                gram_scores = np.zeros(self._size, dtype=np.float32)
                for p in grams:
                    assert p is not None
                    count[p.ordinals] += 1
                    gram_scores[p.ordinals] += p.scores
                all_grams = count == len(grams)
                matched |= all_grams
                scores += np.where(all_grams, gram_scores, np.float32(0))
        return matched, scores

    def _postings_of(self, field: str, term: str) -> _Postings | None:
        key = (field, term)
        with self._lock:
            if key in self._postings:
                self._postings.move_to_end(key)
                return self._postings[key]
            ordinals, weights = _read_postings(self._reader, field, term)
            if ordinals.size == 0:
                p = None
            elif field in self._lengths:
                idf = math.log(self._size / (ordinals.size + 1)) + 1
                boost = FIELD_BOOSTS[field]
                norms = _length_norms(self._lengths[field][ordinals], self._averages[field])
                p = _Postings(ordinals, (boost * bm25(idf, weights, norms, 1.0, B, K1)))
            else:
                p = _Postings(ordinals, np.zeros(ordinals.size, dtype=np.float32))
            self._postings[key] = p
            self._cached += 0 if p is None else int(p.ordinals.size)
            while self._cached > POSTINGS_CACHE and len(self._postings) > 1:
                _, old = self._postings.popitem(last=False)
                self._cached -= 0 if old is None else int(old.ordinals.size)
            return p

    def _allowed(self, filters: SearchFilters) -> _Allowed | None:
        """Facilities passing the filters; None when there are no filters.

        Kept for the most recent filter combinations: a page's facets and
        searches repeat the same few."""
        key = tuple(analysis.filter_terms(filters))
        if not key:
            return None
        with self._lock:
            cached = self._filters.get(key)
            if cached is not None:
                self._filters.move_to_end(key)
                return cached
        mask = np.ones(self._size, dtype=bool)
        for field, value in key:
            p = self._postings_of(field, value)
            hit = np.zeros(self._size, dtype=bool)
            if p is not None:
                hit[p.ordinals] = True
            mask &= hit
        allowed = _Allowed(mask, np.flatnonzero(mask))
        with self._lock:
            old = self._filters.pop(key, None)
            if old is not None:
                self._filter_bytes -= old.mask.nbytes + old.ordinals.nbytes
            self._filters[key] = allowed
            self._filter_bytes += allowed.mask.nbytes + allowed.ordinals.nbytes
            while len(self._filters) > 1 and (
                len(self._filters) > FILTER_CACHE or self._filter_bytes > FILTER_CACHE_BYTES
            ):
                _, dropped = self._filters.popitem(last=False)
                self._filter_bytes -= dropped.mask.nbytes + dropped.ordinals.nbytes
        return allowed

    def _inside(self, box: BBox, allowed: _Allowed | None) -> _Allowed:
        mask = (
            (self._lat >= box.south)
            & (self._lat <= box.north)
            & (self._lng >= box.west)
            & (self._lng <= box.east)
        )
        if allowed is not None:
            mask &= allowed.mask
        return _Allowed(mask, np.flatnonzero(mask))

    def close(self) -> None:
        with self._lock:
            self._postings.clear()
            self._filters.clear()
            self._filter_bytes = 0
            self._reader.close()


def _average(lengths: np.ndarray) -> float:
    return float(lengths.mean()) if lengths.size else 0.0


def _length_norms(lengths: np.ndarray, average: float) -> np.ndarray:
    return (lengths / average).astype(np.float32) if average > 0 else np.ones_like(lengths)


def _ranked(ordinals: np.ndarray, scores: np.ndarray, limit: int | None) -> np.ndarray:
    """Best first; equal scores in directory order."""
    if limit is not None and limit < ordinals.size:
        if limit == 0:
            return _EMPTY
        # only the best `limit` need sorting
        top = np.argpartition(-scores, limit - 1)[:limit]
        ordinals, scores = ordinals[top], scores[top]
    order = np.lexsort((ordinals, -scores))
    return ordinals[order].astype(np.int64, copy=False)


def _read_postings(reader: IndexReader, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and term frequencies of one term, ascending."""
    try:
        m = reader.postings(field, term)
    except TermNotFound:
        return _EMPTY, np.empty(0, dtype=np.float32)
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    if all(hasattr(m, a) for a in ("_read_ids", "_read_weights", "_next_block", "_ids")):
        # whoosh's on-disk matcher decodes a block of postings at a time: take
        # whole blocks rather than stepping posting by posting.
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.append(np.asarray(m._ids, dtype=np.int64))
            weights.append(np.asarray(m._weights, dtype=np.float32))
            m._next_block()
    else:
        pairs = []
        while m.is_active():
            pairs.append((m.id(), m.weight()))
            m.next()
        if pairs:
            a = np.asarray(pairs, dtype=np.float64)
            ids.append(a[:, 0].astype(np.int64))
            weights.append(a[:, 1].astype(np.float32))
    if not ids:
        return _EMPTY, np.empty(0, dtype=np.float32)
    return np.concatenate(ids), np.concatenate(weights)
