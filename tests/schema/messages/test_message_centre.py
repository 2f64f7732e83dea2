"""The message centre and the preferred language over GraphQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import review
from server.claims.core import ClaimContext
from server.messages import service as messages
from tests.conftest import error_codes
from tests.db import Api
from tests.schema.claims.helpers import Claimant, gid, pk
from tests.server.claims.review_helpers import account_for, make_adjuster, make_claim

MAIN = "13800000001"
STAFF = "13800000005"
INBOX = """query($first: Int, $after: String, $unread: Boolean) { viewer {
  preferredLanguage unreadMessageCount
  messages(first: $first, after: $after, unreadOnly: $unread) {
    totalCount unreadCount pageInfo { hasNextPage endCursor }
    edges { node { id kind title body language read target targetId } } } } }"""
MARK = """mutation($input: MarkMessagesReadInput!) { markMessagesRead(input: $input) {
  __typename ... on MarkMessagesReadSuccess { marked unreadCount }
  ... on ValidationError { fieldErrors { field code } } } }"""
LANGUAGE = """mutation($lang: Language!) { setPreferredLanguage(input: {language: $lang}) {
  __typename ... on SetPreferredLanguageSuccess { viewer { preferredLanguage } } } }"""


def _settled_claims(
    factory: sessionmaker[Session], cx: ClaimContext, demo: Any, n: int, key: str = "main"
) -> list[int]:
    ids = []
    with factory() as db:
        adjuster = make_adjuster(db, cx, username=f"desk.{key}")
        for i in range(n):
            claim = make_claim(db, cx, demo, key=key, amount_fen=100_00 + i)
            review.settle(
                db, cx, adjuster, claim, approved_fen=100_00 + i, paid_fen=100_00 + i, deductions=[]
            )
            ids.append(claim.id)
        db.commit()
    return ids


def test_the_inbox_pages_newest_first_and_marks_read(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # given three settled claims of mine
    ids = _settled_claims(db_factory, claims, demo, 3)
    me = Claimant(api, db_factory, claims, members, demo, MAIN)
    # when I open the message centre two at a time
    first = me(INBOX, first=2)["data"]["viewer"]
    assert first["unreadMessageCount"] == 3 and first["preferredLanguage"] == "ZH"
    page = first["messages"]
    assert (page["totalCount"], page["unreadCount"], page["pageInfo"]["hasNextPage"]) == (
        3,
        3,
        True,
    )
    nodes = [e["node"] for e in page["edges"]]
    assert [pk(n["targetId"]) for n in nodes] == [ids[2], ids[1]]
    assert all(n["kind"] == "claim.settled" and n["target"] == "CLAIM" for n in nodes)
    assert "100.02" in nodes[0]["body"] and nodes[0]["language"] == "ZH"
    rest = me(INBOX, first=2, after=page["pageInfo"]["endCursor"])["data"]["viewer"]["messages"]
    assert [pk(e["node"]["targetId"]) for e in rest["edges"]] == [ids[0]]
    # and mark the newest read
    done = me(MARK, input={"ids": [nodes[0]["id"]]})["data"]["markMessagesRead"]
    assert done == {"__typename": "MarkMessagesReadSuccess", "marked": 1, "unreadCount": 2}
    unread = me(INBOX, unread=True)["data"]["viewer"]["messages"]
    assert [e["node"]["id"] for e in unread["edges"]] == [
        nodes[1]["id"],
        rest["edges"][0]["node"]["id"],
    ]


def test_another_members_messages_are_neither_shown_nor_marked(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    _settled_claims(db_factory, claims, demo, 1, key="staff")
    with db_factory() as db:
        theirs = messages.page(db, account_for(db, demo, "staff").id, offset=0, limit=5).items[0]
    me = Claimant(api, db_factory, claims, members, demo, MAIN)
    assert me(INBOX)["data"]["viewer"]["messages"]["totalCount"] == 0
    done = me(MARK, input={"ids": [gid("MemberMessage", theirs.id), "not-an-id"]})
    assert done["data"]["markMessagesRead"]["marked"] == 0
    with db_factory() as db:
        assert messages.unread_count(db, theirs.account_id) == 1


def test_mark_read_needs_ids_or_all_and_at_most_100(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    me = Claimant(api, db_factory, claims, members, demo, MAIN)
    for bad, code in (
        ({}, "ONE_OF_IDS_OR_ALL"),
        ({"ids": [], "all": True}, "ONE_OF_IDS_OR_ALL"),
        ({"ids": ["x"] * 101}, "TOO_MANY"),
    ):
        body = me(MARK, input=bad)["data"]["markMessagesRead"]
        assert body["__typename"] == "ValidationError"
        assert body["fieldErrors"] == [{"field": "ids", "code": code}]


def test_the_inbox_needs_a_signed_in_member(api: Api) -> None:
    assert error_codes(api(INBOX)) == ["UNAUTHENTICATED"]
    assert error_codes(api(LANGUAGE, lang="EN")) == ["UNAUTHENTICATED"]


def test_english_is_remembered_and_used_for_the_next_message(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    me = Claimant(api, db_factory, claims, members, demo, MAIN)
    chosen = me(LANGUAGE, lang="EN")["data"]["setPreferredLanguage"]
    assert chosen["viewer"]["preferredLanguage"] == "EN"
    _settled_claims(db_factory, claims, demo, 1)
    node = me(INBOX)["data"]["viewer"]["messages"]["edges"][0]["node"]
    assert (node["language"], node["title"]) == ("EN", "Claim settled")
    assert node["body"].startswith("Claim VSHH") and "CNY 100.00" in node["body"]
