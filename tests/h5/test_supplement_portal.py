"""The supplement page over HTTP without a browser: the plain-form (no JavaScript) path,
one-file JSON uploads, removal, submission, the confirmation, and the pages for links and
sessions that no longer work."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.claims import links
from server.claims.core import ClaimContext
from server.claims.models import (
    Channel,
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimStatus,
    SupplementRequest,
)
from server.crypto import token_hash
from server.notify.outbox import Notification
from server.sessions import LoginSession
from tests.db import FakeClock, statements, writes
from tests.h5.supplement_helpers import (
    ADJUSTER_EMAIL,
    INSURED_NAME,
    PDF_BYTES,
    AnswerRecorder,
    Pending,
    hidden,
    insured_member,
    log_in,
    path_of,
    photo,
    request_documents,
)

PAGE = "/h5/supplement/claim"
UPLOAD = "/h5/supplement/claim/upload"


@pytest.fixture
def signed_in(portal: TestClient, pending: Pending, answers: AnswerRecorder) -> TestClient:
    r = log_in(portal, pending, answers)
    assert r.status_code == 303, r.text
    return portal


def _csrf(client: TestClient) -> str:
    return hidden(client.get(PAGE).text, "csrf")


def _upload(
    client: TestClient, category: str, *files: tuple[str, bytes, str], csrf: str | None = None
) -> Any:
    data = {"csrf": csrf if csrf is not None else _csrf(client)}
    parts = [("file", f) for f in files]
    return client.post(
        UPLOAD, params={"category": category}, data=data, files=parts, follow_redirects=False
    )


def _session_id(db_factory: sessionmaker[Session], client: TestClient) -> int:
    """The id of the portal session the client's cookie holds."""
    cookie = client.cookies.get("sp_session") or ""
    with db_factory() as s:
        found = s.scalar(
            select(LoginSession.id).where(LoginSession.token_hash == token_hash(cookie))
        )
    assert found is not None
    return found


def _documents(db_factory: sessionmaker[Session], claim_id: int) -> list[ClaimDocument]:
    with db_factory() as s:
        return list(
            s.scalars(
                select(ClaimDocument)
                .where(ClaimDocument.claim_id == claim_id, ClaimDocument.removed_at.is_(None))
                .order_by(ClaimDocument.id)
            )
        )


def _no_dump(html: str) -> None:
    assert "Traceback" not in html and "Exception" not in html and "sqlalchemy" not in html


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_what_is_missing_the_adjusters_words_and_the_deadline(
    signed_in: TestClient, pending: Pending
) -> None:
    r = signed_in.get(PAGE)
    assert r.status_code == 200
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert '<html lang="zh-CN">' in r.text
    assert pending.claim_no in r.text
    assert "请补充完整的门诊病历及发票原件照片。" in r.text
    assert "请于 2026年3月4日 前提交" in r.text  # 2 working days after Monday 2 March
    assert '<h2 id="h-MEDICAL_RECORD">门急诊/病历/诊断证明</h2>' in r.text
    assert '<h2 id="h-INVOICE">发票/结算单/费用清单</h2>' in r.text
    # several files, camera or album, images and PDF
    assert 'accept="image/*" capture="environment"' in r.text
    assert 'accept="image/*,application/pdf" multiple' in r.text
    assert 'maxlength="500"' in r.text
    english = signed_in.get(PAGE, params={"lang": "en"})
    assert '<html lang="en">' in english.text
    assert "Please send them by 4 March 2026" in english.text
    assert "Outpatient records / medical records / diagnosis" in english.text
    assert (
        'href="/h5/supplement/claim" hreflang="zh-CN"><span lang="zh-CN">中文</span>'
        in english.text
    )
    # the FAQ answers the upload step's questions, in the page language
    assert '<a href="/h5/zh/faq#no-medical-record">上传理赔资料时，没有病历怎么办？</a>' in r.text
    assert '<a href="/h5/en/faq#no-medical-record">I have no medical record.' in english.text


def test_every_control_has_a_label(signed_in: TestClient) -> None:
    for url in (PAGE, "/h5/supplement", PAGE + "?lang=en"):
        html = signed_in.get(url).text
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            control = re.search(r'\bid="([^"]+)"', tag)
            assert control is not None, tag
            assert f'<label for="{control.group(1)}">' in html, tag
        for text in re.findall(r"<button\b[^>]*>(.*?)</button>", html, re.S):
            assert text.strip()
        assert html.count("<h1") == 1


