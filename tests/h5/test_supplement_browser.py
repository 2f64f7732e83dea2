"""The supplement portal in a real headless Chromium, against a real server on a port.

From a supplement request made through the adjusters' service: the link from the SMS in
the outbox, the log-in with the insured person's name and the captcha (its answer comes
from the answer generator the test installs, never from an HTTP route), two photos in
two categories with progress bars (the large one shrunk in the browser), a remark, the
confirmation; then the adjuster's queue shows the claim first with its files and remark.
The same journey without JavaScript uses the plain forms.
"""

from __future__ import annotations

import dataclasses
import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from h5.supplement.routes import PortalConfig
from server.accounts.wiring import member_services
from server.app import create_app
from server.claims import review
from server.claims.core import ClaimContext, claim_context
from server.claims.models import Channel, ClaimDocument, ClaimEvent, ClaimStatus
from server.db import make_engine, make_sessionmaker, migrate
from server.notify.outbox import Notification
from server.services import Services
from tests.db import FakeClock
from tests.h5.browser_helpers import (
    free_port,
    launch_chromium,
    require_chromium,
    serving,
    watch_page,
)
from tests.h5.supplement_helpers import (
    INSURED_NAME,
    AnswerRecorder,
    Pending,
    insured_member,
    photo,
    request_documents,
)

pytestmark = pytest.mark.browser


@dataclass
class Live:
    url: str
    db: sessionmaker[Session]
    cx: ClaimContext
    answers: AnswerRecorder


