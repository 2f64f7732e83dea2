"""Compiled selections (schema/execution.py) answer exactly as Strawberry's stock executor.

Each document runs twice on the direct executor (the second run uses the selections
compiled by the first) and once on the stock one; data and errors (messages, locations,
paths, in order) must be the same. Variables change between runs of one document, so
an answer compiled for one set of variables is never served for another. Completed
views of pure types are reused across requests only under the same key, and a new data
version gives new answers.
"""

from __future__ import annotations

import asyncio
import enum
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import pytest
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import ParserCache

import schema.execution
from schema import build_schema
from schema.context import Context
from schema.execution import Executor, pure_view
from server.services import Services
from server.settings import Settings

# the test types of tests/schema/test_execution.py (a basename there is unique)
from tests.schema.test_execution import Circle, Query


@strawberry.type
class Note:
    text: str
    words: list[str]


@strawberry.type
class Card:
    """A pure type: its fields depend only on the object."""

    key: str
    title: str
    notes: list[Note]
    version: strawberry.Private[int]

    @strawberry.field
    def shout(self) -> str:
        return self.title.upper()


pure_view(Note)
pure_view(Card, key=lambda card: (card.key, card.version))

# what the cards hold now, and the data version; the tests change both
STORE: dict[str, Any] = {"titles": ["one", "two"], "version": 1}


@strawberry.type
class CardQuery:
    @strawberry.field
    def cards(self) -> list[Card]:
        return [
            Card(
                key=f"c{i}",
                title=title,
                notes=[Note(text=f"{title} note", words=title.split())],
                version=STORE["version"],
            )
            for i, title in enumerate(STORE["titles"])
        ]

    @strawberry.field
    def broken_cards(self) -> list[Card]:
        return [
            Card(key="ok", title="fine", notes=[], version=0),
            Card(key="bad", title=None, notes=[], version=0),  # type: ignore[arg-type]
        ]


def _run(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None, **kw: Any
) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(schema.execute(query, variables, **kw))).result()


def _response(result: Any) -> dict[str, Any]:
    return {"data": result.data, "errors": [e.formatted for e in result.errors or []]}


def _parse_cache() -> Any:
    cache = ParserCache()  # one for all requests
    return lambda: cache


@pytest.fixture(scope="module")
def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    # parsed documents cached (as the app's limits extension does), so that the second run
    # of a document meets the selections compiled by the first
    direct = strawberry.Schema(
        query=Query, types=[Circle], execution_context_class=Executor, extensions=[_parse_cache()]
    )
    stock = strawberry.Schema(query=Query, types=[Circle])
    return direct, stock


# (document, variables of each run): every document runs with each set in turn
DOCUMENTS: list[tuple[str, list[dict[str, Any]]]] = [
    ("{ things { text number ratio flag colour when maybe must tags colours tupled } }", [{}]),
    ("{ things { t: text n: number t2: text leaves { a: s b: n s } } }", [{}]),
    ("{ things { __typename child { __typename s } leaves { __typename } } }", [{}]),
    (
        "{ things { ...A leaves { ...L } } } fragment A on Thing { text ...B }"
        " fragment B on Thing { number strictChild { ...L } } fragment L on Leaf { s n }",
        [{}],
    ),
    (
        "{ things { ... on Thing { text ... { number } } child { ... on Leaf { s } } } }",
        [{}],
    ),
    ("{ things { text text number text } things2: things { flag } }", [{}]),
    (
        "query($a: Boolean!, $b: Boolean!) { things { text @include(if: $a)"
        " number @skip(if: $b) leaves { s @include(if: $a) n @skip(if: $a) } } }",
        [{"a": True, "b": False}, {"a": False, "b": True}, {"a": True, "b": True}],
    ),
    (
        "query($a: Boolean!) { things { leaves { ...L @include(if: $a) n } } }"
        " fragment L on Leaf { s }",
        [{"a": True}, {"a": False}, {"a": True}],
    ),
    (
        "query($a: Boolean!) { things { ... on Thing @skip(if: $a) { child { s } } text } }",
        [{"a": False}, {"a": True}],
    ),
    ("{ things { strictChild { s n } optionalLeaves { s } strictLeaves { s } nested } }", [{}]),
    ("{ things { computed withInfo withRoot withParent shape { __typename } } }", [{}]),
    ("{ oddThings { must text } }", [{}]),
    ("{ oddThings { strictChild { s } leaves { s } } }", [{}]),
    ("{ oddThings { strictLeaves { s } tags colours } }", [{}]),
    ("{ oddThings { maybe text number colour } }", [{}]),
    ("{ oddThings { raises raisesStrict computed } }", [{}]),
    ("{ oddThings { wrongInt wrongEnum pretendLeaf { s } pretendThing { text } } }", [{}]),
    ("{ strictThings { must text } }", [{}]),
    ("{ asyncThings { text leaves { s } later } }", [{}]),
    ("{ things { text nosuchfield } }", [{}]),
    ("{ things { leaves { s nope } } }", [{}]),
    ("{ things { child } }", [{}]),
    ('{ things { text greet(name: "x") } }', [{}]),
    ("mutation { things { text } }", [{}]),
]


