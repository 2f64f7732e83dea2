"""The printable approval of a pre-authorisation (预先授权确认书): a signed link and its page.

The link names the approved request and the member's sign-in session (server/signing.py);
the route that opens it checks again that the session is live and the request is the
member's and approved.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from server import signing
from server.claims.preauth_models import PreAuthorisation, PreAuthStatus
from server.crypto import Vault, mask_name
from server.policies.models import Policy

PURPOSE = "pre-auth-approval"
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def sign_link(secret: str, pre_auth_id: int, session_id: int, now: datetime.datetime) -> str:
    return signing.sign(secret, PURPOSE, (pre_auth_id,), session_id=session_id, now=now)


def read_link(secret: str, token: str, now: datetime.datetime) -> tuple[int, int] | None:
    """(pre-authorisation id, session id) of a valid link, or None."""
    found = signing.read(secret, PURPOSE, token, now=now)
    if found is None or len(found.subject) != 1 or not isinstance(found.subject[0], int):
        return None
    return found.subject[0], found.session_id


@dataclass(frozen=True, slots=True)
class Approval:
    id: int
    policy_no: str
    insured_masked: str
    facility_name: str
    visit_date: datetime.date
    items: str
    amount: str
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    decided_on: datetime.date | None


def approval(vault: Vault, row: PreAuthorisation, policy: Policy) -> Approval | None:
    """What the page shows; None unless the request is approved."""
    if row.status != PreAuthStatus.APPROVED.value or row.approved_fen is None:
        return None
    return Approval(
        id=row.id,
        policy_no=policy.policy_no,
        insured_masked=mask_name(vault.decrypt(policy.insured.name_enc)),
        facility_name=row.facility_name,
        visit_date=row.visit_date,
        items=row.approved_items or "",
        amount=f"{(Decimal(row.approved_fen) / 100).quantize(Decimal('0.01')):,}",
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        decided_on=row.decided_at.date() if row.decided_at else None,
    )


def render_html(a: Approval) -> str:
    return _env.get_template("pre_auth_approval.html").render(a=a)