def test_without_a_session_the_page_asks_to_sign_in_again(portal: TestClient) -> None:
    r = portal.get(PAGE)
    assert r.status_code == 401
    assert "请重新登录" in r.text and 'href="/h5/supplement"' in r.text
    _no_dump(r.text)


def test_the_session_ends_after_thirty_idle_minutes(
    signed_in: TestClient, clock: FakeClock
) -> None:
    clock.advance(minutes=29)
    assert signed_in.get(PAGE).status_code == 200  # activity restarts the idle clock
    clock.advance(minutes=29)
    assert signed_in.get(PAGE).status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert signed_in.get(PAGE).status_code == 401


def test_page_views_write_nothing_to_the_session(
    signed_in: TestClient, db_connection: Connection, clock: FakeClock
) -> None:
    with statements(db_connection) as seen:
        for _ in range(10):
            clock.advance(seconds=5)
            assert signed_in.get(PAGE).status_code == 200
    assert seen and writes(seen) == []
    clock.advance(seconds=15)  # a minute since the log-in: the idle clock moves, once
    with statements(db_connection) as seen:
        assert signed_in.get(PAGE).status_code == 200
        assert signed_in.get(PAGE).status_code == 200
    assert [w.split()[1].lower() for w in writes(seen)] == ["login_session"]


