from __future__ import annotations

import base64
import datetime
import json

import pytest

from server import signing
from server.claims import links
from server.policies.certificate import read_link, sign_link

SECRET = "test-secret-for-signed-links"
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _token(subject: signing.Subject = ("doc", 12), session_id: int = 7) -> str:
    return signing.sign(SECRET, "claim-file", subject, session_id=session_id, now=NOW)


def test_a_token_gives_back_its_subject_session_and_expiry() -> None:
    # when a link is signed and read back
    found = signing.read(SECRET, "claim-file", _token(), now=NOW)
    # then it says what it opens, for which session, until when
    assert found == signing.SignedLink(
        ("doc", 12), 7, NOW + signing.LINK_LIFETIME
    ) and found.expires_at == datetime.datetime(2026, 3, 2, 9, 10, tzinfo=datetime.UTC)


def _flip(c: str) -> str:
    return "B" if c == "A" else "A"


def _alterations(token: str) -> dict[str, str]:
    payload, _, sig = token.rpartition(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["s"][1] = 13  # another document, signature kept
    other = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
    return {
        "padding appended": token + "==",
        "one padding character": token + "=",
        "last character changed": token[:-1] + _flip(token[-1]),
        "first character changed": _flip(token[0]) + token[1:],
        "payload character changed": token[:5] + _flip(token[5]) + token[6:],
        "truncated": token[:-1],
        "signature removed": payload,
        "payload swapped": other.decode().rstrip("=") + "." + sig,
        "space appended": token + " ",
        "newline appended": token + "\n",
        "upper-cased": token.upper(),
        "empty": "",
    }


@pytest.mark.parametrize("alteration", list(_alterations(_token())))
def test_any_alteration_is_refused(alteration: str) -> None:
    # given a good token and one altered way
    altered = _alterations(_token())[alteration]
    assert altered != _token()
    # then the altered one reads as nothing
    assert signing.read(SECRET, "claim-file", altered, now=NOW) is None
    assert signing.read(SECRET, "claim-file", _token(), now=NOW) is not None


def test_every_spare_bit_of_the_signature_is_refused() -> None:
    # the last base64 character of a 32-byte signature carries 2 unused bits: a decoder
    # that ignores them would take 4 spellings of one signature
    token = _token()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = [
        c
        for c in alphabet
        if signing.read(SECRET, "claim-file", token[:-1] + c, now=NOW) is not None
    ]
    assert accepted == [token[-1]]


def test_a_token_of_another_purpose_or_key_is_refused() -> None:
    token = _token()
    assert signing.read(SECRET, "certificate", token, now=NOW) is None
    assert signing.read("another-secret", "claim-file", token, now=NOW) is None
    # the certificate reader refuses a claim-file token with a one-number subject too
    single = signing.sign(SECRET, "claim-file", (12,), session_id=7, now=NOW)
    assert read_link(SECRET, single, NOW) is None
    assert read_link(SECRET, sign_link(SECRET, 12, 7, NOW), NOW) == (12, 7)


def test_a_token_expires_at_the_end_of_its_lifetime() -> None:
    token = _token()
    just_before = NOW + signing.LINK_LIFETIME - datetime.timedelta(seconds=1)
    assert signing.read(SECRET, "claim-file", token, now=just_before) is not None
    assert signing.read(SECRET, "claim-file", token, now=NOW + signing.LINK_LIFETIME) is None
    short = signing.sign(
        SECRET, "x", ("a",), session_id=1, now=NOW, lifetime=datetime.timedelta(seconds=30)
    )
    assert signing.read(SECRET, "x", short, now=NOW + datetime.timedelta(seconds=31)) is None


def test_a_subject_is_strings_and_integers_only() -> None:
    for bad in [(), (1.5,), (True,), (None,)]:
        with pytest.raises(ValueError):
            signing.sign(SECRET, "x", bad, session_id=1, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        signing.sign("", "x", ("a",), session_id=1, now=NOW)


def test_claim_file_links_check_their_kind() -> None:
    link = links.Link("thumb", 44, 9)
    assert links.read(SECRET, links.sign(SECRET, link, NOW), NOW) == link
    with pytest.raises(ValueError):
        links.sign(SECRET, links.Link("anything", 44, 9), NOW)
    # a well-signed subject of another shape is not a claim-file link
    odd = signing.sign(SECRET, links.PURPOSE, ("anything", 44), session_id=9, now=NOW)
    assert links.read(SECRET, odd, NOW) is None
    assert links.url("https://x.example/", SECRET, link, NOW).startswith(
        "https://x.example/claim-files/"
    )
