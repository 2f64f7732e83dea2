"""Accounts, SMS codes, real-name identities and their audit, WeChat
bindings, favourites."""

from __future__ import annotations

import datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, UTCDateTime, utcnow, value_enum
from server.policies.models import IdType, Person


class Account(Base):
    """A mobile-number login. `person_id` is set once real-name verification matched an insured."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    # null for accounts created by a WeChat binding until a password is set
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    terms_accepted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    # zh or en: the language of SMS, e-mail, in-app messages and the H5 links they carry
    preferred_language: Mapped[str] = mapped_column(String(2), default="zh", server_default="zh")

    person: Mapped[Person | None] = relationship()
    identity: Mapped[Identity | None] = relationship(back_populates="account", uselist=False)


class Identity(Base):
    """What the member entered for real-name verification (实名认证), encrypted."""

    __tablename__ = "identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), unique=True)
    id_type: Mapped[IdType] = mapped_column(value_enum(IdType, "id_type"))
    name_enc: Mapped[str] = mapped_column(Text)
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    valid_from: Mapped[datetime.date] = mapped_column(Date)
    valid_to: Mapped[datetime.date | None] = mapped_column(Date)  # null: long-term (长期)
    verified_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="identity")


class SmsCode(Base):
    """A one-time code for one phone and purpose, stored as a salted hash."""

    __tablename__ = "sms_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # set for codes that only this signed-in account may use (VERIFY_IDENTITY)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class IdentityAudit(Base):
    """An identity taken back from the account that held it, by the person proving the
    mobile on the insurer's record. Ids and hashes only."""

    __tablename__ = "identity_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(32))  # reclaimed
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    previous_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    # how the record mobile was proven: same_mobile (the account's own) | sms_code
    factor: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # app (verifyRealName) | wechat (bindWechat)
    # the document the earlier holder had verified with, and when
    previous_id_number_hash: Mapped[str | None] = mapped_column(String(64))
    previous_verified_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class SmsOutbox(Base):
    """Messages the development sender 'sent': the phone encrypted, the text as sent."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class WechatBinding(Base):
    """One insured identity bound to one WeChat mini-program user (openid)."""

    __tablename__ = "wechat_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    bound_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Favourite(Base):
    """A facility in a member's 我的收藏, by its directory id."""

    __tablename__ = "favourite"
    __table_args__ = (UniqueConstraint("account_id", "facility_id", name="uq_favourite_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    facility_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