@pytest.mark.parametrize(("document", "runs"), DOCUMENTS)
def test_compiled_selections_answer_as_the_stock_executor(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
    document: str,
    runs: list[dict[str, Any]],
) -> None:
    direct, stock = schemas
    want = [_response(_run(stock, document, v)) for v in runs]
    # twice over: the first run compiles, the second runs what was compiled
    for _ in range(2):
        assert [_response(_run(direct, document, v)) for v in runs] == want
    if "async" in document:
        return
    # and synchronously
    assert [_response(direct.execute_sync(document, v)) for v in runs[:1]] == want[:1]


def _compiled() -> list[Any]:
    return [c for _nodes, c in schema.execution._selections.values() if c is not None]


def test_plain_selections_are_compiled(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
) -> None:
    # the comparisons above would pass vacuously if nothing were compiled
    direct, _ = schemas
    schema.execution._selections.clear()
    _run(direct, "{ things { text leaves { s } } }")
    assert len(_compiled()) == 1
    schema.execution._selections.clear()
    _run(direct, '{ things { text greet(name: "x") } }')  # arguments: not compiled
    assert _compiled() == []


def test_an_error_in_a_compiled_selection_has_its_path(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
) -> None:
    direct, _ = schemas
    for _ in range(2):
        result = _run(direct, "{ oddThings { must } }")
        assert result.errors[0].path == ["oddThings", 0, "must"]
        assert result.data["oddThings"][:2] == [None, {"must": "must 1"}]


@pytest.fixture
def cards() -> Any:
    direct = strawberry.Schema(
        query=CardQuery, execution_context_class=Executor, extensions=[_parse_cache()]
    )
    stock = strawberry.Schema(query=CardQuery)
    STORE.update(titles=["one", "two"], version=1)
    yield direct, stock
    STORE.update(titles=["one", "two"], version=1)


CARDS = "{ cards { key title shout notes { text words } } }"


def test_a_pure_view_is_reused_under_its_key(cards: Any) -> None:
    direct, stock = cards
    first = _run(direct, CARDS).data
    again = _run(direct, CARDS).data
    assert again == first == _run(stock, CARDS).data
    # the same completed dict, not completed again
    assert again["cards"][0] is first["cards"][0]


def test_a_new_data_version_is_not_served_stale(cards: Any) -> None:
    direct, stock = cards
    assert _run(direct, CARDS).data["cards"][0]["title"] == "one"
    STORE.update(titles=["uno", "two"], version=2)
    got = _run(direct, CARDS)
    assert got.data["cards"][0] == {
        "key": "c0",
        "title": "uno",
        "shout": "UNO",
        "notes": [{"text": "uno note", "words": ["uno"]}],
    }
    assert _response(got) == _response(_run(stock, CARDS))


def test_the_views_kept_are_bounded(cards: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    direct, stock = cards
    monkeypatch.setattr(schema.execution, "VIEWS_LIMIT", 1)
    STORE.update(titles=["a", "b", "c"], version=3)
    want = _response(_run(stock, CARDS))
    for _ in range(2):
        assert _response(_run(direct, CARDS)) == want
    assert len(schema.execution._views) == 1


def test_a_pure_view_with_an_error_is_not_kept(cards: Any) -> None:
    direct, stock = cards
    query = "{ brokenCards { key title } }"
    want = _response(_run(stock, query))
    assert want["errors"]
    for _ in range(2):
        assert _response(_run(direct, query)) == want


# --- resolvers with arguments, converted as Strawberry converts them -------------------------


@strawberry.enum
class Mood(enum.Enum):
    CALM = "calm"
    LOUD = "loud"


@strawberry.input
class Inner:
    depth: int
    label: str | None = None


@strawberry.input
class Outer:
    name: str
    mood: Mood = Mood.CALM
    inner: Inner | None = None
    tags: list[str] | None = None
    ratio: float | None = strawberry.UNSET


@strawberry.type
class ArgQuery:
    @strawberry.field
    def echo(
        self,
        info: strawberry.Info,
        text: str | None = None,
        count: int = 3,
        mood: Mood | None = None,
        moods: list[Mood] | None = None,
        outer: Outer | None = None,
        ids: list[strawberry.ID] | None = None,
        flag: bool = False,
    ) -> str:
        return repr((info.field_name, text, count, mood, moods, outer, ids, flag))

    @strawberry.field
    def fails(self, n: int) -> str:
        raise ValueError(f"no {n}")

    @strawberry.field
    def wrapped(
        self, when: Annotated[list[int] | None, strawberry.argument(name="at")] = None
    ) -> str:
        return repr(when)


ARGUMENT_DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("{ echo }", {}),
    ('{ echo(text: "a", count: 5, mood: LOUD, moods: [CALM, LOUD], flag: true) }', {}),
    (
        '{ a: echo(outer: {name: "n"}) b: echo(outer: {name: "n", mood: LOUD, inner: {depth: 2}}) }',
        {},
    ),
    (
        "query($o: Outer, $m: Mood, $t: String, $ids: [ID!]) { echo(outer: $o, mood: $m,"
        " text: $t, ids: $ids) }",
        {
            "o": {"name": "v", "inner": {"depth": 1, "label": None}, "tags": ["x"], "ratio": 1},
            "m": "CALM",
            "t": None,
            "ids": ["1", "b"],
        },
    ),
    ("query($o: Outer) { echo(outer: $o) }", {}),
    ("query($c: Int) { echo(count: $c) }", {"c": None}),
    ("{ fails(n: 1) echo }", {}),
    ("{ wrapped(at: [1, 2]) w: wrapped }", {}),
    ('{ echo(count: "x") }', {}),
    ("query($c: Int!) { echo(count: $c) }", {"c": "nope"}),
]


