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
from dataclasses import dataclass, field
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
from starlette.requests import Request
from starlette.responses import Response

from server.compression import MINIMUM, choose, compress

PUBLIC_FIELDS = frozenset({"facilities", "facility", "facilityFacets", "__typename"})
_DOCUMENTS = 1024  # documents remembered as public or not, by hash
_BODIES = 4096  # request bodies remembered with their cache key
_CODINGS = 64  # Accept-Encoding headers remembered with the coding they choose


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


@dataclass(slots=True)
class Known:
    """A public query's request body seen before: its cache key, what it costs and its
    operation's name (what the budget and the metrics need of it), and the last answer
    sent with its compressed copies (br, gzip), each made once per answer.

    The answer goes out with the headers an answer made afresh gets from the middlewares
    (no ETag: those tag GET answers only), so a client cannot tell the two apart."""

    key: str
    cost: int | None
    operation: str | None
    # (answer, its compressed copies by coding), replaced as a whole
    ready: tuple[bytes, dict[str, bytes]] = field(default=(b"", {}))

    def response(self, request: Request, answer: bytes) -> Response:
        """The answer as the client asked for it, compressed or not."""
        body, encoded = self.ready
        if answer is not body and answer != body:
            encoded = {}
            self.ready = (answer, encoded)
        coding = _coding(request.headers.get("accept-encoding", ""))
        if coding is None or len(answer) < MINIMUM:
            # the Compress middleware passes it as it is, and adds Vary
            return Response(answer, media_type="application/json")
        out = encoded.get(coding)
        if out is None:
            out = encoded[coding] = compress(answer, coding)
        headers = {"Content-Encoding": coding, "Vary": "Accept-Encoding"}
        return Response(out, media_type="application/json", headers=headers)


class KnownQueries:
    """Request bodies of public queries seen before (by a hash of the body and the data
    version), so that the next identical body finds its cached answer unparsed."""

    def __init__(self, size: int = _BODIES) -> None:
        self.size = size
        self._known: OrderedDict[bytes, Known] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, raw: bytes) -> Known | None:
        with self._lock:
            known = self._known.get(raw)
            if known is not None:
                self._known.move_to_end(raw)
            return known

    def remember(
        self, raw: bytes | None, key: str, cost: int | None, operation: str | None
    ) -> Known:
        """The body's entry (made, or the one kept when it says the same)."""
        if raw is not None:
            known = self.get(raw)
            if known is not None and (known.key, known.cost, known.operation) == (
                key,
                cost,
                operation,
            ):
                return known
        known = Known(key, cost, operation)
        if raw is not None:
            with self._lock:
                self._known[raw] = known
                if len(self._known) > self.size:
                    self._known.popitem(last=False)
        return known

    def __len__(self) -> int:
        return len(self._known)


_chosen: dict[str, str | None] = {}


def _coding(accept_encoding: str) -> str | None:
    coding = _chosen.get(accept_encoding, "")
    if coding == "":
        coding = choose(accept_encoding)
        if len(_chosen) >= _CODINGS:
            _chosen.clear()
        _chosen[accept_encoding] = coding
    return coding
