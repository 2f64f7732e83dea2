"""Writing insured people and policies: used by the demo data loader and by tests.

In production these rows come from the insurer's policy administration system.
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from server.accounts.validation import gb11643_check, normalise_id_number
from server.crypto import Vault
from server.policies.models import (
    Benefit,
    Company,
    GroupPlan,
    IdType,
    Person,
    Policy,
    PolicyKind,
    PolicyStatus,
    Relation,
)


def resident_id(region: str, born: datetime.date, serial: str) -> str:
    """A well-formed resident ID number (region 6 digits, serial 3 digits)."""
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + gb11643_check(first17)


def add_person(
    db: Session,
    vault: Vault,
    *,
    name: str,
    id_number: str,
    birth_date: datetime.date,
    gender: str,
    id_type: IdType = IdType.RESIDENT_ID,
    phone: str | None = None,
) -> Person:
    from server.accounts.identity import _norm_name

    number = normalise_id_number(id_number)
    person = Person(
        id_type=id_type,
        id_number_enc=vault.encrypt(number),
        id_number_hash=vault.lookup(number, kind="id"),
        name_enc=vault.encrypt(name),
        name_hash=vault.lookup(_norm_name(name), kind="name"),
        birth_date=birth_date,
        gender=gender,
        phone_enc=vault.encrypt(phone) if phone else None,
        phone_hash=vault.lookup(phone, kind="phone") if phone else None,
    )
    db.add(person)
    db.flush()
    return person


def add_plan(
    db: Session, *, company: str, code: str, name: str, name_en: str = "", network_id: str | None
) -> GroupPlan:
    c = Company(name=company)
    db.add(c)
    db.flush()
    plan = GroupPlan(company_id=c.id, code=code, name=name, name_en=name_en, network_id=network_id)
    db.add(plan)
    db.flush()
    return plan


def add_policy(
    db: Session,
    vault: Vault,
    *,
    policy_no: str,
    insured: Person,
    main_insured: Person | None = None,
    relation: Relation = Relation.SELF,
    plan: GroupPlan | None = None,
    status: PolicyStatus = PolicyStatus.IN_FORCE,
    start: datetime.date,
    end: datetime.date,
    product_name: str = "团体补充医疗保险",
    product_name_en: str = "Group supplementary medical insurance",
    holder_name: str | None = None,
    high_end: bool = False,
    sum_insured: int = 200_000,
    surrendered_on: datetime.date | None = None,
    benefits: list[dict[str, object]] | None = None,
) -> Policy:
    policy = Policy(
        policy_no=policy_no,
        kind=PolicyKind.GROUP if plan is not None else PolicyKind.INDIVIDUAL,
        product_name=product_name,
        product_name_en=product_name_en,
        plan_id=plan.id if plan else None,
        holder_name_enc=vault.encrypt(holder_name or (plan.company.name if plan else "本人")),
        insured_id=insured.id,
        main_insured_id=main_insured.id if main_insured else None,
        relation=relation,
        status=status,
        start_date=start,
        end_date=end,
        surrendered_on=surrendered_on,
        high_end=high_end,
        sum_insured=sum_insured,
    )
    for i, b in enumerate(benefits or []):
        policy.benefits.append(Benefit(position=i, **b))  # type: ignore[arg-type]
    db.add(policy)
    db.flush()
    return policy
