"""GET /claim-files/<token>: who may open a claim's files and notice, and how they are served."""

from __future__ import annotations

import datetime
import io
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from api.claim_files import content_disposition
from server.claims import core, links
from server.claims.core import ClaimContext
from server.claims.models import Actor, Adjuster, Claim, ClaimDocument, ClaimStatus
from server.policies.models import Relation
from tests.db import TEST_VAULT, Api, FakeClock
from tests.server.claims.files_helpers import (
    ACCOUNT_NO,
    VIEWERS,
    account_of,
    add_document,
    jpeg,
    make_claim,
    pdf_text,
    png,
    settle,
    sign,
    small_pdf,
    submit,
    tampered,
    token,
    viewer_session,
)

MAIN, COLLEAGUE, STAFF = "13800000001", "13800000003", "13800000005"
INVALID = "CLAIM_FILE_LINK_INVALID"


@dataclass(frozen=True)
class World:
    claim_id: int
    claim_no: str
    image_id: int
    pdf_id: int
    main: int  # account ids
    colleague: int
    staff: int
    staff_claim_id: int
    staff_doc_id: int
    image_key: str


@pytest.fixture
def world(db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any) -> World:
    """张伟's submitted claim with an image, a PDF and a signature; 赵静 has one of her own."""
    with db_factory() as db:
        claim = make_claim(db, claims, demo)
        image = add_document(db, claims, claim, png(), "发票 1.png")
        pdf = add_document(db, claims, claim, small_pdf(), "病历.pdf", category="MEDICAL_RECORD")
        sign(db, claims, claim)
        submit(db, claims, claim)
        theirs = make_claim(db, claims, demo, phone=STAFF, policy="staff")
        theirs.claim_type = "OUTPATIENT_CARD"
        staff_doc = add_document(db, claims, theirs, jpeg(), "invoice.jpg")
        submit(db, claims, theirs)
        w = World(
            claim_id=claim.id,
            claim_no=claim.claim_no or "",
            image_id=image.id,
            pdf_id=pdf.id,
            main=account_of(db, claims, MAIN).id,
            colleague=account_of(db, claims, COLLEAGUE).id,
            staff=account_of(db, claims, STAFF).id,
            staff_claim_id=theirs.id,
            staff_doc_id=staff_doc.id,
            image_key=image.storage_key,
        )
        db.commit()
    return w


def get(api: Api, tok: str) -> Any:
    return api.client.get("/claim-files/" + tok)


