"""The engine for large directories: a tantivy index of pre-analysed facility text.

Sorting by distance needs every match, so what matters most at a million
facilities is getting all matching ordinals out quickly. The index is written
by one indexing thread in one commit, which makes it a single segment whose
document ids are the facilities' ordinals: a hit's ``DocAddress.doc`` is the
answer and no stored document is ever read. An ``ord`` fast field holds the
ordinal too, for an index that ends up in several segments anyway.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from operator import attrgetter, itemgetter
from pathlib import Path

import numpy as np
import tantivy

from server.directory.directory import Directory
from server.search import BBox, SearchFilters, SearchHits, analysis
from server.search.analysis import (
    FIELD_BOOSTS,
    GRAM,
    KEYWORD_FIELDS,
    NEAR_WEIGHT,
    TEXT_FIELDS,
    Clause,
)

TERMS_TOKENIZER = "terms"  # the text is already analysed: split on spaces only
ORDINAL = "ord"
LAT, LNG = "lat", "lng"  # WGS-84 degrees, for box filters

# Indexing memory: enough for a million facilities to fit one segment.
MIN_HEAP = 64_000_000
MAX_HEAP = 2_000_000_000
HEAP_PER_FACILITY = 2_000

_EMPTY = np.empty(0, dtype=np.int64)
_address = itemgetter(1)
_doc = attrgetter("doc")


class StaleIndex(Exception):
    """The index on disk does not fit the directory; build it again."""


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in (*TEXT_FIELDS, GRAM):
        sb.add_text_field(name, tokenizer_name=TERMS_TOKENIZER, index_option="freq")
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_integer_field(ORDINAL, fast=True)
    sb.add_float_field(LAT, fast=True)
    sb.add_float_field(LNG, fast=True)
    return sb.build()


def _register(ix: tantivy.Index) -> None:
    # Tokenizers are not saved with the index: register on every open.
    ix.register_tokenizer(
        TERMS_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
    )


def build(directory: Directory, path: Path) -> None:
    """Write a new index for ``directory`` into the empty folder ``path``."""
    analysis.initialize()
    path.mkdir(parents=True, exist_ok=True)
    ix = tantivy.Index(_schema(), path=str(path), reuse=False)
    _register(ix)
    heap = min(MAX_HEAP, max(MIN_HEAP, HEAP_PER_FACILITY * len(directory)))
    writer = ix.writer(heap_size=heap, num_threads=1)
    latin: Counter[str] = Counter()
    try:
        for i, facility in enumerate(directory.facilities):
            doc = analysis.document(facility)
            latin.update(analysis.lexicon_counts((doc,)))
            fields: dict[str, object] = dict(doc)
            fields.update(analysis.keywords(facility))
            fields[ORDINAL] = i
            fields[LAT] = float(facility.lat)
            fields[LNG] = float(facility.lng)
            writer.add_document(tantivy.Document(**fields))
        writer.commit()
        writer.wait_merging_threads()
        analysis.Lexicon(latin).save(path)
    except BaseException:
        # A writer that died mid-way may refuse to roll back; the caller
        # discards the folder either way.
        with contextlib.suppress(Exception):
            writer.rollback()
        raise


class TantivyEngine:
    name = "tantivy"

    def __init__(self, path: Path, size: int) -> None:
        analysis.initialize()
        try:
            ix = tantivy.Index.open(str(path))
        except ValueError as e:
            raise StaleIndex(f"no tantivy index at {path}: {e}") from e
        _register(ix)
        try:
            self._lexicon = analysis.Lexicon.load(path)
        except (OSError, ValueError) as e:
            raise StaleIndex(f"no usable lexicon at {path}: {e}") from e
        self._index = ix
        self._schema = ix.schema
        self._searcher = ix.searcher()
        if self._searcher.num_docs != size:
            raise StaleIndex(f"the tantivy index at {path} does not hold {size} facilities")
        self._size = size
        # Per segment, ordinal by document id; None when ids are ordinals.
        self._ordinals: list[np.ndarray] | None = None
        if self._searcher.num_segments != 1 or not self._ids_are_ordinals():
            self._ordinals = self._read_ordinals()

    @classmethod
    def open(cls, directory: Directory, path: Path) -> TantivyEngine:
        return cls(path, len(directory))

    def search(self, text: str | None, filters: SearchFilters, limit: int | None) -> SearchHits:
        if limit is not None and limit < 0:
            limit = 0
        restrict = [
            (tantivy.Occur.Must, self._term(field, value))
            for field, value in analysis.filter_terms(filters)
        ]
        if filters.within is not None:
            restrict += [(tantivy.Occur.Must, q) for q in self._box(filters.within)]
        if not text or not text.strip():
            if not restrict:
                everything = np.arange(self._size, dtype=np.int64)
                return SearchHits(everything if limit is None else everything[:limit], self._size)
            return self._listing(tantivy.Query.boolean_query(restrict), limit)
        clauses = analysis.query(text, self._lexicon)
        if not clauses or self._size == 0:
            return SearchHits(_EMPTY, 0)
        parts = [(tantivy.Occur.Must, self._clause(c)) for c in clauses]
        # Filters must match but add nothing to the score.
        parts += [(occur, tantivy.Query.const_score_query(q, 0.0)) for occur, q in restrict]
        q = tantivy.Query.boolean_query(parts)
        if limit is None:
            ordinals = self._ordinals_of(self._searcher.search(q, self._size, count=False).hits)
            return SearchHits(ordinals, int(ordinals.size))
        result = self._searcher.search(q, max(limit, 1), count=True)
        return SearchHits(self._ordinals_of(result.hits)[:limit], int(result.count or 0))  # type: ignore[attr-defined]  # missing from the stubs

    def _listing(self, q: tantivy.Query, limit: int | None) -> SearchHits:
        if self._size == 0:
            return SearchHits(_EMPTY, 0)
        n = self._size if limit is None else max(limit, 1)
        result = self._searcher.search(
            q,
            n,
            count=limit is not None,
            order_by_field=ORDINAL,
            order=tantivy.Order.Asc,
        )
        ordinals = self._ordinals_of(result.hits)
        if limit is None:
            return SearchHits(ordinals, int(ordinals.size))
        return SearchHits(ordinals[:limit], int(result.count or 0))  # type: ignore[attr-defined]  # missing from the stubs

    def _ordinals_of(self, hits: list[tuple[object, tantivy.DocAddress]]) -> np.ndarray:
        addresses = map(_address, hits)
        if self._ordinals is None:
            return np.fromiter(map(_doc, addresses), dtype=np.int64, count=len(hits))
        tables = self._ordinals
        return np.fromiter(
            (tables[a.segment_ord][a.doc] for a in addresses), dtype=np.int64, count=len(hits)
        )

    def _box(self, box: BBox) -> list[tantivy.Query]:
        return [
            tantivy.Query.range_query(self._schema, field, tantivy.FieldType.Float, low, high)
            for field, low, high in ((LAT, box.south, box.north), (LNG, box.west, box.east))
        ]

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value, index_option="basic")

    def _clause(self, c: Clause) -> tantivy.Query:
        should = tantivy.Occur.Should
        alternatives = [
            (
                should,
                tantivy.Query.boost_query(
                    tantivy.Query.term_query(self._schema, f, t, index_option="freq"),
                    FIELD_BOOSTS[f],
                ),
            )
            for f, t in c.terms
        ]
        alternatives += [
            (
                should,
                tantivy.Query.boost_query(
                    tantivy.Query.term_query(self._schema, f, t, index_option="freq"),
                    FIELD_BOOSTS[f] * NEAR_WEIGHT,
                ),
            )
            for f, t in c.near
        ]
        if c.grams:
            grams = [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.term_query(self._schema, GRAM, g, index_option="freq"),
                )
                for g in c.grams
            ]
            alternatives.append(
                (
                    should,
                    tantivy.Query.boost_query(
                        tantivy.Query.boolean_query(grams), FIELD_BOOSTS[GRAM]
                    ),
                )
            )
        return tantivy.Query.boolean_query(alternatives)

    def _ids_are_ordinals(self) -> bool:
        # Spot-check the first, last and evenly spaced documents.
        docs = sorted({0, self._size - 1, *range(0, self._size, max(1, self._size // 64))})
        docs = [d for d in docs if 0 <= d < self._size]
        if not docs:
            return True
        values = self._searcher.fast_field_values(ORDINAL, [tantivy.DocAddress(0, d) for d in docs])
        return values == docs

    def _read_ordinals(self) -> list[np.ndarray]:
        hits = self._searcher.search(
            tantivy.Query.all_query(), max(self._size, 1), count=False
        ).hits
        addresses = [a for _, a in hits]
        values = self._searcher.fast_field_values(ORDINAL, addresses)
        sizes = [0] * self._searcher.num_segments
        for a in addresses:
            sizes[a.segment_ord] = max(sizes[a.segment_ord], a.doc + 1)
        tables = [np.full(n, -1, dtype=np.int64) for n in sizes]
        for a, v in zip(addresses, values, strict=True):
            tables[a.segment_ord][a.doc] = -1 if v is None else int(v)
        return tables

    def close(self) -> None:
        # tantivy frees its readers when the objects go; nothing to flush.
        self._ordinals = None
