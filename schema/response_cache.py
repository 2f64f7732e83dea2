"""Which GraphQL requests may share a cached answer, and under which key.

Only anonymous queries of the public directory: every top-level field of the operation
that runs is one of `PUBLIC_FIELDS`, whose answers depend on nothing but the document,
the variables and the loaded directory (not the caller, the time or any header). The key
holds the document's hash, the operation name, the variables and the data version (the
directory's content hash, the search engine and its analysis, the schema and its limits),
so new data, new code or other limits never meet an old answer. Mutations, signed-in
requests (the edge checks the header) and anything else are answered as always.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)

PUBLIC_FIELDS = frozenset({"facilities", "facility", "facilityFacets", "__typename"})
_DOCUMENTS = 1024  # documents remembered as public or not, by hash


class PublicQueries:
    """Tells public directory queries apart, remembering the verdict per document."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._verdicts: OrderedDict[tuple[bytes, str | None], bool] = OrderedDict()
        self._lock = threading.Lock()

    def key(
        self,
        version: str,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> str | None:
        """The cache key of a public directory query; None for any other request."""
        digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
        if not self._public(digest, query, operation_name):
            return None
        try:
            values = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # e.g. an integer orjson cannot write: no caching
            return None
        h = hashlib.sha256()
        for part in (version.encode(), digest, (operation_name or "").encode(), values):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
        return h.hexdigest()

    def _public(self, digest: bytes, query: str, operation_name: str | None) -> bool:
        verdict_key = (digest, operation_name)
        with self._lock:
            verdict = self._verdicts.get(verdict_key)
            if verdict is not None:
                self._verdicts.move_to_end(verdict_key)
                return verdict
        try:
            document = parse(query, no_location=True, max_tokens=self.max_tokens)
        except GraphQLError:
            verdict = False  # the request's own parse gives the error
        else:
            verdict = is_public(document, operation_name)
        with self._lock:
            self._verdicts[verdict_key] = verdict
            if len(self._verdicts) > _DOCUMENTS:
                self._verdicts.popitem(last=False)
        return verdict


def is_public(document: DocumentNode, operation_name: str | None) -> bool:
    """The operation that runs is a query of public directory fields only."""
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
        elif not isinstance(definition, FragmentDefinitionNode):
            return False
    if operation_name is None:
        if len(operations) != 1:
            return False
        operation = operations[0]
    else:
        named = [o for o in operations if o.name is not None and o.name.value == operation_name]
        if len(named) != 1:
            return False
        operation = named[0]
    if operation.operation is not OperationType.QUERY:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in PUBLIC_FIELDS
        for selection in operation.selection_set.selections
    )


def data_version(*parts: str) -> str:
    """One version string from everything answers depend on besides the request."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]
