"""The printable approval of a pre-authorisation (预先授权确认书): a signed link, its page
and the same as a PDF.

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
from server.fonts import cjk_font
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


def render_pdf(a: Approval) -> bytes:
    """The same approval as an A4 PDF, in the CJK font of the other PDFs (server/fonts.py),
    laid out as the settlement notice's (server/claims/notice.py)."""
    import io
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=TA_CENTER)
    subtitle = ParagraphStyle("subtitle", parent=body, fontSize=9, alignment=TA_CENTER)
    width = A4[0] - 40 * mm

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    rows = [
        ("编号 Reference", f"PA{a.id:08d}"),
        ("保单号 Policy no.", a.policy_no),
        ("被保险人 Insured", a.insured_masked),
        ("医疗机构 Facility", a.facility_name),
        ("就诊时间 Visit date", a.visit_date.isoformat()),
        ("批准项目 Approved items", a.items),
        ("批准金额 Approved amount", f"¥{a.amount}"),
        (
            "有效期 Valid",
            f"{a.valid_from.isoformat() if a.valid_from else ''} — "
            f"{a.valid_to.isoformat() if a.valid_to else ''}",
        ),
        ("批准时间 Approved at", a.decided_on.isoformat() if a.decided_on else ""),
    ]
    table = Table(
        [[p(label), p(value)] for label, value in rows], colWidths=[width * 0.42, width * 0.58]
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f3f3")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"预先授权确认书 PA{a.id:08d}",
        invariant=True,
    )
    doc.build(
        [
            p("预先授权确认书", title),
            p("Pre-authorisation approval", subtitle),
            Spacer(1, 6 * mm),
            table,
            Spacer(1, 4 * mm),
            p(
                "请于有效期内就诊并出示本确认书。Show this approval at the facility within its validity."
            ),
        ]
    )
    return buf.getvalue()