def assert_invalid(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == INVALID
    assert response.headers["cache-control"] == "private, no-store"


def assert_private_headers(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_member_opens_their_own_document_preview_and_signature(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    # when
    doc = get(api, token(db_factory, claims, "doc", world.image_id, "member", world.main))
    # then the stored bytes, as stored, under the shown name
    assert doc.status_code == 200
    stream = claims.storage.open(world.image_key)
    try:
        assert doc.content == stream.read()
    finally:
        stream.close()
    assert doc.headers["content-type"] == "image/png"
    assert_private_headers(doc)
    quoted = urllib.parse.quote("发票 1.png", safe="")
    assert doc.headers["content-disposition"] == (
        f"inline; filename=\"claim-file.png\"; filename*=UTF-8''{quoted}"
    )
    assert "content-security-policy" not in doc.headers
    thumb = get(api, token(db_factory, claims, "thumb", world.image_id, "member", world.main))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as preview:
        assert preview.format == "JPEG" and max(preview.size) <= 320
    assert "-preview.jpg" in urllib.parse.unquote(thumb.headers["content-disposition"])
    assert_private_headers(thumb)
    sig = get(api, token(db_factory, claims, "sig", world.claim_id, "member", world.main))
    assert sig.status_code == 200 and sig.headers["content-type"] == "image/png"
    assert sig.content.startswith(b"\x89PNG")
    assert f'filename="signature-{world.claim_no}.png"' in sig.headers["content-disposition"]
    assert_private_headers(sig)


def test_a_pdf_is_served_sandboxed_and_has_no_preview(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    r = get(api, token(db_factory, claims, "doc", world.pdf_id, "member", world.main))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert r.headers["content-security-policy"] == "sandbox"
    assert_private_headers(r)
    assert_invalid(get(api, token(db_factory, claims, "thumb", world.pdf_id, "member", world.main)))


def test_head_answers_without_a_body(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    r = api.client.head(
        "/claim-files/" + token(db_factory, claims, "doc", world.image_id, "member", world.main)
    )
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"] == "image/png"


def test_another_member_cannot_open_it_with_their_own_or_an_altered_link(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    # a link made out to another member: they cannot see the claim
    for viewer in (world.staff, world.colleague):
        for kind, object_id in (
            ("doc", world.image_id),
            ("thumb", world.image_id),
            ("sig", world.claim_id),
            ("notice-html", world.claim_id),
        ):
            assert_invalid(get(api, token(db_factory, claims, kind, object_id, "member", viewer)))
    # the owner's link with another session, object or expiry: the signature no longer matches
    mine = token(db_factory, claims, "doc", world.image_id, "member", world.main)
    assert get(api, mine).status_code == 200
    theirs, _ = viewer_session(db_factory, claims, "member", world.staff)
    adjuster, _ = viewer_session(db_factory, claims, "adjuster", 1)
    later = int((claims.now() + datetime.timedelta(hours=1)).timestamp())
    for changes in (
        {"i": theirs},
        {"i": adjuster},
        {"s": ["doc", world.pdf_id]},
        {"s": ["sig", world.claim_id]},
        {"e": later},
    ):
        assert_invalid(get(api, tampered(mine, **changes)))
    # and a link to someone else's claim made out to oneself
    with_staff_doc = token(db_factory, claims, "sig", world.staff_claim_id, "member", world.main)
    assert_invalid(get(api, with_staff_doc))
    # an account that does not exist (any more)
    assert_invalid(get(api, token(db_factory, claims, "doc", world.image_id, "member", 10**9)))


def test_the_main_insured_sees_the_claim_of_a_minor_child(
    api: Api, db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any, world: World
) -> None:
    with db_factory() as db:
        claim = make_claim(db, claims, demo, policy="child", relation=Relation.CHILD)
        doc = add_document(db, claims, claim, jpeg(), "child.jpg")
        db.commit()
        doc_id = doc.id
    assert (
        get(api, token(db_factory, claims, "doc", doc_id, "member", world.main)).status_code == 200
    )
    assert_invalid(get(api, token(db_factory, claims, "doc", doc_id, "member", world.staff)))


def test_a_link_expires_after_ten_minutes(
    db_factory: sessionmaker[Session],
    api: Api,
    world: World,
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    tok = token(db_factory, claims, "doc", world.image_id, "member", world.main)
    clock.advance(minutes=9, seconds=59)
    assert get(api, tok).status_code == 200
    clock.advance(seconds=1)
    assert_invalid(get(api, tok))


@pytest.mark.parametrize(
    ("viewer", "kind"), [("member", "doc"), ("adjuster", "thumb"), ("h5", "sig")]
)
def test_a_link_stops_working_when_its_session_ends(
    db_factory: sessionmaker[Session],
    api: Api,
    world: World,
    claims: ClaimContext,
    viewer: str,
    kind: str,
) -> None:
    # given a link made out to a live session of a member, an adjuster or the portal
    with db_factory() as db:
        adjuster = Adjuster(
            username="li.adjuster",
            display_name_enc=claims.vault.encrypt("李"),
            password_hash="x",
        )
        db.add(adjuster)
        db.commit()
        viewer_id = {"member": world.main, "adjuster": adjuster.id, "h5": world.claim_id}[viewer]
    session_id, session_token = viewer_session(db_factory, claims, viewer, viewer_id)
    object_id = world.claim_id if kind == "sig" else world.image_id
    link = links.sign(
        claims.settings.secret_key, links.Link(kind, object_id, session_id), claims.now()
    )
    assert get(api, link).status_code == 200
    # when the session signs out
    with db_factory() as db:
        claims.sessions.end(db, VIEWERS[viewer], session_token)
        db.commit()
    # then its link, still within its ten minutes, opens nothing
    assert_invalid(get(api, link))


def test_a_link_dies_with_an_idle_session(
    db_factory: sessionmaker[Session],
    api: Api,
    world: World,
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    # a link opened now and then keeps no session alive: 30 idle minutes end both
    session_id, _ = viewer_session(db_factory, claims, "member", world.main)
    clock.advance(minutes=25)
    link = links.sign(
        claims.settings.secret_key, links.Link("doc", world.image_id, session_id), claims.now()
    )
    assert get(api, link).status_code == 200
    clock.advance(minutes=5)
    assert_invalid(get(api, link))


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "doc.1.member.1.99999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "doc.x.member.1.1.AAAA",
        "exe.1.member.1.99999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "doc.1.member.1.99999999999.AAAAAAAAAAAAAAAAAAAAAA.extra",
        "%2e%2e",
        "…中文.1.2.3.4.5",
        "a" * 5000,
    ],
)
def test_a_forged_or_damaged_token_is_not_found(api: Api, bad: str) -> None:
    assert_invalid(get(api, bad))


def test_a_path_instead_of_a_token_is_not_found(api: Api) -> None:
    # a decoded slash leaves the route: the router's own 404, nothing is read
    for path in (
        "/claim-files/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/claim-files/",
        "/claim-files/a/b",
    ):
        assert api.client.get(path).status_code == 404


def test_a_token_signed_with_another_secret_is_not_found(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    session_id, _ = viewer_session(db_factory, claims, "member", world.main)
    link = links.Link("doc", world.image_id, session_id)
    assert get(api, links.sign(claims.settings.secret_key, link, claims.now())).status_code == 200
    assert_invalid(get(api, links.sign("not-the-servers-secret", link, claims.now())))


def test_only_an_active_adjuster_may_open_files(
    api: Api, db_factory: sessionmaker[Session], world: World, claims: ClaimContext
) -> None:
    with db_factory() as db:
        adjuster = Adjuster(
            username="li.adjuster",
            display_name_enc=TEST_VAULT.encrypt("李审核"),
            password_hash="x",
            active=True,
        )
        db.add(adjuster)
        db.commit()
        adjuster_id = adjuster.id
    # an adjuster sees every claim's files
    for kind, object_id in (
        ("doc", world.image_id),
        ("thumb", world.image_id),
        ("sig", world.claim_id),
        ("doc", world.staff_doc_id),
    ):
        assert (
            get(
                api, token(db_factory, claims, kind, object_id, "adjuster", adjuster_id)
            ).status_code
            == 200
        )
    tok = token(db_factory, claims, "doc", world.image_id, "adjuster", adjuster_id)
    with db_factory() as db:
        row = db.get(Adjuster, adjuster_id)
        assert row is not None
        row.active = False
        db.commit()
    assert_invalid(get(api, tok))
    assert_invalid(
        get(api, token(db_factory, claims, "doc", world.image_id, "adjuster", adjuster_id + 1000))
    )


def test_a_supplement_session_sees_its_own_claim_only(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    assert (
        get(api, token(db_factory, claims, "doc", world.image_id, "h5", world.claim_id)).status_code
        == 200
    )
    assert (
        get(api, token(db_factory, claims, "sig", world.claim_id, "h5", world.claim_id)).status_code
        == 200
    )
    assert_invalid(
        get(api, token(db_factory, claims, "doc", world.image_id, "h5", world.staff_claim_id))
    )
    assert_invalid(
        get(api, token(db_factory, claims, "sig", world.claim_id, "h5", world.staff_claim_id))
    )


def test_a_removed_or_lost_file_is_not_found(
    api: Api, db_factory: sessionmaker[Session], world: World, claims: ClaimContext
) -> None:
    # the object vanished from storage (or a clean-up ran): 404, never a 500
    claims.storage.delete(world.image_key)
    assert_invalid(get(api, token(db_factory, claims, "doc", world.image_id, "member", world.main)))
    # the claimant removed the document from the draft before submitting
    with db_factory() as db:
        doc = db.get(ClaimDocument, world.pdf_id)
        assert doc is not None
        doc.removed_at = claims.now()
        db.commit()
    assert_invalid(get(api, token(db_factory, claims, "doc", world.pdf_id, "member", world.main)))
    # a document or claim id that never existed
    assert_invalid(get(api, token(db_factory, claims, "doc", 10**9, "member", world.main)))
    assert_invalid(get(api, token(db_factory, claims, "notice-pdf", 10**9, "member", world.main)))


def test_a_claim_without_a_signature_has_none_to_show(
    api: Api, db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any, world: World
) -> None:
    with db_factory() as db:
        claim = make_claim(db, claims, demo)
        db.commit()
        claim_id = claim.id
    assert_invalid(get(api, token(db_factory, claims, "sig", claim_id, "member", world.main)))


def test_a_storage_failure_answers_503_not_500(
    db_factory: sessionmaker[Session],
    api: Api,
    world: World,
    claims: ClaimContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(key: str) -> Any:
        raise ConnectionError("bucket unreachable")

    monkeypatch.setattr(claims.storage, "open", broken)
    r = get(api, token(db_factory, claims, "doc", world.image_id, "member", world.main))
    assert r.status_code == 503 and r.json()["error"]["code"] == "FILE_UNAVAILABLE"


def _settled_claim(
    db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any
) -> tuple[int, str]:
    with db_factory() as db:
        claim = make_claim(db, claims, demo)
        submit(db, claims, claim)
        settle(db, claims, claim, decided_at=claims.now())
        db.commit()
        return claim.id, claim.claim_no or ""


def test_the_settlement_notice_as_a_page_and_a_pdf(
    api: Api, db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any, world: World
) -> None:
    claim_id, claim_no = _settled_claim(db_factory, claims, demo)
    # the page
    page = get(api, token(db_factory, claims, "notice-html", claim_id, "member", world.main))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_private_headers(page)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "理赔结案通知书" in html and claim_no in html
    for amount in ("¥1,234.50", "¥200.00", "¥1,034.50"):
        assert amount in html
    assert "**** **** **** 6789" in html and ACCOUNT_NO not in html
    assert "张*" in html and "张伟" not in html
    # the PDF
    pdf = get(api, token(db_factory, claims, "notice-pdf", claim_id, "member", world.main))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert_private_headers(pdf)
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
    assert claim_no in pdf_text(pdf.content)
    assert (
        urllib.parse.quote(f"理赔结案通知书-{claim_no}.pdf") in pdf.headers["content-disposition"]
    )
    # an adjuster and the claim's own supplement session may open it too; others may not
    assert_invalid(
        get(api, token(db_factory, claims, "notice-pdf", claim_id, "member", world.staff))
    )
    assert_invalid(
        get(api, token(db_factory, claims, "notice-html", claim_id, "h5", world.claim_id))
    )
    assert (
        get(api, token(db_factory, claims, "notice-html", claim_id, "h5", claim_id)).status_code
        == 200
    )


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.WITHDRAWN])
@pytest.mark.parametrize("kind", ["notice-html", "notice-pdf"])
def test_no_notice_for_a_claim_that_is_not_settled(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    world: World,
    status: ClaimStatus,
    kind: str,
) -> None:
    if status is ClaimStatus.WITHDRAWN:
        with db_factory() as db:
            claim = db.get(Claim, world.claim_id)
            assert claim is not None
            core.transition(
                db,
                claim,
                status,
                "WITHDRAWN",
                actor=Actor.CLAIMANT,
                actor_id=None,
                now=claims.now(),
            )
            db.commit()
    r = get(api, token(db_factory, claims, kind, world.claim_id, "member", world.main))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NO_SETTLEMENT_NOTICE"
    assert "no settlement notice" in r.json()["error"]["message"]


def test_a_post_is_not_allowed(
    db_factory: sessionmaker[Session], api: Api, world: World, claims: ClaimContext
) -> None:
    r = api.client.post(
        "/claim-files/" + token(db_factory, claims, "doc", world.image_id, "member", world.main)
    )
    assert r.status_code == 405


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("invoice.jpg", "inline; filename=\"invoice.jpg\"; filename*=UTF-8''invoice.jpg"),
        (
            'a"\r\nSet-Cookie: x=1;.jpg',
            "inline; filename=\"claim-file.jpg\"; filename*=UTF-8''a___Set-Cookie%3A%20x%3D1_.jpg",
        ),
        ("../../etc/passwd", "inline; filename=\"claim-file\"; filename*=UTF-8''.._.._etc_passwd"),
        ("", "inline; filename=\"file\"; filename*=UTF-8''file"),
    ],
)
def test_content_disposition_cannot_break_the_header(name: str, header: str) -> None:
    value = content_disposition(name)
    assert value == header
    assert "\r" not in value and "\n" not in value


def test_dates_are_china_dates(
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    demo: Any,
    clock: FakeClock,
    api: Api,
    world: World,
) -> None:
    # settled at 17:30 UTC on 2 March: 3 March in China, which the notice prints
    clock.now = datetime.datetime(2026, 3, 2, 17, 30, tzinfo=datetime.UTC)
    claim_id, _ = _settled_claim(db_factory, claims, demo)
    html = get(api, token(db_factory, claims, "notice-html", claim_id, "member", world.main)).text
    assert "结案日期 Settled</th><td>2026-03-03" in html
