"""Compare the GraphQL contract with the last released one and refuse unannounced breaks.

schema/schema.graphql is the contract as the code prints it; schema/released.graphql is
the contract partner apps were last given. A change that breaks a client (a field, enum
value, argument or type removed, a type changed) is allowed only when the released
contract already announced it: the field, enum value, argument or input field carried
`@deprecated` there (for a removed type: every field or value of it did). Everything else
fails, and the message says what to do.

    python -m scripts.check_contract             # check (make test runs it as a test)
    python -m scripts.check_contract --release   # after a release: the current SDL
                                                 # becomes the released one
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from server.settings import ROOT

CURRENT = ROOT / "schema" / "schema.graphql"
RELEASED = ROOT / "schema" / "released.graphql"

# The coordinates graphql-core names in its messages (graphql-core 3.3).
_FIELD = re.compile(r"^Field (\w+)\.(\w+) was removed\.$")
_ENUM_VALUE = re.compile(r"^Enum value (\w+)\.(\w+) was removed\.$")
_ARGUMENT = re.compile(r"^Argument (\w+)\.(\w+)\((\w+):\) was removed\.$")
_TYPE = re.compile(r"^(\w+) was removed\.$")


@dataclass(frozen=True)
class Verdict:
    breaking: list[str]  # not announced: the check fails
    announced: list[str]  # removed after a deprecation: allowed
    dangerous: list[str]  # allowed, but worth a line in the release notes

    @property
    def ok(self) -> bool:
        return not self.breaking


def compare(released_sdl: str, current_sdl: str) -> Verdict:
    old = build_schema(released_sdl)
    new = build_schema(current_sdl)
    breaking, announced = [], []
    for change in find_breaking_changes(old, new):
        text = change.description
        (announced if _was_deprecated(old, text) else breaking).append(text)
    dangerous = [change.description for change in find_dangerous_changes(old, new)]
    return Verdict(breaking, announced, dangerous)


def _was_deprecated(old: GraphQLSchema, description: str) -> bool:
    if m := _FIELD.match(description):
        return _field_deprecated(old, m[1], m[2])
    if m := _ENUM_VALUE.match(description):
        enum = old.get_type(m[1])
        value = enum.values.get(m[2]) if isinstance(enum, GraphQLEnumType) else None
        return value is not None and value.deprecation_reason is not None
    if m := _ARGUMENT.match(description):
        owner = old.get_type(m[1])
        if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            return False
        field = owner.fields.get(m[2])
        arg = field.args.get(m[3]) if field else None
        return arg is not None and arg.deprecation_reason is not None
    if m := _TYPE.match(description):
        return _type_deprecated(old, m[1])
    return False


def _field_deprecated(old: GraphQLSchema, type_name: str, field_name: str) -> bool:
    owner = old.get_type(type_name)
    if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return False
    field = owner.fields.get(field_name)
    return field is not None and field.deprecation_reason is not None


def _type_deprecated(old: GraphQLSchema, type_name: str) -> bool:
    """A type may go when everything in it was deprecated (nothing can still use it)."""
    t = old.get_type(type_name)
    if isinstance(t, GraphQLEnumType):
        return all(v.deprecation_reason is not None for v in t.values.values())
    if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return all(f.deprecation_reason is not None for f in t.fields.values())
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release", action="store_true", help="make the current SDL the released one"
    )
    args = parser.parse_args(argv)
    if args.release:
        shutil.copyfile(CURRENT, RELEASED)
        print(f"{RELEASED.relative_to(ROOT)} is now the contract as of this commit")
        return 0
    verdict = compare(_read(RELEASED), _read(CURRENT))
    for line in verdict.announced:
        print(f"removed after deprecation: {line}")
    for line in verdict.dangerous:
        print(f"dangerous (review): {line}")
    for line in verdict.breaking:
        print(f"BREAKING, not announced: {line}", file=sys.stderr)
    if not verdict.ok:
        print(
            "Deprecate first (@deprecated(reason: ...) naming the replacement), release, and "
            "remove after the period the README gives; or put the element back.",
            file=sys.stderr,
        )
        return 1
    print("contract kept: no unannounced breaking change")
    return 0


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
