"""Insured people, employers, group plans and policies, as the insurer's systems hold them."""

from __future__ import annotations

import datetime
import enum

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db import Base, value_enum


class IdType(enum.Enum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    FOREIGNER_PERMANENT_ID = "foreigner_permanent_id"  # 外国人永久居留身份证


class PolicyStatus(enum.Enum):
    IN_FORCE = "in_force"  # 有效
    MATURED = "matured"  # 满期
    SURRENDERED = "surrendered"  # 退保


class PolicyKind(enum.Enum):
    GROUP = "group"  # 团险：个人电子凭证
    INDIVIDUAL = "individual"  # 个险：电子保单


class Relation(enum.Enum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"


class Person(Base):
    """An insured person. Name and ID number are encrypted; look-ups use keyed hashes."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("id_type", "id_number_hash", name="uq_person_identity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_type: Mapped[IdType] = mapped_column(value_enum(IdType, "id_type"))
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    name_enc: Mapped[str] = mapped_column(Text)
    name_hash: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[datetime.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))  # M | F
    phone_enc: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)


class Company(Base):
    """An employer that holds group policies."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")


class GroupPlan(Base):
    """A plan of a group policy; its network decides which facilities its members use."""

    __tablename__ = "group_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    network_id: Mapped[str | None] = mapped_column(String(80))  # a directory network id

    company: Mapped[Company] = relationship()


class Policy(Base):
    """One insured person's cover: a group personal certificate or an individual policy.

    A dependant's (连带被保人) policy names the main insured, who sees it too.
    """

    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[PolicyKind] = mapped_column(value_enum(PolicyKind, "policy_kind"))
    product_name: Mapped[str] = mapped_column(String(200))
    product_name_en: Mapped[str] = mapped_column(String(200), default="")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("group_plan.id"))
    holder_name_enc: Mapped[str] = mapped_column(Text)  # the company, or the person: encrypted
    insured_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    main_insured_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    relation: Mapped[Relation] = mapped_column(value_enum(Relation, "relation"))
    status: Mapped[PolicyStatus] = mapped_column(value_enum(PolicyStatus, "policy_status"))
    start_date: Mapped[datetime.date] = mapped_column(Date)
    end_date: Mapped[datetime.date] = mapped_column(Date)
    surrendered_on: Mapped[datetime.date | None] = mapped_column(Date)
    high_end: Mapped[bool] = mapped_column(Boolean, default=False)
    sum_insured: Mapped[int] = mapped_column(Integer, default=0)  # yuan

    plan: Mapped[GroupPlan | None] = relationship()
    insured: Mapped[Person] = relationship(foreign_keys=[insured_id])
    main_insured: Mapped[Person | None] = relationship(foreign_keys=[main_insured_id])
    benefits: Mapped[list[Benefit]] = relationship(
        order_by="Benefit.position", cascade="all, delete-orphan"
    )


class Benefit(Base):
    """A line of a policy's benefits page; floating items (浮动项) carry details to expand."""

    __tablename__ = "benefit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    limit_yuan: Mapped[int | None] = mapped_column(Integer)
    reimbursement_pct: Mapped[int | None] = mapped_column(Integer)
    deductible_yuan: Mapped[int | None] = mapped_column(Integer)
    floating: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(Text, default="")
    detail_en: Mapped[str] = mapped_column(Text, default="")
