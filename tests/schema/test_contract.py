"""The published contract: no change breaks a partner app without a deprecation first."""

from __future__ import annotations

import pytest

from scripts.check_contract import CURRENT, RELEASED, compare, main

OLD = """
type Query {
  facility(id: ID!): Facility
  facilities(first: Int = 20, district: String @deprecated(reason: "Use area.")): [Facility!]!
}

type Facility {
  name: String!
  beds: Int
  phone: String @deprecated(reason: "Use contact.phone; removed after 2027-06.")
  ownership: Ownership!
}

enum Ownership {
  PUBLIC
  PRIVATE
  UNKNOWN @deprecated(reason: "Every facility now has an ownership.")
}
"""


def _without(sdl: str, fragment: str) -> str:
    assert fragment in sdl
    return sdl.replace(fragment, "")


def test_the_current_schema_keeps_the_released_contract() -> None:
    # given the SDL partner apps were last given and the one the code prints
    # when they are compared, then nothing breaks without a deprecation first
    verdict = compare(RELEASED.read_text("utf-8"), CURRENT.read_text("utf-8"))
    assert verdict.breaking == [], "\n".join(verdict.breaking)


def test_a_removed_field_of_the_real_contract_fails_the_check() -> None:
    from graphql import GraphQLObjectType, build_schema, print_schema

    released = RELEASED.read_text("utf-8")
    # given a field of the released contract that was never deprecated
    schema = build_schema(released)
    facility = schema.get_type("Facility")
    assert isinstance(facility, GraphQLObjectType)
    name = next(n for n, f in facility.fields.items() if f.deprecation_reason is None)
    # when a change removes it
    del facility.fields[name]
    verdict = compare(released, print_schema(schema))
    # then the check fails and names it
    assert verdict.breaking == [f"Field Facility.{name} was removed."]


@pytest.mark.parametrize(
    ("fragment", "names"),
    [
        ("  name: String!\n", "Field Facility.name was removed."),
        ("  PUBLIC\n", "Enum value Ownership.PUBLIC was removed."),
        ("first: Int = 20, ", "Argument Query.facilities(first:) was removed."),
    ],
)
def test_removing_what_was_not_deprecated_is_breaking(fragment: str, names: str) -> None:
    verdict = compare(OLD, _without(OLD, fragment))
    assert verdict.breaking == [names]


@pytest.mark.parametrize(
    "fragment",
    [
        '  phone: String @deprecated(reason: "Use contact.phone; removed after 2027-06.")\n',
        '  UNKNOWN @deprecated(reason: "Every facility now has an ownership.")\n',
        ', district: String @deprecated(reason: "Use area.")',
    ],
)
def test_removing_what_was_deprecated_first_is_allowed(fragment: str) -> None:
    verdict = compare(OLD, _without(OLD, fragment))
    assert verdict.ok
    assert len(verdict.announced) == 1


def test_a_changed_type_is_breaking_even_when_deprecated() -> None:
    new = OLD.replace("ownership: Ownership!", "ownership: String!")
    verdict = compare(OLD, new)
    assert verdict.breaking == ["Field Facility.ownership changed type from Ownership! to String!."]


def test_the_command_fails_on_a_break(tmp_path, monkeypatch, capsys) -> None:
    import scripts.check_contract as contract

    released, current = tmp_path / "released.graphql", tmp_path / "schema.graphql"
    released.write_text(OLD, "utf-8")
    current.write_text(_without(OLD, "  name: String!\n"), "utf-8")
    monkeypatch.setattr(contract, "RELEASED", released)
    monkeypatch.setattr(contract, "CURRENT", current)
    assert main([]) == 1
    assert "BREAKING, not announced: Field Facility.name was removed." in capsys.readouterr().err
    current.write_text(OLD, "utf-8")
    assert main([]) == 0
