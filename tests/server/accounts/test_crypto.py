from __future__ import annotations

import pytest

from server.crypto import (
    Vault,
    mask_account,
    mask_email,
    mask_id,
    mask_name,
    mask_phone,
    vault_for,
)


def test_encryption_round_trips_and_is_randomised() -> None:
    v = Vault("k1")
    a, b = v.encrypt("13612341560"), v.encrypt("13612341560")
    assert a != b and "1361234" not in a
    assert v.decrypt(a) == v.decrypt(b) == "13612341560"


def test_a_wrong_key_cannot_decrypt() -> None:
    token = Vault("k1").encrypt("secret")
    with pytest.raises(ValueError):
        Vault("k2").decrypt(token)


def test_lookup_hashes_are_keyed_and_kind_separated() -> None:
    v = Vault("k1")
    assert v.lookup("130503198005171510", kind="id") == v.lookup("130503198005171510", kind="id")
    assert v.lookup("1", kind="id") != v.lookup("1", kind="phone")
    assert v.lookup("1", kind="id") != Vault("k2").lookup("1", kind="id")


def test_the_encryption_key_wins_over_the_secret_key() -> None:
    token = vault_for("secret", "enc").encrypt("x")
    assert Vault("enc").decrypt(token) == "x"
    with pytest.raises(ValueError):
        Vault("").encrypt("x")


def test_masks() -> None:
    assert mask_id("13050319800517151X") == "1305**********151X"
    assert mask_phone("13612341560") == "136****1560"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("John Smith") == "J*** S****"
    assert mask_account("6222 0210 0112 3456 789") == "***************6789"
    assert mask_id("E12345678") == "E*****678"
    assert mask_id("H1234") == "*****"


def test_mask_email() -> None:
    assert mask_email("zhang.san@example.com") == "z***@example.com"
    assert mask_email("@example.com") == "***@example.com"
    assert mask_email("nonsense") == "********"
