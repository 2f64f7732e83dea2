"""Persisted queries: registered ones (the `*.graphql` files here) and Apollo's automatic ones.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": h}`, with or
without the query text. Without it, the text registered under `h` runs, or the answer is a
`PERSISTED_QUERY_NOT_FOUND` error (message `PersistedQueryNotFound`, which Apollo clients
answer by sending the text with the hash); with it, the text must hash to `h` and is kept
(at most `capacity` texts per process, least recently used dropped first; registered files
are always kept). A query known by its hash can then be fetched by GET, which a CDN can
cache: `GET /graphql?extensions=...&variables=...`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
BAD_EXTENSION = "PERSISTED_QUERY_INVALID"
MAX_QUERY_CHARS = 20_000  # an automatic query kept in memory; longer ones are not kept

FOLDER = Path(__file__).resolve().parent


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def registered_queries(folder: Path = FOLDER) -> dict[str, str]:
    """hash -> text of every `*.graphql` file in `folder` (the text as the file holds it)."""
    queries = {}
    for path in sorted(folder.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        queries[sha256(text)] = text
    return queries


class PersistedQueries:
    def __init__(self, registered: Mapping[str, str], capacity: int) -> None:
        self.registered = dict(registered)
        self.capacity = capacity
        self._auto: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> str | None:
        if (text := self.registered.get(digest)) is not None:
            return text
        with self._lock:
            text = self._auto.get(digest)
            if text is not None:
                self._auto.move_to_end(digest)
            return text

    def register(self, digest: str, query: str) -> None:
        if sha256(query) != digest:
            raise PersistedQueryError(
                HASH_MISMATCH, "`sha256Hash` is not the SHA-256 of the query text (hex)."
            )
        if digest in self.registered or len(query) > MAX_QUERY_CHARS:
            return
        with self._lock:
            self._auto[digest] = query
            self._auto.move_to_end(digest)
            while len(self._auto) > self.capacity:
                self._auto.popitem(last=False)

    def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The query text to run: `query` itself, or the one its persisted hash names.

        None: the request names no persisted query and has no text (the view answers it).
        """
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(digest, str)
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
            or persisted.get("version", 1) != 1
        ):
            raise PersistedQueryError(
                BAD_EXTENSION,
                '`extensions.persistedQuery` must be {"version": 1, "sha256Hash": <64 lower-case hex digits>}.',
            )
        if query is not None:
            self.register(digest, query)
            return query
        text = self.get(digest)
        if text is None:
            raise PersistedQueryError(NOT_FOUND, NOT_FOUND_MESSAGE)
        return text


def operation_type(query: str, operation_name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation that would run; None when the text does not say (bad
    syntax, no such operation: execution answers those with its own errors)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLSyntaxError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        # ambiguous: the dearest reading (any mutation among them refuses a GET)
        types = {o.operation for o in operations}
        return OperationType.MUTATION if OperationType.MUTATION in types else None
    return operations[0].operation
