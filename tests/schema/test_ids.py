"""Ids clients send become primary keys, or nothing."""

from __future__ import annotations

import pytest
from strawberry import relay

from schema.ids import MAX_PK, database_id


def test_a_global_id_of_the_type_or_a_plain_integer_gives_the_key() -> None:
    assert database_id(relay.to_base64("Claim", 42), "Claim") == 42
    assert database_id(" 42 ", "Claim") == 42
    assert database_id(str(MAX_PK), "Claim") == MAX_PK


@pytest.mark.parametrize(
    "raw",
    [
        relay.to_base64("Policy", 42),  # another type
        relay.to_base64("Claim", "abc"),
        relay.to_base64("Claim", MAX_PK + 1),  # beyond INTEGER keys
        str(MAX_PK + 1),
        "99999999999",
        "0",
        "",
        "not base64 !",
        "-5",
    ],
)
def test_anything_else_is_no_key(raw: str) -> None:
    assert database_id(raw, "Claim") is None
