"""The direct executor (schema/execution.py) answers exactly as Strawberry's stock one.

Each query runs on two schemas built from the same types, one with the direct
executor and one without, and the responses (data, and errors with their messages,
locations and paths, in order) must be the same. The types cover what the direct
path does itself and every way out of it: nulls on non-null fields, attributes and
resolvers that raise, values a scalar or enum rejects, objects of the wrong type,
asynchronous resolvers and items, interfaces, unions and arguments.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
import logging
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import pytest
import strawberry
from strawberry import relay

import schema
import schema.execution
from schema import build_schema
from schema.execution import Executor, ExecutorUnavailable, self_check
from server.settings import Settings, SettingsError


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    s: str
    n: int | None


class Broken(Exception):
    pass


@strawberry.type
class Thing(relay.Node):
    key: relay.NodeID[str]
    text: str
    number: int
    ratio: float
    flag: bool
    colour: Colour
    when: datetime.date
    maybe: str | None
    must: str  # some instances hold None here
    tags: list[str]
    leaves: list[Leaf]
    nested: list[list[int]]
    optional_leaves: list[Leaf | None] | None
    strict_leaves: list[Leaf]
    colours: list[Colour]
    tupled: list[int]
    child: Leaf | None
    strict_child: Leaf
    any_value: strawberry.Private[Any]

    @strawberry.field
    def computed(self) -> str:
        return self.text.upper()

    @strawberry.field
    def raises(self) -> str | None:
        raise Broken("resolver failed")

    @strawberry.field
    def raises_strict(self) -> str:
        raise Broken("strict resolver failed")

    @strawberry.field
    def wrong_int(self) -> int | None:
        return self.any_value  # type: ignore[no-any-return]

    @strawberry.field
    def wrong_enum(self) -> Colour | None:
        return self.any_value  # type: ignore[no-any-return]

    @strawberry.field
    def exception_value(self) -> str | None:
        return Broken("returned, not raised")  # type: ignore[return-value]

    @strawberry.field
    def with_info(self, info: strawberry.Info) -> str:
        return f"{info.field_name}@{info.path.key}/{info.path.prev.key if info.path.prev else ''}"

    @strawberry.field
    def with_root(self, root: Thing) -> str:
        return root.text

    @strawberry.field
    @staticmethod
    def with_parent(parent: strawberry.Parent[Thing]) -> str:
        return parent.text + "!"

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.text + " later"

    @strawberry.field
    async def later_broken(self) -> str:
        await asyncio.sleep(0)
        if self.number % 2:
            raise Broken("async resolver failed")
        return "fine"

    @strawberry.field
    async def later_leaves(self) -> list[Leaf]:
        await asyncio.sleep(0)
        return self.leaves

    @strawberry.field
    def pretend_leaf(self) -> Leaf | None:
        return self.any_value  # type: ignore[no-any-return]

    @strawberry.field
    def pretend_thing(self) -> Thing | None:
        return self.any_value  # type: ignore[no-any-return]

    @strawberry.field
    def greet(self, name: str = "you") -> str:
        return f"hi {name}"

    @strawberry.field
    def shape(self) -> Shape | None:
        return self.strict_child


class Weird(Thing):
    """A Thing whose attributes raise, are lazy iterables or hold values of the wrong type."""

    def __getattribute__(self, name: str) -> Any:
        if name == "maybe":
            raise Broken("attribute failed")
        if name == "tags":
            return (t for t in ["generated", "tags"])  # iterable, not a list
        if name == "text":
            return 42  # String coerces ints
        if name == "number":
            return "not a number"
        if name == "colour":
            return "purple"
        if name == "leaves":
            return (Leaf(s=str(i), n=i) for i in range(2))
        return super().__getattribute__(name)


@strawberry.interface
class Shaped:
    s: str


@strawberry.type
class Circle(Shaped):
    r: float


Shape = Annotated[Leaf | Circle, strawberry.union("Shape")]


def make(i: int, cls: type[Thing] = Thing, **changes: Any) -> Thing:
    values: dict[str, Any] = {
        "key": f"t{i}",
        "text": f"thing {i}",
        "number": i,
        "ratio": i / 3,
        "flag": i % 2 == 0,
        "colour": Colour.RED if i % 2 else Colour.BLUE,
        "when": datetime.date(2026, 1, 1 + i),
        "maybe": None if i % 2 else "yes",
        "must": f"must {i}",
        "tags": [f"a{i}", f"b{i}"],
        "leaves": [Leaf(s=f"l{i}.{j}", n=j if j else None) for j in range(3)],
        "nested": [[i, i + 1], [], [i * 2]],
        "optional_leaves": [Leaf(s="x", n=1), None],
        "strict_leaves": [Leaf(s="y", n=2)],
        "colours": [Colour.RED, Colour.BLUE],
        "tupled": (i, i + 1),
        "child": None if i % 2 else Leaf(s=f"c{i}", n=i),
        "strict_child": Leaf(s=f"sc{i}", n=None),
        "any_value": "x",
    }
    values.update(changes)
    return cls(**values)


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [make(i) for i in range(4)]

    @strawberry.field
    def odd_things(self) -> list[Thing | None]:
        return [
            make(0, must=None),  # non-null basic field holds None
            make(1, strict_child=None),
            make(2, strict_leaves=[Leaf(s="ok", n=1), None]),
            make(3, any_value="seven"),
            make(4, any_value=Leaf(s="not a thing", n=0)),
            make(5, any_value=7),
            make(6, tags=["ok", 5, None]),  # a null item in a non-null list
            make(7, leaves="not a list"),
            make(8, Weird),
            Leaf(s="not a thing", n=None),  # type: ignore[list-item]
            make(9, colours=[Colour.RED, "green"]),
        ]

    @strawberry.field
    def strict_things(self) -> list[Thing]:
        return [make(0), make(1, must=None)]

    @strawberry.field
    async def async_things(self) -> list[Thing]:
        return [make(i) for i in range(3)]


QUERIES = [
    "{ things { id text number ratio flag colour when maybe must tags nested colours tupled"
    " leaves { s n } optionalLeaves { s n } strictLeaves { s } child { s n } strictChild { s n }"
    " computed withInfo withRoot withParent later laterLeaves { s } greet shape { __typename } } }",
    "{ things { a: text b: text ...F ... on Thing { number } __typename child { __typename s } } }"
    " fragment F on Thing { text ratio }",
    '{ things { text @include(if: false) number @skip(if: true) ratio greet(name: "x") } }',
    "{ oddThings { must } }",
    "{ oddThings { strictChild { s } } }",
    "{ oddThings { strictLeaves { s } } }",
    "{ oddThings { wrongInt wrongEnum pretendLeaf { s } pretendThing { text } } }",
    "{ oddThings { tags } }",
    "{ oddThings { leaves { s } } }",
    "{ oddThings { maybe text number colour tags } }",
    "{ oddThings { colours } }",
    "{ oddThings { raises raisesStrict } }",
    "{ oddThings { exceptionValue later } }",
    "{ strictThings { must text } }",
    "{ asyncThings { text later laterLeaves { s n } leaves { s } } }",
    "{ oddThings { text laterBroken strictLeaves { s } } }",
    "{ asyncThings { laterBroken leaves { s } } }",
    "query($c: Boolean!) { things { text @include(if: $c) } }",
]


def _response(result: Any) -> dict[str, Any]:
    return {"data": result.data, "errors": [e.formatted for e in result.errors or []]}


@pytest.fixture(scope="module")
def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    direct = strawberry.Schema(query=Query, types=[Circle], execution_context_class=Executor)
    stock = strawberry.Schema(query=Query, types=[Circle])
    return direct, stock


def _run(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Execute on a loop of its own in a thread: the browser tests keep a loop running in
    the main thread for the whole session, where asyncio.run would refuse."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(schema.execute(query, variables))).result()


@pytest.mark.parametrize("query", QUERIES)
def test_same_answer_as_stock_executor(
    schemas: tuple[strawberry.Schema, strawberry.Schema], query: str
) -> None:
    direct, stock = schemas
    variables = {"c": True}
    got = _run(direct, query, variables)
    want = _run(stock, query, variables)
    assert _response(got) == _response(want)


def test_odd_values_do_produce_errors(schemas: tuple[strawberry.Schema, strawberry.Schema]) -> None:
    # the comparison above would pass vacuously if nothing went wrong
    direct, _ = schemas
    result = _run(direct, QUERIES[3])
    assert result.errors and result.errors[0].path == ["oddThings", 0, "must"]
    assert result.data is not None
    assert result.data["oddThings"][:2] == [None, {"must": "must 1"}]
    assert result.errors[-1].message.startswith("Expected value of type 'Thing' but got: <Leaf")


def test_sync_execution_matches(schemas: tuple[strawberry.Schema, strawberry.Schema]) -> None:
    direct, stock = schemas
    for query in QUERIES:
        if "later" in query or "asyncThings" in query:
            continue
        assert _response(direct.execute_sync(query, {"c": False})) == _response(
            stock.execute_sync(query, {"c": False})
        )


def test_the_setting_chooses_the_executor() -> None:
    assert build_schema(Settings(graphql_executor="fast")).execution_context_class is Executor
    stock = build_schema(Settings(graphql_executor="stock")).execution_context_class
    assert not issubclass(stock, Executor)
    with pytest.raises(SettingsError, match="GRAPHQL_EXECUTOR"):
        Settings(graphql_executor="quick")
    with pytest.raises(ValueError, match="GRAPHQL_EXECUTOR must be one of fast, stock"):
        schema.execution_context_class("quick")


def test_the_installed_libraries_pass_the_start_up_check() -> None:
    self_check()  # raises ExecutorUnavailable if an upgrade moved an internal it relies on


@pytest.fixture
def fresh_choice() -> Iterator[None]:
    """The fast executor is checked once per process: check it again, then as it was."""
    for cached in (schema._fast_executor, schema._schema):
        cached.cache_clear()
    yield
    for cached in (schema._fast_executor, schema._schema):
        cached.cache_clear()


def _degrades(caplog: pytest.LogCaptureFixture, reason: str) -> None:
    with caplog.at_level(logging.WARNING, logger="schema"):
        chosen = build_schema(Settings(graphql_executor="fast")).execution_context_class
    assert not issubclass(chosen, Executor)
    [record] = [r for r in caplog.records if "using the stock executor" in r.getMessage()]
    assert reason in record.getMessage()


@pytest.mark.usefixtures("fresh_choice")
def test_an_internal_that_moved_means_the_stock_executor(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # as when an import of a graphql-core or Strawberry internal fails
    monkeypatch.setitem(sys.modules, "schema.execution", None)
    _degrades(caplog, "ModuleNotFoundError")


@pytest.mark.usefixtures("fresh_choice")
def test_plain_fields_off_the_direct_path_mean_the_stock_executor(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # as when Strawberry stops marking the resolvers of basic fields
    monkeypatch.setattr(schema.execution, "_plan", lambda *args: None)
    _degrades(caplog, "would not take the direct path")


@pytest.mark.usefixtures("fresh_choice")
def test_a_different_answer_means_the_stock_executor(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # as when graphql-core changes a method the executor overrides or calls
    def changed(self: Executor, *args: Any) -> Any:
        raise TypeError("execute_fields() takes 5 positional arguments but 6 were given")

    monkeypatch.setattr(Executor, "execute_fields", changed)
    with pytest.raises(ExecutorUnavailable):
        self_check()
    _degrades(caplog, "answered differently")


@pytest.mark.usefixtures("fresh_choice")
def test_the_check_runs_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[None] = []
    monkeypatch.setattr(schema.execution, "self_check", lambda: runs.append(None))
    for limit in (5, 6, 7):  # three schemas
        build_schema(Settings(graphql_executor="fast", graphql_max_depth=limit))
    assert len(runs) == 1
