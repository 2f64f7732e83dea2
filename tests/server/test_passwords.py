from __future__ import annotations

import pytest
from argon2.exceptions import VerifyMismatchError

from server import passwords


def test_the_dummy_hash_costs_what_a_real_one_costs_and_matches_nothing() -> None:
    dummy = passwords.dummy_hash()
    # the same parameters as every member's and adjuster's hash: verifying it is as slow
    assert dummy.startswith("$argon2id$")
    assert not passwords.hasher.check_needs_rehash(dummy)
    assert passwords.dummy_hash() is dummy  # made once per process
    for guess in ("", "not-a-real-password-0", "Demo2026!"):
        with pytest.raises(VerifyMismatchError):
            passwords.hasher.verify(dummy, guess)
