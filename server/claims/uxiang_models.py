"""Tables of U享赔 (seed 000 §7): the member's signed authorisations, and the visit records
claims were made from (one claim per record).

The client an authorisation was given from (address and browser) and the record a claim
was made from (diagnosis, charges) are personal: encrypted.
"""

from __future__ import annotations

import datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class UxiangAuthorisation(Base):
    """U享赔客户授权书: ticked (version and time) and then signed (the image's storage key)."""

    __tablename__ = "uxiang_authorisation"
    __table_args__ = (Index("ix_uxiang_authorisation_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    version: Mapped[str] = mapped_column(String(40))  # of uxiang_authorisation.toml
    accepted_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    client_enc: Mapped[str] = mapped_column(Text)  # {"address", "userAgent", "channel"}
    signature_key: Mapped[str | None] = mapped_column(String(120))
    signed_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class UxiangClaim(Base):
    """A claim made from a visit record; the pair (person, record) is unique."""

    __tablename__ = "uxiang_claim"
    __table_args__ = (UniqueConstraint("person_id", "record_id", name="uq_uxiang_claim_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))  # the insured
    record_id: Mapped[str] = mapped_column(String(64))
    # a discarded draft frees its record
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    authorisation_id: Mapped[int] = mapped_column(ForeignKey("uxiang_authorisation.id"))
    visit_date: Mapped[datetime.date] = mapped_column(Date)
    record_enc: Mapped[str] = mapped_column(Text)  # the visit as the records service gave it
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