@pytest.fixture(scope="module")
def live(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A uvicorn server on a free port over a SQLite file of its own, with the member side."""
    folder = tmp_path_factory.mktemp("supplement-live")
    port = free_port()
    settings = services.settings.with_(
        base_url=f"http://127.0.0.1:{port}",
        secret_key="live-supplement-test-secret",
        storage_dir=folder / "uploads",
        database_url=f"sqlite:///{folder / 'live.sqlite3'}",
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    clock = FakeClock()
    members = member_services(settings, clock=clock)
    cx = claim_context(settings, members.vault, members.accounts.codes, clock)
    app = create_app(
        settings,
        services=dataclasses.replace(
            services, settings=settings, db=factory, members=members, claims=cx
        ),
    )
    answers = AnswerRecorder()
    app.state.supplement_portal = PortalConfig(login_floor=0.05, answers=answers)
    with serving(app, port):
        yield Live(settings.base_url, factory, cx, answers)
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> None:
    require_chromium()


def in_browser(journey: Callable[[Any], None]) -> None:
    """Run `journey(browser)` with a Playwright of its own, in a thread of its own.

    The directory's browser tests keep a session-wide Playwright on this thread, and the
    synchronous API allows one per thread; a worker thread keeps the two apart.
    """
    from playwright.sync_api import sync_playwright

    failure: list[BaseException] = []

    def run() -> None:
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    journey(browser)
                finally:
                    browser.close()
        except BaseException as e:
            failure.append(e)

    worker = threading.Thread(target=run, name="supplement-browser")
    worker.start()
    worker.join(timeout=180)
    if worker.is_alive():
        pytest.fail("the browser journey did not finish within 3 minutes")
    if failure:
        raise failure[0]


def _pending(live: Live, serial: str) -> Pending:
    with live.db() as s:
        member = insured_member(s, live.cx.vault, live.cx.now().date(), serial=serial)
        s.commit()
    return request_documents(live.db, live.cx, member)


def _big_photo(path: Path) -> Path:
    """A 3000×2250 phone-like photo of noise: several MB, so the page shrinks it first."""
    image = Image.frombytes("RGB", (3000, 2250), os.urandom(3000 * 2250 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    path.write_bytes(out.getvalue())
    assert path.stat().st_size > 2 * 1024 * 1024
    return path


def _log_in(page: Any, live: Live, pending: Pending) -> None:
    page.goto(pending.link)  # the link exactly as the SMS carries it
    assert page.locator("#claim-no").inner_text() == pending.claim_no
    page.get_by_label("被保险人姓名").fill(INSURED_NAME)
    page.get_by_label("图形验证码").fill(live.answers.last.lower())
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/h5/supplement/claim")


def test_the_sms_link_to_the_adjusters_queue(chromium: None, live: Live, tmp_path: Path) -> None:
    pending = _pending(live, "041")

    def journey(browser: Any) -> None:
        context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page = context.new_page()
        errors = watch_page(page)
        try:
            _log_in(page, live, pending)
            assert (
                "请补充完整的门诊病历及发票原件照片。" in page.locator("#instructions").inner_text()
            )
            assert page.locator(".deadline").inner_text() == "请于 2026年3月4日 前提交"

            big = _big_photo(tmp_path / "病历.jpg")
            small = tmp_path / "invoice.jpg"
            small.write_bytes(photo("blue", (800, 600)))
            page.set_input_files("#files-MEDICAL_RECORD", str(big))
            page.locator("#docs-MEDICAL_RECORD li.doc").first.wait_for(timeout=30_000)
            page.set_input_files("#files-INVOICE", str(small))
            page.locator("#docs-INVOICE li.doc").first.wait_for(timeout=30_000)
            # the previews came from the server and loaded
            for area in ("MEDICAL_RECORD", "INVOICE"):
                img = page.locator(f"#docs-{area} img").first
                img.wait_for()
                page.wait_for_function(
                    "el => el.complete && el.naturalWidth > 0", arg=img.element_handle()
                )
            assert page.locator(".progress-list li").count() == 0  # finished rows go away

            page.get_by_label("备注（选填，最多 500 字）").fill("病历为复印件，原件已寄出。")
            page.get_by_role("button", name="提交").click()
            page.wait_for_url("**/h5/supplement/claim/done")
            assert page.locator("h1").inner_text() == "补充材料已提交"
            received = page.locator(".received li").all_inner_texts()
            assert sorted(received) == ["invoice.jpg", "病历.jpg"]
            assert page.locator("#remark-shown").inner_text() == "病历为复印件，原件已寄出。"

            # English on the confirmation too
            page.get_by_role("link", name="English").click()
            assert page.locator("h1").inner_text() == "Documents received"
        finally:
            context.close()
        assert errors == []

    in_browser(journey)

    # the adjuster's side: first in the queue, with the files and the remark
    with live.db() as s:
        queue = review.queue(s)
        first = queue.rows[0]
        assert first.claim.id == pending.claim_id and first.unseen_supplement
        assert first.claim.status is ClaimStatus.UNDER_REVIEW
        view = review.claim_view(s, live.cx, first.claim)
        docs = [d for d in view.documents if d.supplement_id == pending.supplement_id]
        assert sorted(d.category for d in docs) == ["INVOICE", "MEDICAL_RECORD"]
        assert all(d.channel is Channel.H5 for d in docs)
        shrunk = next(d for d in docs if d.category == "MEDICAL_RECORD")
        assert shrunk.width is not None and max(shrunk.width, shrunk.height or 0) <= 2560
        assert shrunk.original_sha256 != ""
        note = s.scalar(
            select(ClaimEvent.note).where(
                ClaimEvent.claim_id == pending.claim_id, ClaimEvent.kind == "SUPPLEMENT_RECEIVED"
            )
        )
        assert note == "病历为复印件，原件已寄出。"
        assert s.scalar(
            select(Notification.id).where(
                Notification.dedupe_key == f"supplement:{pending.supplement_id}:arrived"
            )
        )
        s.rollback()


def test_the_plain_forms_work_without_javascript(
    chromium: None, live: Live, tmp_path: Path
) -> None:
    pending = _pending(live, "042")

    def journey(browser: Any) -> None:
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", java_script_enabled=False
        )
        page = context.new_page()
        errors = watch_page(page)
        try:
            _log_in(page, live, pending)
            for area, color in (("MEDICAL_RECORD", "red"), ("INVOICE", "green")):
                file = tmp_path / f"{area.lower()}.jpg"
                file.write_bytes(photo(color))
                page.set_input_files(f"#files-{area}", str(file))
                page.locator(f"#area-{area} button", has_text="上传").click()
                page.wait_for_load_state()
                assert page.locator(f"#docs-{area} li.doc").count() == 1
            # take one back, put it again
            page.locator("#docs-INVOICE button", has_text="删除").click()
            page.wait_for_load_state()
            assert page.locator("#docs-INVOICE li.doc").count() == 0
            page.set_input_files("#files-INVOICE", str(tmp_path / "invoice.jpg"))
            page.locator("#area-INVOICE button", has_text="上传").click()
            page.wait_for_load_state()
            page.get_by_role("button", name="提交").click()
            page.wait_for_url("**/h5/supplement/claim/done")
            assert sorted(page.locator(".received li").all_inner_texts()) == [
                "invoice.jpg",
                "medical_record.jpg",
            ]
        finally:
            context.close()
        assert errors == []

    in_browser(journey)
    with live.db() as s:
        docs = s.scalars(
            select(ClaimDocument).where(
                ClaimDocument.supplement_id == pending.supplement_id,
                ClaimDocument.removed_at.is_(None),
            )
        ).all()
        assert len(docs) == 2
