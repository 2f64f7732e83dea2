"""Shared pieces of the supplement portal tests: a claim waiting for documents, the link
from its SMS, a captcha answer recorder and a signed-in client.

The fixtures at the end are made available to tests/h5 by its conftest.
"""

from __future__ import annotations

import datetime
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from h5.supplement.routes import PortalConfig
from server.accounts.models import Account
from server.claims import core, supplements
from server.claims.core import ClaimContext
from server.claims.models import Adjuster, Claim, ClaimStatus
from server.crypto import Vault
from server.notify.outbox import Notification
from server.policies.models import GroupPlan, Relation
from server.policies.records import add_person, add_plan, add_policy, resident_id

INSURED_NAME = "张伟"  # the demo main insured
ADJUSTER_EMAIL = "adjuster@example.com"


class AnswerRecorder:
    """Stands in for the captcha's answer generator: random answers, the last one kept.

    This is the test hook into the server-side store: the server keeps only hashes, so
    the test learns the answer where it is made, never through an HTTP route.
    """

    def __init__(self) -> None:
        self.answers: list[str] = []

    def __call__(self, alphabet: str, length: int) -> str:
        answer = "".join(secrets.choice(alphabet) for _ in range(length))
        self.answers.append(answer)
        return answer

    @property
    def last(self) -> str:
        return self.answers[-1]


@dataclass(frozen=True)
class Member:
    """An insured person with a mobile login, enough to own a claim."""

    person_id: int
    account_id: int
    policy_id: int
    phone: str


def insured_member(
    db: Session,
    vault: Vault,
    today: datetime.date,
    *,
    name: str = INSURED_NAME,
    serial: str = "031",
) -> Member:
    """A verified member insured on a group plan (cheaper than the whole demo set)."""
    born = datetime.date(1985, 4, 12)
    phone = f"13900000{serial}"
    person = add_person(
        db,
        vault,
        name=name,
        id_number=resident_id("310101", born, serial),
        birth_date=born,
        gender="M",
        phone=phone,
    )
    plan = db.scalar(select(GroupPlan).where(GroupPlan.code == "H5-SUPP-A"))
    if plan is None:
        plan = add_plan(
            db,
            company="上海示例科技有限公司",
            code="H5-SUPP-A",
            name="员工医疗计划",
            network_id=None,
        )
    policy = add_policy(
        db,
        vault,
        policy_no=f"H5-SUPP-{serial}",
        insured=person,
        plan=plan,
        start=today.replace(month=1, day=1),
        end=today.replace(month=12, day=31),
    )
    account = Account(
        phone_hash=vault.lookup(phone, kind="phone"),
        phone_enc=vault.encrypt(phone),
        person_id=person.id,
    )
    db.add(account)
    db.flush()
    return Member(person.id, account.id, policy.id, phone)


def submitted_claim(db: Session, member: Member, now: datetime.datetime) -> Claim:
    """A sent outpatient claim, as the app leaves it."""
    claim = Claim(
        account_id=member.account_id,
        applicant_id=member.person_id,
        policy_id=member.policy_id,
        insured_id=member.person_id,
        relation=Relation.SELF,
        plan_rules="DEFAULT",
        status=ClaimStatus.SUBMITTED,
        claim_type="OUTPATIENT",
        claim_no=core.next_claim_no(db, now),
        submitted_at=now,
        waiting_since=now,
        created_at=now,
        updated_at=now,
    )
    db.add(claim)
    db.flush()
    return claim


def adjuster(
    db: Session, vault: Vault, now: datetime.datetime, username: str = "li.na"
) -> Adjuster:
    """An active adjuster (inserted directly: hashing a real password costs half a second)."""
    found = db.scalar(select(Adjuster).where(Adjuster.username == username))
    if found is not None:
        return found
    row = Adjuster(
        username=username,
        display_name_enc=vault.encrypt("李娜"),
        email_enc=vault.encrypt(ADJUSTER_EMAIL),
        password_hash="-",
        active=True,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


@dataclass
class Pending:
    claim_id: int
    claim_no: str
    supplement_id: int
    token: str
    link: str  # as the SMS carries it


def sms_link(db: Session, vault: Vault, supplement_id: int) -> str:
    """The H5 link in the supplement SMS, read from the outbox (the body is encrypted)."""
    row = db.scalar(
        select(Notification).where(Notification.dedupe_key == f"supplement:{supplement_id}:sms")
    )
    assert row is not None, "no supplement SMS queued"
    body = vault.decrypt(row.body_enc)
    m = re.search(r"(https?://\S+/h5/supplement/[A-Za-z0-9_-]+)", body)
    assert m is not None, "no link in the SMS"
    return m.group(1)


def request_documents(
    factory: sessionmaker[Session],
    cx: ClaimContext,
    member: Member,
    categories: tuple[str, ...] = ("MEDICAL_RECORD", "INVOICE"),
    instructions: str = "请补充完整的门诊病历及发票原件照片。",
) -> Pending:
    """A real supplement request through the adjusters' service; committed."""
    now = cx.now()
    with factory() as db:
        claim = submitted_claim(db, member, now)
        who = adjuster(db, cx.vault, now)
        request, token = supplements.request_supplement(
            db, cx, who, claim, list(categories), instructions
        )
        db.commit()
        link = sms_link(db, cx.vault, request.id)
        assert claim.claim_no is not None
        return Pending(claim.id, claim.claim_no, request.id, token, link)


def path_of(link: str) -> str:
    """The path of an absolute link, for the test client."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def photo(color: str = "red", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=90)
    return out.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m is not None, f"no hidden field {name}"
    return m.group(1)


def login_form(client: TestClient, path: str) -> tuple[str, str]:
    """(csrf, captcha id) of a log-in page just fetched."""
    r = client.get(path)
    assert r.status_code == 200, r.text
    return hidden(r.text, "csrf"), hidden(r.text, "captcha_id")


def log_in(
    client: TestClient,
    pending: Pending,
    answers: AnswerRecorder,
    *,
    name: str = INSURED_NAME,
    lang: str = "",
) -> Any:
    path = path_of(pending.link) + (f"?lang={lang}" if lang else "")
    csrf, challenge = login_form(client, path)
    return client.post(
        path,
        data={"csrf": csrf, "captcha_id": challenge, "captcha": answers.last, "name": name},
        follow_redirects=False,
    )


# --- fixtures: the portal on the member app, with a claim waiting for documents -------------


@pytest.fixture
def answers() -> AnswerRecorder:
    return AnswerRecorder()


@pytest.fixture
def portal_app(member_app: Starlette, answers: AnswerRecorder) -> Starlette:
    member_app.state.supplement_portal = PortalConfig(login_floor=0.0, answers=answers)
    return member_app


@pytest.fixture
def portal(portal_app: Starlette) -> Iterator[TestClient]:
    with TestClient(portal_app) as c:
        yield c


@pytest.fixture
def member(db_factory: sessionmaker[Session], claims: ClaimContext) -> Member:
    with db_factory() as s:
        found = insured_member(s, claims.vault, claims.now().date())
        s.commit()
    return found


@pytest.fixture
def pending(db_factory: sessionmaker[Session], claims: ClaimContext, member: Member) -> Pending:
    return request_documents(db_factory, claims, member)