@pytest.mark.parametrize(("document", "variables"), ARGUMENT_DOCUMENTS)
def test_arguments_are_converted_as_strawberry_converts_them(
    document: str, variables: dict[str, Any]
) -> None:
    direct = strawberry.Schema(query=ArgQuery, execution_context_class=Executor)
    stock = strawberry.Schema(query=ArgQuery)
    want = _response(_run(stock, document, variables))
    assert _response(_run(direct, document, variables)) == want
    assert _response(direct.execute_sync(document, variables)) == want


def test_resolvers_with_arguments_take_the_direct_path() -> None:
    direct = strawberry.Schema(query=ArgQuery, execution_context_class=Executor)
    query_type = direct._schema.query_type
    assert query_type is not None
    plan = schema.execution._plan(direct._schema, query_type, "echo")
    assert plan is not None and [a[0] for a in plan.arguments] == [
        "text",
        "count",
        "mood",
        "moods",
        "outer",
        "ids",
        "flag",
    ]


# --- the directory's own documents, on the app's schema ------------------------------------

FACILITIES = (
    Path(schema.execution.__file__).parent / "persisted" / "facilities.graphql"
).read_text(encoding="utf-8")

DIRECTORY: list[tuple[str, dict[str, Any]]] = [
    (FACILITIES, {"text": "仁济"}),
    (
        FACILITIES,
        {"near": {"lat": 31.23, "lng": 121.47}, "sort": "DISTANCE"},
    ),
    (
        "query($text: String, $near: GeoPointInput, $sort: FacilitySort) { facilities(text: $text,"
        " near: $near, sort: $sort, first: 20) { totalCount edges { distanceKm node { id nameZh"
        " nameEn addressZh district location { lat lng } ownership grade category departments"
        " { zh en } phone } } } }",
        {"text": "医院", "near": {"lat": 31.23, "lng": 121.47}},
    ),
    (
        """query Search($text: String, $kind: FacilityKind, $near: GeoPointInput, $first: Int = 20) {
          facilities(text: $text, kind: $kind, near: $near, first: $first) {
            totalCount attribution pageInfo { hasNextPage endCursor }
            edges { cursor distanceKm node { id sourceId kind nameZh nameEn addressZh district
              districtEn location { lat lng approximate } ownership grade gradeEn category
              departments { zh en } networks { id nameZh nameEn } verifiedOn source sourceZh
              locationPrecision area areaZh note noteEn listNotes { zh en } tags languages
              openingHours phone city cityEn coordinateMethod __typename } }
            otherLists { kind count } } }""",
        {"text": "dental", "kind": "MEDICAL"},
    ),
    (
        "{ facilities(first: 20) { totalCount edges { node { id nameZh nameEn addressZh district"
        " ...F } } } } fragment F on Facility { location { ...G } grade } fragment G on GeoPoint { lat lng }",
        {},
    ),
    (
        "query($c: Boolean!) { facilities(first: 5) { edges { node { id nameZh @include(if: $c)"
        " location { lat @skip(if: $c) lng } } } } }",
        {"c": True},
    ),
    (
        "query($c: Boolean!) { facilities(first: 5) { edges { node { id nameZh @include(if: $c)"
        " location { lat @skip(if: $c) lng } } } } }",
        {"c": False},
    ),
]


def _context(services: Services) -> Context:
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql"})
    return Context(request=request, response=Response(), services=services)


@pytest.mark.parametrize(("document", "variables"), DIRECTORY)
def test_directory_documents_answer_as_the_stock_executor(
    settings: Settings, services: Services, document: str, variables: dict[str, Any]
) -> None:
    fast = build_schema(settings.model_copy(update={"graphql_executor": "fast"}))
    stock = build_schema(settings.model_copy(update={"graphql_executor": "stock"}))
    want = _response(_run(stock, document, variables, context_value=_context(services)))
    assert not want["errors"], want
    assert want["data"]["facilities"]["edges"] or want["data"]["facilities"]["totalCount"] == 0
    for _ in range(2):
        got = _run(fast, document, variables, context_value=_context(services))
        assert _response(got) == want
