from __future__ import annotations

from scripts.export_schema import TARGET, sdl


def test_printed_schema_matches_the_committed_contract() -> None:
    # given the SDL partner apps read
    committed = TARGET.read_text(encoding="utf-8")
    # when the schema is printed from code
    current = sdl()
    # then they are the same: run `make schema` and review the diff when this fails
    assert current == committed


def test_every_public_type_and_field_has_a_description() -> None:
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

    from schema import build_schema

    missing = []
    for name, t in build_schema()._schema.type_map.items():
        if name.startswith("__") or not isinstance(t, GraphQLObjectType | GraphQLInputObjectType):
            continue
        if not t.description:
            missing.append(name)
        for field_name, f in t.fields.items():
            if not f.description:
                missing.append(f"{name}.{field_name}")
        if isinstance(t, GraphQLEnumType):
            continue
    assert missing == []
