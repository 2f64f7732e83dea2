"""Ids clients send become primary keys, or nothing."""

from __future__ import annotations

import base64

import pytest
from strawberry import relay

from server.ids import MAX_PK, database_id, global_id


def test_a_global_id_of_the_type_or_a_plain_integer_gives_the_key() -> None:
    assert database_id(relay.to_base64("Claim", 42), "Claim") == 42
    assert database_id(" 42 ", "Claim") == 42
    assert database_id(str(MAX_PK), "Claim") == MAX_PK


def test_global_ids_are_those_graphql_hands_out() -> None:
    assert global_id("ClaimDocument", 7) == relay.to_base64("ClaimDocument", 7)
    assert relay.from_base64(global_id("Claim", 42)) == ("Claim", "42")
    assert database_id(global_id("Claim", 42), "Claim") == 42


@pytest.mark.parametrize(
    "raw",
    [
        relay.to_base64("Policy", 42),  # another type
        relay.to_base64("Claim", "abc"),
        relay.to_base64("Claim", MAX_PK + 1),  # beyond INTEGER keys
        relay.to_base64("Claim", "²"),  # a digit to str.isdigit(), not to int()
        relay.to_base64("Claim", ""),
        base64.b64encode(b"Claim42").decode(),  # no type separator
        base64.b64encode(b"Claim:\xff").decode(),  # not UTF-8
        "Q2xhaW06NDI",  # unpadded
        "Q2xh aW06NDI=",  # a character outside the alphabet (non-strict decoding drops it)
        "Q2xhaW06NDI=!",
        str(MAX_PK + 1),
        "99999999999",
        "²",
        "0",
        "",
        "not base64 !",
        "-5",
    ],
)
def test_anything_else_is_no_key(raw: str) -> None:
    assert database_id(raw, "Claim") is None