def test_a_new_log_in_replaces_the_session_the_browser_held(
    signed_in: TestClient,
    pending: Pending,
    answers: AnswerRecorder,
    db_factory: sessionmaker[Session],
) -> None:
    old = signed_in.cookies.get("sp_session") or ""
    # log in again from the same browser, by the claim number (the lost-link form)
    form = signed_in.get("/h5/supplement")
    r = signed_in.post(
        "/h5/supplement",
        data={
            "csrf": hidden(form.text, "csrf"),
            "captcha_id": hidden(form.text, "captcha_id"),
            "captcha": answers.last,
            "claim_no": pending.claim_no,
            "name": INSURED_NAME,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    new = r.cookies.get("sp_session") or ""
    assert new and new != old
    with db_factory() as s:
        rows = {
            row.token_hash: row.revoked_at
            for row in s.scalars(select(LoginSession).where(LoginSession.kind == "portal"))
        }
    assert rows[token_hash(old)] is not None and rows[token_hash(new)] is None


# --- without JavaScript ------------------------------------------------------------------------


def test_the_plain_form_path_from_upload_to_confirmation(
    signed_in: TestClient,
    pending: Pending,
    db_factory: sessionmaker[Session],
    clock: FakeClock,
    claims: ClaimContext,
) -> None:
    # two files in one plain form post, then one in the other category
    r = _upload(
        signed_in,
        "MEDICAL_RECORD",
        ("病历1.jpg", photo("red"), "image/jpeg"),
        ("report.pdf", PDF_BYTES, "application/pdf"),
    )
    assert r.status_code == 303
    assert r.headers["location"] == PAGE + "#area-MEDICAL_RECORD"
    assert (
        _upload(signed_in, "INVOICE", ("invoice.jpg", photo("blue"), "image/jpeg")).status_code
        == 303
    )

    page = signed_in.get(PAGE).text
    assert "病历1.jpg" in page and "report.pdf" in page and "invoice.jpg" in page
    thumbs = re.findall(r'<img src="(/claim-files/[^"]+)"', page)
    assert len(thumbs) == 2  # the PDF has no preview
    preview = signed_in.get(thumbs[0])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"

    docs = _documents(db_factory, pending.claim_id)
    assert [d.category for d in docs] == ["MEDICAL_RECORD", "MEDICAL_RECORD", "INVOICE"]
    assert all(d.channel is Channel.H5 and d.supplement_id == pending.supplement_id for d in docs)

    clock.advance(minutes=3)
    done = signed_in.post(
        "/h5/supplement/claim/submit",
        data={"csrf": _csrf(signed_in), "remark": "发票原件已寄出。"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/h5/supplement/claim/done"
    confirmation = signed_in.get(done.headers["location"])
    assert confirmation.status_code == 200
    text = confirmation.text
    assert "补充材料已提交" in text and "已收到的文件（3 个）" in text
    assert "病历1.jpg" in text and "report.pdf" in text and "invoice.jpg" in text
    assert "发票原件已寄出。" in text and "2026-03-02 17:03（北京时间）" in text

    with db_factory() as s:
        claim = s.get(Claim, pending.claim_id)
        assert claim is not None and claim.status is ClaimStatus.UNDER_REVIEW
        event = s.scalar(
            select(ClaimEvent).where(
                ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "SUPPLEMENT_RECEIVED"
            )
        )
        assert event is not None
        assert event.note == "发票原件已寄出。" and event.channel is Channel.H5
        request = s.get(SupplementRequest, pending.supplement_id)
        assert request is not None and request.fulfilled_via is Channel.H5
        mail = s.scalar(
            select(Notification).where(
                Notification.dedupe_key == f"supplement:{pending.supplement_id}:arrived"
            )
        )
        assert mail is not None and pending.claim_no in mail.subject
        assert claims.vault.decrypt(mail.recipient_enc) == ADJUSTER_EMAIL
        assert (s.scalar(select(func.count()).select_from(Notification)) or 0) >= 2  # SMS, arrival
    # the page and the link now lead to the confirmation
    assert signed_in.get(PAGE, follow_redirects=False).headers["location"].endswith("/claim/done")
    answered = signed_in.get(path_of(pending.link))
    assert answered.status_code == 200 and "我们已收到此次补充的材料" in answered.text


def test_a_file_can_be_removed_before_sending(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    _upload(signed_in, "INVOICE", ("wrong.jpg", photo("green"), "image/jpeg"))
    doc = _documents(db_factory, pending.claim_id)[0]
    r = signed_in.post(
        "/h5/supplement/claim/remove",
        data={"csrf": _csrf(signed_in), "document": str(doc.id)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == PAGE + "#area-INVOICE"
    assert _documents(db_factory, pending.claim_id) == []
    assert "wrong.jpg" not in signed_in.get(PAGE).text
    # the removed file no longer counts: sending now says what is missing
    missing = signed_in.post(
        "/h5/supplement/claim/submit", data={"csrf": _csrf(signed_in), "remark": "x"}
    )
    assert missing.status_code == 400
    assert "以下材料还没有上传文件：门急诊/病历/诊断证明；发票/结算单/费用清单" in missing.text
    assert ">x</textarea>" in missing.text  # what was typed stays


def test_a_remark_over_500_characters_is_refused(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    _upload(signed_in, "INVOICE", ("a.jpg", photo(), "image/jpeg"))
    _upload(signed_in, "MEDICAL_RECORD", ("b.jpg", photo(), "image/jpeg"))
    r = signed_in.post(
        "/h5/supplement/claim/submit", data={"csrf": _csrf(signed_in), "remark": "长" * 501}
    )
    assert r.status_code == 400 and "备注最多 500 字" in r.text
    with db_factory() as s:
        claim = s.get(Claim, pending.claim_id)
        assert claim is not None and claim.status is ClaimStatus.PENDING_SUPPLEMENT


def test_submitting_twice_does_not_duplicate(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    _upload(signed_in, "INVOICE", ("a.jpg", photo(), "image/jpeg"))
    _upload(signed_in, "MEDICAL_RECORD", ("b.jpg", photo(), "image/jpeg"))
    csrf = _csrf(signed_in)
    first = signed_in.post(
        "/h5/supplement/claim/submit", data={"csrf": csrf, "remark": "一"}, follow_redirects=False
    )
    second = signed_in.post(
        "/h5/supplement/claim/submit", data={"csrf": csrf, "remark": "二"}, follow_redirects=False
    )
    assert first.headers["location"] == second.headers["location"] == "/h5/supplement/claim/done"
    with db_factory() as s:
        events = s.scalars(
            select(ClaimEvent.note).where(
                ClaimEvent.claim_id == pending.claim_id, ClaimEvent.kind == "SUPPLEMENT_RECEIVED"
            )
        ).all()
        assert events == ["一"]
        mails = s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key.like(f"supplement:{pending.supplement_id}:arrived%"))
        )
        assert mails == 1
    # and nothing more can be uploaded to it
    late = _upload(signed_in, "INVOICE", ("c.jpg", photo(), "image/jpeg"))
    assert late.status_code == 303 and late.headers["location"] == "/h5/supplement/claim/done"
    late_json = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE"},
        files=[("file", ("c.jpg", photo(), "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": csrf},
    )
    assert late_json.status_code == 409
    assert len(_documents(db_factory, pending.claim_id)) == 2


def test_an_interrupted_upload_keeps_what_arrived(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    # a plain form post with two photos whose connection drops in the middle of the second
    boundary = "----h5supplementboundary"
    csrf = _csrf(signed_in)

    def part(name: str, filename: str | None, body: bytes, kind: str = "image/jpeg") -> bytes:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += f"Content-Type: {kind}\r\n"
        return head.encode() + b"\r\n" + body + b"\r\n"

    second = photo("yellow", (1200, 900))
    body = (
        part("csrf", None, csrf.encode())
        + part("file", "first.jpg", photo("purple"))
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="second.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + second[: len(second) // 2]
    )
    r = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE"},
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        follow_redirects=False,
    )
    assert r.status_code == 400
    _no_dump(r.text)
    assert [d.display_name for d in _documents(db_factory, pending.claim_id)] == ["first.jpg"]
    # a new page load shows it; the claimant carries on and sends the rest
    page = signed_in.get(PAGE).text
    assert "first.jpg" in page and "second.jpg" not in page
    assert _upload(signed_in, "INVOICE", ("second.jpg", second, "image/jpeg")).status_code == 303
    assert _upload(signed_in, "MEDICAL_RECORD", ("m.jpg", photo(), "image/jpeg")).status_code == 303
    assert [d.display_name for d in _documents(db_factory, pending.claim_id)] == [
        "first.jpg",
        "second.jpg",
        "m.jpg",
    ]


def test_files_already_uploaded_are_there_after_signing_in_again(
    portal_app: Starlette, pending: Pending, answers: AnswerRecorder
) -> None:
    with TestClient(portal_app) as phone:
        assert log_in(phone, pending, answers).status_code == 303
        _upload(phone, "INVOICE", ("kept.jpg", photo(), "image/jpeg"))
    with TestClient(portal_app) as later:  # another day, another browser
        assert log_in(later, pending, answers).status_code == 303
        assert "kept.jpg" in later.get(PAGE).text


# --- uploads with JavaScript (one file a request, JSON answers) ------------------------------


def test_a_one_file_request_answers_json(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    r = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE", "lang": "en"},
        files=[("file", ("shrunk.jpg", photo(), "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": _csrf(signed_in)},
    )
    assert r.status_code == 201
    doc = r.json()["documents"][0]
    assert doc["name"] == "shrunk.jpg" and doc["category"] == "INVOICE"
    assert doc["thumbnailUrl"].startswith("/claim-files/")
    assert signed_in.get(doc["thumbnailUrl"]).status_code == 200
    bad = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE", "lang": "en"},
        files=[("file", ("invoice.jpg", b"#!/bin/sh\necho hi\n", "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": _csrf(signed_in)},
    )
    assert bad.status_code == 415
    assert bad.json()["error"]["code"] == "UNSUPPORTED_FILE_TYPE"
    assert "Only JPG, PNG, HEIC and PDF" in bad.json()["error"]["message"]
    assert bad.headers["referrer-policy"] == "no-referrer"
    assert len(_documents(db_factory, pending.claim_id)) == 1


def test_bad_files_get_a_message_on_the_page(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    r = _upload(
        signed_in,
        "INVOICE",
        ("fake.jpg", b"%PDF-not really, a script\n<script>", "image/jpeg"),
        ("good.jpg", photo(), "image/jpeg"),
    )
    # the good file is kept, the bad one explained
    assert r.status_code == 400
    assert "文件已损坏或不完整" in r.text or "仅支持" in r.text
    assert [d.display_name for d in _documents(db_factory, pending.claim_id)] == ["good.jpg"]
    # "Upload" pressed with nothing chosen: the browser sends an empty file part
    empty = _upload(signed_in, "INVOICE", ("", b"", "application/octet-stream"))
    assert empty.status_code == 400 and "请先选择要上传的文件" in empty.text
    _no_dump(empty.text)


def test_a_category_that_was_not_asked_for_is_refused(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    for category in ("DISCHARGE_SUMMARY", "NOPE", ""):
        r = _upload(signed_in, category, ("a.jpg", photo(), "image/jpeg"))
        assert r.status_code == 400 and "此类材料不在本次补材要求中" in r.text
    assert _documents(db_factory, pending.claim_id) == []


# --- CSRF ----------------------------------------------------------------------------------------


def test_forms_without_their_csrf_token_change_nothing(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    no_token = _upload(signed_in, "INVOICE", ("a.jpg", photo(), "image/jpeg"), csrf="")
    assert no_token.status_code == 403 and "页面已过期" in no_token.text
    forged = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE"},
        files=[("file", ("a.jpg", photo(), "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": "f" * 40},
    )
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "CSRF"
    assert _documents(db_factory, pending.claim_id) == []

    _upload(signed_in, "INVOICE", ("kept.jpg", photo(), "image/jpeg"))
    doc = _documents(db_factory, pending.claim_id)[0]
    remove = signed_in.post("/h5/supplement/claim/remove", data={"document": str(doc.id)})
    assert remove.status_code == 403
    assert len(_documents(db_factory, pending.claim_id)) == 1
    submit = signed_in.post("/h5/supplement/claim/submit", data={"remark": "x"})
    assert submit.status_code == 403
    logout = signed_in.post("/h5/supplement/claim/logout", data={})
    assert logout.status_code == 403
    with db_factory() as s:
        claim = s.get(Claim, pending.claim_id)
        assert claim is not None and claim.status is ClaimStatus.PENDING_SUPPLEMENT
    # a token of another session does not pass either
    other = hidden(signed_in.get(PAGE).text, "csrf")
    assert other and signed_in.get(PAGE).status_code == 200


# --- one claim only ------------------------------------------------------------------------------


def test_another_claims_files_are_out_of_reach(
    portal_app: Starlette,
    pending: Pending,
    answers: AnswerRecorder,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
) -> None:
    with db_factory() as s:
        other_member = insured_member(
            s, claims.vault, claims.now().date(), name="李雷", serial="032"
        )
        s.commit()
    theirs = request_documents(db_factory, claims, other_member)
    with TestClient(portal_app) as mine, TestClient(portal_app) as them:
        assert log_in(mine, pending, answers).status_code == 303
        assert log_in(them, theirs, answers, name="李雷").status_code == 303
        _upload(them, "INVOICE", ("their-invoice.jpg", photo("black"), "image/jpeg"))
        their_doc = _documents(db_factory, theirs.claim_id)[0]

        # my page shows my claim only; there is no URL naming a claim to change
        page = mine.get(PAGE).text
        assert pending.claim_no in page and theirs.claim_no not in page
        assert "their-invoice.jpg" not in page
        # removing their file with my session: not found, and the file stays
        r = mine.post(
            "/h5/supplement/claim/remove",
            data={"csrf": _csrf(mine), "document": str(their_doc.id)},
        )
        assert r.status_code == 404
        assert len(_documents(db_factory, theirs.claim_id)) == 1
        # a file link made for my session does not open their file
        forged = links.sign(
            claims.settings.secret_key,
            links.Link("doc", their_doc.id, _session_id(db_factory, mine)),
            claims.now(),
        )
        assert mine.get(f"/claim-files/{forged}").status_code == 404
        # their link page does not let my session in
        assert mine.get(path_of(theirs.link), follow_redirects=False).status_code == 200
        # my uploads land on my claim, whatever I send
        _upload(mine, "INVOICE", ("mine.jpg", photo(), "image/jpeg"))
        assert [d.display_name for d in _documents(db_factory, theirs.claim_id)] == [
            "their-invoice.jpg"
        ]


def test_signing_out_ends_the_session(
    signed_in: TestClient, db_factory: sessionmaker[Session]
) -> None:
    r = signed_in.post(
        "/h5/supplement/claim/logout", data={"csrf": _csrf(signed_in)}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/h5/supplement"
    assert 'sp_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    with db_factory() as s:
        row = s.scalar(select(LoginSession))
        assert row is not None and row.revoked_at is not None


def test_file_links_end_with_the_portal_session(signed_in: TestClient) -> None:
    _upload(signed_in, "INVOICE", ("invoice.jpg", photo(), "image/jpeg"))
    thumbs = re.findall(r'<img src="(/claim-files/[^"]+)"', signed_in.get(PAGE).text)
    assert thumbs and signed_in.get(thumbs[0]).status_code == 200
    signed_in.post("/h5/supplement/claim/logout", data={"csrf": _csrf(signed_in)})
    assert signed_in.get(thumbs[0]).status_code == 404


# --- links and claims that no longer take documents ------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [("/h5/supplement/not-a-real-token-but-long-enough", 404), ("/h5/supplement/x", 404)],
)
def test_an_unknown_link_gives_the_hotline_and_the_offline_route(
    portal: TestClient, path: str, status: int
) -> None:
    r = portal.get(path)
    assert r.status_code == status
    assert "此链接无效" in r.text
    assert "10108686" in r.text and "以线下方式通过邮件或电话" in r.text
    assert r.headers["referrer-policy"] == "no-referrer"
    english = portal.get(path, params={"lang": "en"})
    assert "This link is not valid" in english.text and "offline" in english.text
    _no_dump(r.text)


def test_an_expired_link_gives_the_hotline(
    portal: TestClient, pending: Pending, clock: FakeClock
) -> None:
    clock.now = datetime.datetime(2026, 3, 4, 16, 1, tzinfo=datetime.UTC)  # 5 March in China
    r = portal.get(path_of(pending.link))
    assert r.status_code == 410
    assert "补充材料的期限已过" in r.text and "10108686" in r.text
    _no_dump(r.text)


def test_the_deadline_passing_during_a_session_closes_the_page(
    portal: TestClient, pending: Pending, answers: AnswerRecorder, clock: FakeClock
) -> None:
    clock.now = datetime.datetime(2026, 3, 4, 15, 50, tzinfo=datetime.UTC)  # 23:50 in China
    assert log_in(portal, pending, answers).status_code == 303
    assert portal.get(PAGE).status_code == 200
    clock.advance(minutes=11)
    r = portal.get(PAGE)
    assert r.status_code == 410
    assert "补充材料的期限已过" in r.text and "10108686" in r.text
    late = _upload(portal, "INVOICE", ("a.jpg", photo(), "image/jpeg"), csrf="x")
    assert late.status_code == 410 and "10108686" in late.text


def test_a_claim_decided_meanwhile_gives_a_clear_page(
    signed_in: TestClient, pending: Pending, db_factory: sessionmaker[Session]
) -> None:
    with db_factory() as s:
        claim = s.get(Claim, pending.claim_id)
        assert claim is not None
        claim.status = ClaimStatus.REJECTED
        s.commit()
    for r in (
        signed_in.get(PAGE),
        signed_in.get(path_of(pending.link)),
        _upload(signed_in, "INVOICE", ("a.jpg", photo(), "image/jpeg"), csrf="x"),
    ):
        assert r.status_code in (409, 410)
        assert "10108686" in r.text or "不能补充材料" in r.text
        _no_dump(r.text)


def test_large_or_odd_requests_never_fail_with_a_stack_trace(signed_in: TestClient) -> None:
    csrf = _csrf(signed_in)
    huge = signed_in.post(
        "/h5/supplement/claim/submit",
        content=b"csrf=" + csrf.encode() + b"&remark=" + b"a" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 403
    weird = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE"},
        content=b"not multipart",
        headers={"content-type": "text/plain", "x-csrf-token": csrf},
    )
    assert weird.status_code == 415
    for r in (huge, weird):
        _no_dump(r.text)
    assert signed_in.get("/h5/supplement/claim/nothing-here").status_code == 404


# --- faults: an unexpected failure, a full disk ----------------------------------------------


def test_an_unexpected_failure_answers_json_or_a_page(
    signed_in: TestClient,
    pending: Pending,
    db_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from h5.supplement import upload

    def broken(*_args: Any) -> None:
        raise RuntimeError("bug")

    csrf = _csrf(signed_in)
    monkeypatch.setattr(upload, "_attach", broken)
    r = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE", "lang": "en"},
        files=[("file", ("a.jpg", photo(), "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": csrf},
    )
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL_ERROR"
    assert "bug" not in r.text
    page = _upload(signed_in, "INVOICE", ("a.jpg", photo(), "image/jpeg"), csrf=csrf)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert _documents(db_factory, pending.claim_id) == []


def test_a_full_disk_answers_storage_full(
    signed_in: TestClient,
    pending: Pending,
    claims: ClaimContext,
    db_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_room(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(claims.storage, "put_file", no_room)
    r = signed_in.post(
        UPLOAD,
        params={"category": "INVOICE", "lang": "en"},
        files=[("file", ("a.jpg", photo(), "image/jpeg"))],
        headers={"accept": "application/json", "x-csrf-token": _csrf(signed_in)},
    )
    assert r.status_code == 507 and r.json()["error"]["code"] == "STORAGE_FULL"
    assert _documents(db_factory, pending.claim_id) == []
