"""Payee details and SAVE_PAYEE codes for the tests."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.claims.payees import PayeeDetails
from server.policies.models import IdType, Relation
from tests.db import last_sms_code

CCB_CARD = "6217 0012 1001 9876 786"  # Luhn-valid
ICBC_CARD = "6222021001123456789"  # Luhn-valid
BAD_CHECK_DIGIT = "6222021001123456788"
SHANGHAI = "310000000000"
SHANGHAI_CITY = "310100000000"
SPOUSE_ID = "310115198001011238"


def details(**kw: Any) -> PayeeDetails:
    base = PayeeDetails(
        relationship=Relation.SPOUSE,
        holder_name="王芳",
        id_type=IdType.RESIDENT_ID,
        id_number=SPOUSE_ID,
        province_code=SHANGHAI,
        city_code=SHANGHAI_CITY,
        bank_code="105",
        account_no=CCB_CARD,
        insurance_no="SB31011512345",
    )
    return dataclasses.replace(base, **kw)


def payee_code(
    db: Session,
    factory: sessionmaker[Session],
    members: MemberServices,
    account: Account,
    phone: str,
) -> str:
    """A fresh SAVE_PAYEE code to the member's mobile (the clock moved past the resend wait)."""
    members.accounts.codes.clock.advance(minutes=13)  # type: ignore[attr-defined]
    members.accounts.send_code(db, phone, Purpose.SAVE_PAYEE, account=account)
    db.flush()
    return last_sms_code(factory, members, phone)
