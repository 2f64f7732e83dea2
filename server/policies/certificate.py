"""Electronic certificates (电子凭证 / 电子保单) as a printable HTML page and a PDF.

The GraphQL API hands out a short-lived signed link (server/signing.py), so the document
opens in a browser or a PDF viewer without a bearer header; the link names the policy and
the member's sign-in session, which must still be live when it is opened (signing out
ends the link), and the policy is checked against the database again (api/certificates.py).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from server import signing
from server.fonts import cjk_font
from server.policies.models import Policy, PolicyKind, PolicyStatus, Relation
from server.policies.service import PoliciesService

LINK_PURPOSE = "certificate"
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
STATUS_ZH = {
    PolicyStatus.IN_FORCE: "有效",
    PolicyStatus.MATURED: "满期",
    PolicyStatus.SURRENDERED: "退保",
}
RELATION_ZH = {
    Relation.SELF: "本人",
    Relation.SPOUSE: "配偶",
    Relation.CHILD: "子女",
    Relation.PARENT: "父母",
}


def sign_link(secret: str, policy_id: int, session_id: int, now: datetime.datetime) -> str:
    """A certificate link for the member signed in with `session_id`."""
    return signing.sign(secret, LINK_PURPOSE, (policy_id,), session_id=session_id, now=now)


def read_link(secret: str, token: str, now: datetime.datetime) -> tuple[int, int] | None:
    """(policy id, session id) of a valid link, or None."""
    found = signing.read(secret, LINK_PURPOSE, token, now=now)
    if found is None or len(found.subject) != 1 or not isinstance(found.subject[0], int):
        return None
    return found.subject[0], found.session_id


@dataclass(frozen=True, slots=True)
class Certificate:
    title: str
    policy_no: str
    product_name: str
    product_name_en: str
    holder_name: str
    insured_name: str
    insured_id_masked: str
    relation: str
    status: str
    start_date: datetime.date
    end_date: datetime.date
    sum_insured: int
    plan_name: str
    benefits: list[tuple[str, str]]
    issued_on: datetime.date


def certificate(policies: PoliciesService, policy: Policy, today: datetime.date) -> Certificate:
    person = policies.person_view(policy.insured, today)
    return Certificate(
        title="健康险团险个人电子凭证" if policy.kind is PolicyKind.GROUP else "健康险个险电子保单",
        policy_no=policy.policy_no,
        product_name=policy.product_name,
        product_name_en=policy.product_name_en,
        holder_name=policies.holder_name(policy),
        # the insured's own document: the full name is printed, the ID number stays masked
        insured_name=policies.full_name(policy.insured),
        insured_id_masked=person.id_number_masked,
        relation=RELATION_ZH[policy.relation],
        status=STATUS_ZH[policy.status],
        start_date=policy.start_date,
        end_date=policy.end_date,
        sum_insured=policy.sum_insured,
        plan_name=policy.plan.name if policy.plan else "",
        benefits=[
            (b.name, f"{b.limit_yuan:,} 元" if b.limit_yuan is not None else "—")
            for b in policy.benefits
        ],
        issued_on=today,
    )


def render_html(cert: Certificate) -> str:
    return _env.get_template("certificate.html").render(c=cert)


def render_pdf(cert: Certificate) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    cjk_font()
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=True)
    pdf.setTitle(f"{cert.title} {cert.policy_no}")
    width, height = A4
    y = height - 72
    pdf.setFont("STSong-Light", 18)
    pdf.drawCentredString(width / 2, y, cert.title)
    y -= 36
    pdf.setFont("STSong-Light", 11)
    rows = [
        ("保单号 Policy no.", cert.policy_no),
        ("产品 Product", f"{cert.product_name} {cert.product_name_en}".strip()),
        ("投保人 Policyholder", cert.holder_name),
        ("计划 Plan", cert.plan_name or "—"),
        ("被保险人 Insured", f"{cert.insured_name}（{cert.relation}）"),
        ("证件号码 ID no.", cert.insured_id_masked),
        ("保险期间 Period", f"{cert.start_date:%Y-%m-%d} 至 {cert.end_date:%Y-%m-%d}"),
        ("状态 Status", cert.status),
        ("保险金额 Sum insured", f"{cert.sum_insured:,} 元"),
    ]
    for label, value in rows:
        pdf.drawString(72, y, label)
        pdf.drawString(230, y, value)
        y -= 20
    if cert.benefits:
        y -= 10
        pdf.setFont("STSong-Light", 13)
        pdf.drawString(72, y, "保障责任 Benefits")
        y -= 22
        pdf.setFont("STSong-Light", 11)
        for name, limit in cert.benefits:
            pdf.drawString(72, y, name)
            pdf.drawRightString(width - 72, y, limit)
            y -= 18
    pdf.setFont("STSong-Light", 9)
    pdf.drawString(
        72, 60, f"出具日期 Issued {cert.issued_on:%Y-%m-%d}。本凭证仅供参考，以保险合同为准。"
    )
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
