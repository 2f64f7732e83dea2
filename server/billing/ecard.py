"""The electronic direct-billing card (电子直付卡, seed §9.5): front and back, for high-end
policies only.

The card opens as an H5 page from a short-lived signed link the GraphQL API hands out
(server/signing.py); the link names the member's sign-in session, which must still be live
when the page opens, and the policy is checked again then. Names and ID numbers are
masked. While the insurer does not take e-card payment (ECARD_PAYMENT_NOTE), the page and
the API carry the seed's note: show the physical card and a valid ID at the hospital.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server import signing
from server.accounts.models import Account
from server.billing.appointments import network_of, own_policy
from server.billing.errors import BOOKING_LINE
from server.crypto import Vault, mask_id, mask_name
from server.directory.directory import Directory

LINK_PURPOSE = "e-card"
NOTE_ZH = "暂未开通电子卡直付功能，如需使用直付服务，烦请在直付网络医院就诊时出示直付卡实体卡及有效身份证件。"
NOTE_EN = (
    "E-card payment is not accepted yet: at a direct-billing hospital, show the physical "
    "direct-billing card and a valid ID."
)
SHOW_ZH = "就诊时请出示直付卡及有效身份证件（身份证、护照等），并签署“医疗直付理赔申请表”。"
SHOW_EN = (
    "At the hospital, show this card and a valid ID (ID card, passport), and sign the "
    "direct-billing claim form."
)
# The card number is formed from the policy number until the cards' own numbers are loaded:
# the page and the API say so rather than pass it off as the printed card's number.
NUMBER_NOTE_ZH = (
    "此卡号由保单号生成，可能与实体直付卡上印制的卡号不同；医院可凭保单号及有效身份证件核实。"
)
NUMBER_NOTE_EN = (
    "This number is formed from your policy number and may differ from the one printed on "
    "your physical card; the hospital can check your policy number and ID."
)
HIGH_END_NETWORK = ("高端医疗直付网络", "High-end direct-billing network")


@dataclass(frozen=True, slots=True)
class ECard:
    member_name_masked: str
    id_number_masked: str
    card_number: str
    card_number_note: str
    card_number_note_en: str
    product_name: str
    product_name_en: str
    valid_from: datetime.date
    valid_to: datetime.date
    network_name: str
    network_name_en: str
    booking_line: str
    show_at_hospital: str
    show_at_hospital_en: str
    payment_note: str | None
    payment_note_en: str | None


def card_number(policy_no: str) -> str:
    """The card's number: the policy number's letters and digits, in groups of four."""
    raw = "DB" + "".join(c for c in policy_no.upper() if c.isalnum())
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def card(
    db: Session,
    vault: Vault,
    directory: Directory,
    account: Account,
    policy_id: int,
    today: datetime.date,
    *,
    payment_note: bool,
) -> ECard:
    """The card of one of the member's (or a dependant's) high-end policies in force."""
    policy = own_policy(db, account, policy_id, today)
    network_id = network_of(policy)
    network = next((n for n in directory.networks if n.id == network_id), None)
    names = (network.name_zh, network.name_en) if network is not None else HIGH_END_NETWORK
    insured = policy.insured
    return ECard(
        member_name_masked=mask_name(vault.decrypt(insured.name_enc)),
        id_number_masked=mask_id(vault.decrypt(insured.id_number_enc)),
        card_number=card_number(policy.policy_no),
        card_number_note=NUMBER_NOTE_ZH,
        card_number_note_en=NUMBER_NOTE_EN,
        product_name=policy.product_name,
        product_name_en=policy.product_name_en,
        valid_from=policy.start_date,
        valid_to=policy.end_date,
        network_name=names[0],
        network_name_en=names[1],
        booking_line=BOOKING_LINE,
        show_at_hospital=SHOW_ZH,
        show_at_hospital_en=SHOW_EN,
        payment_note=NOTE_ZH if payment_note else None,
        payment_note_en=NOTE_EN if payment_note else None,
    )


def sign_link(secret: str, policy_id: int, session_id: int, now: datetime.datetime) -> str:
    return signing.sign(secret, LINK_PURPOSE, (policy_id,), session_id=session_id, now=now)


def read_link(secret: str, token: str, now: datetime.datetime) -> tuple[int, int] | None:
    """(policy id, session id) of a valid link, or None."""
    found = signing.read(secret, LINK_PURPOSE, token, now=now)
    if found is None or len(found.subject) != 1 or not isinstance(found.subject[0], int):
        return None
    return found.subject[0], found.session_id
