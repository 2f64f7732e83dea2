"""The settlement notice: its content, masking, the payment days, the page and the PDF."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.claims import core, notice
from server.claims.core import ClaimContext
from server.claims.errors import WrongClaimState
from server.claims.models import Actor, ClaimStatus
from tests.server.claims.files_helpers import (
    ACCOUNT_NO,
    make_claim,
    pages,
    pdf_text,
    settle,
    submit,
)


def _settled(db: Session, claims: ClaimContext, demo: Any, **kw: Any) -> Any:
    claim = make_claim(db, claims, demo, with_payee=kw.pop("with_payee", True))
    submit(db, claims, claim)
    settle(db, claims, claim, **kw)
    db.flush()
    return claim


def test_the_notice_carries_the_decision_with_personal_data_masked(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # given a settled outpatient claim of 张伟 (the demo clock: Monday 2 March 2026)
    claim = _settled(
        db_session, claims, demo, decided_at=claims.now(), deductions=((20_000, "自费药"),)
    )
    # when
    n = notice.settlement_notice(db_session, claims, claim)
    # then
    assert n.claim_no == claim.claim_no and n.claim_no.startswith("VSHH260302")
    assert (n.policy_no, n.product_name) == ("DEMO-G-0001-01", claim.policy.product_name)
    assert n.insured_name_masked == "张*"
    assert (n.claim_type, n.claim_type_en) == ("门急诊", "Outpatient and emergency")
    assert (n.incident_type, n.incident_date) == ("疾病", datetime.date(2026, 2, 20))
    assert n.submitted_on == n.settled_on == n.issued_on == datetime.date(2026, 3, 2)
    assert (n.claimed_fen, n.other_compensation_fen) == (123_450, 20_000)
    assert (n.approved_fen, n.paid_fen, n.deducted_fen) == (103_450, 103_450, 20_000)
    assert n.deductions == (notice.Deduction(20_000, "自费药"),)
    assert n.payee_bank == "中国建设银行"
    assert n.payee_account_masked == "**** **** **** " + ACCOUNT_NO[-4:]
    assert n.payee_holder_masked == "张*"
    assert (n.hotline, n.postcode) == ("10108686", "200122")
    assert n.address == "上海市浦东新区世纪大道1229号世纪大都会13楼"
    # payment 2-3 working days after settlement: Wednesday and Thursday
    assert n.payment_working_days == "2-3"
    assert n.payment_window == (datetime.date(2026, 3, 4), datetime.date(2026, 3, 5))


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.WITHDRAWN])
def test_only_a_settled_claim_has_a_notice(
    db_session: Session, claims: ClaimContext, demo: Any, status: ClaimStatus
) -> None:
    claim = make_claim(db_session, claims, demo)
    submit(db_session, claims, claim)
    if status is ClaimStatus.WITHDRAWN:
        core.transition(
            db_session,
            claim,
            status,
            "WITHDRAWN",
            actor=Actor.CLAIMANT,
            actor_id=None,
            now=claims.now(),
        )
    with pytest.raises(WrongClaimState):
        notice.settlement_notice(db_session, claims, claim)


def test_settlement_day_falls_back_to_the_timeline_and_no_payee_shows_a_dash(
    db_session: Session, claims: ClaimContext, demo: Any, clock: Any
) -> None:
    claim = _settled(db_session, claims, demo, with_payee=False, deductions=(), decided_at=None)
    clock.advance(days=3)
    n = notice.settlement_notice(db_session, claims, claim)
    assert n.settled_on == datetime.date(2026, 3, 2) and n.issued_on == datetime.date(2026, 3, 5)
    assert (n.payee_bank, n.payee_account_masked, n.payee_holder_masked) == ("—", "—", "—")
    assert n.deductions == () and n.deducted_fen == 0


def test_payment_days_follow_the_mainland_calendar() -> None:
    # Friday 27 September 2024: Sunday the 29th is a make-up workday, then the National Day week
    assert notice.payment_window(datetime.date(2024, 9, 27), "2-3") == (
        datetime.date(2024, 9, 30),
        datetime.date(2024, 10, 8),
    )
    assert notice.payment_window(datetime.date(2024, 9, 27), "1") == (
        datetime.date(2024, 9, 29),
        datetime.date(2024, 9, 29),
    )
    # a year whose holidays are not published, or a malformed rule: the text alone is shown
    assert notice.payment_window(datetime.date(2099, 3, 2), "2-3") is None
    assert notice.payment_window(datetime.date(2026, 3, 2), "soon") is None


def test_amounts_are_exact_yuan_with_two_decimals() -> None:
    assert notice.yuan(123_450) == "¥1,234.50"
    assert notice.yuan(5) == "¥0.05"
    assert notice.yuan(0) == "¥0.00"
    assert notice.yuan(1_000_000_001) == "¥10,000,000.01"
    assert notice.yuan(None) == "—"


def test_the_page_shows_amounts_and_masked_payee_and_escapes_the_note(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    claim = _settled(
        db_session, claims, demo, decided_at=claims.now(), note="<script>alert(1)</script>核定"
    )
    html = notice.render_html(notice.settlement_notice(db_session, claims, claim))
    assert "理赔结案通知书" in html and "Claim settlement notice" in html
    assert html.index("赔付金额") < html.index("Paid")  # Chinese label first
    for amount in ("¥1,234.50", "¥200.00", "¥1,034.50"):
        assert amount in html
    assert "**** **** **** 6789" in html and ACCOUNT_NO not in html
    assert "张伟" not in html and "张*" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "2026-03-04 至 2026-03-05" in html and "10108686" in html


def test_the_pdf_is_a_pdf_with_the_claim_number_and_flows_onto_more_pages(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    many = tuple((100 + i, f"第 {i} 项：" + "不在保障范围内的自费项目。" * 6) for i in range(60))
    claim = _settled(db_session, claims, demo, decided_at=claims.now(), deductions=many)
    pdf = notice.render_pdf(notice.settlement_notice(db_session, claims, claim))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert claim.claim_no in text
    # the full-width sign of GB 2312, which the CJK font surely maps
    assert "理赔结案通知书" in text and "￥1,034.50" in text and "**** **** **** 6789" in text
    assert ACCOUNT_NO not in text and "张伟" not in text
    assert pages(pdf) >= 2  # a long list of deductions is not cut off
    # the same notice renders to the same bytes (no timestamps inside)
    assert notice.render_pdf(notice.settlement_notice(db_session, claims, claim)) == pdf
