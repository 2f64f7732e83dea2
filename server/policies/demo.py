"""Demo data for development: fictional people, a company with group plans, policies.

Every person here is invented (names from a textbook list, ID numbers built with a
valid check digit for a made-up serial); none of it is shown outside development.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account, Identity
from server.crypto import Vault
from server.policies.models import Person, PolicyStatus, Relation
from server.policies.records import add_person, add_plan, add_policy, resident_id

DEMO_PASSWORD = "Demo2026!"
# 李娜 verifies herself in the demo: her account's mobile is the one on her record (one step)
COLLEAGUE_ID_NUMBER = resident_id("320102", datetime.date(1990, 1, 20), "024")
NETWORK = "group-comprehensive"  # the curated directory's group-plan network


@dataclass
class DemoPerson:
    key: str
    name: str
    id_number: str
    birth_date: datetime.date
    phone: str | None
    person_id: int = 0


@dataclass
class DemoData:
    people: dict[str, DemoPerson] = field(default_factory=dict)
    policy_ids: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (mobile, password, who)


HIGH_END_BENEFITS: list[dict[str, object]] = [
    {
        "name": "住院医疗",
        "name_en": "Inpatient care",
        "limit_yuan": 1_000_000,
        "reimbursement_pct": 100,
    },
    {
        "name": "门急诊医疗",
        "name_en": "Outpatient and emergency",
        "limit_yuan": 50_000,
        "reimbursement_pct": 90,
        "deductible_yuan": 0,
    },
    {
        "name": "特需部及国际部就诊",
        "name_en": "VIP and international wards",
        "limit_yuan": 30_000,
        "reimbursement_pct": 80,
        "floating": True,
        "detail": "在网络内公立医院特需部、国际部就诊时按 80% 赔付；网络外按 60% 赔付。",
        "detail_en": "80% at VIP/international wards of public hospitals in the network; 60% outside it.",
    },
    {
        "name": "齿科保健",
        "name_en": "Dental care",
        "limit_yuan": 3_000,
        "reimbursement_pct": 100,
        "floating": True,
        "detail": "每年洁牙一次、检查一次，直付齿科机构内免付。",
        "detail_en": "One cleaning and one check-up a year, cashless at direct-billing dental clinics.",
    },
]


def _people(today: datetime.date) -> list[DemoPerson]:
    child_born = datetime.date(today.year - 9, 6, 1)  # a minor whatever the day
    return [
        DemoPerson(
            "main",
            "张伟",
            resident_id("310115", datetime.date(1982, 4, 12), "031"),
            datetime.date(1982, 4, 12),
            "13800000001",
        ),
        DemoPerson(
            "spouse",
            "王芳",
            resident_id("310104", datetime.date(1985, 9, 3), "046"),
            datetime.date(1985, 9, 3),
            "13800000002",
        ),
        DemoPerson("child", "张小明", resident_id("310115", child_born, "051"), child_born, None),
        DemoPerson(
            "colleague",
            "李娜",
            COLLEAGUE_ID_NUMBER,
            datetime.date(1990, 1, 20),
            "13800000003",
        ),
        DemoPerson(
            "staff",
            "赵静",
            resident_id("120104", datetime.date(1978, 11, 5), "062"),
            datetime.date(1978, 11, 5),
            "13800000005",
        ),
        DemoPerson(
            "retired",
            "刘洋",
            resident_id("110105", datetime.date(1960, 7, 8), "017"),
            datetime.date(1960, 7, 8),
            "13800000004",
        ),
    ]


def load_demo(db: Session, vault: Vault, today: datetime.date | None = None) -> DemoData:
    """Writes the demo set once; a second call finds it and returns the same logins."""
    today = today or datetime.date.today()
    data = DemoData()
    people = _people(today)
    existing = db.scalar(
        select(Person).where(Person.id_number_hash == vault.lookup(people[0].id_number, kind="id"))
    )
    if existing is not None:
        data.logins = _logins()
        return data
    by: dict[str, Person] = {}
    for p in people:
        gender = "F" if p.key in ("spouse", "colleague", "staff") else "M"
        by[p.key] = add_person(
            db,
            vault,
            name=p.name,
            id_number=p.id_number,
            birth_date=p.birth_date,
            gender=gender,
            phone=p.phone,
        )
        p.person_id = by[p.key].id
        data.people[p.key] = p
    plan = add_plan(
        db,
        company="上海示例科技有限公司",
        code="DEMO-GP-A",
        name="员工综合医疗计划 A",
        name_en="Staff comprehensive medical plan A",
        network_id=NETWORK,
    )
    # the university staff plan of the claims notice (seed 002): its claim rules are
    # server/claims/plans/university.toml
    university = add_plan(
        db,
        company="南开大学",
        code="NKU-STAFF-2019",
        name="南开大学职工商业医疗保险（二次报销）",
        name_en="University staff commercial medical insurance (secondary reimbursement)",
        network_id=None,
    )
    year_start = today.replace(month=1, day=1)
    year_end = today.replace(month=12, day=31)
    last_year = (year_start.replace(year=today.year - 1), year_end.replace(year=today.year - 1))
    rows = {
        "main": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0001-01",
            insured=by["main"],
            plan=plan,
            start=year_start,
            end=year_end,
        ),
        "spouse": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0001-02",
            insured=by["spouse"],
            main_insured=by["main"],
            relation=Relation.SPOUSE,
            plan=plan,
            start=year_start,
            end=year_end,
        ),
        "child": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0001-03",
            insured=by["child"],
            main_insured=by["main"],
            relation=Relation.CHILD,
            plan=plan,
            start=year_start,
            end=year_end,
        ),
        "main_matured": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0000-01",
            insured=by["main"],
            plan=plan,
            status=PolicyStatus.MATURED,
            start=last_year[0],
            end=last_year[1],
        ),
        "main_high_end": add_policy(
            db,
            vault,
            policy_no="DEMO-I-8001",
            insured=by["main"],
            product_name="高端医疗保险",
            product_name_en="High-end medical insurance",
            holder_name="张伟",
            high_end=True,
            sum_insured=2_000_000,
            start=year_start,
            end=year_end,
            benefits=HIGH_END_BENEFITS,
        ),
        "main_surrendered": add_policy(
            db,
            vault,
            policy_no="DEMO-I-7001",
            insured=by["main"],
            product_name="个人住院医疗保险",
            product_name_en="Personal inpatient insurance",
            holder_name="张伟",
            status=PolicyStatus.SURRENDERED,
            start=last_year[0],
            end=year_end,
            surrendered_on=today.replace(month=1, day=1) if today.month > 1 else today,
        ),
        "colleague": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0002-01",
            insured=by["colleague"],
            plan=plan,
            start=year_start,
            end=year_end,
        ),
        "staff": add_policy(
            db,
            vault,
            policy_no="DEMO-G-0301-01",
            insured=by["staff"],
            plan=university,
            product_name="职工商业医疗保险（二次报销）",
            product_name_en="Staff commercial medical insurance (secondary reimbursement)",
            holder_name="南开大学",
            start=year_start,
            end=year_end,
        ),
        "retired_matured": add_policy(
            db,
            vault,
            policy_no="DEMO-I-6001",
            insured=by["retired"],
            product_name="个人住院医疗保险",
            holder_name="刘洋",
            status=PolicyStatus.MATURED,
            start=last_year[0],
            end=last_year[1],
        ),
    }
    data.policy_ids = {k: v.id for k, v in rows.items()}
    # demo accounts: the main insured is verified already, the colleague still has to verify
    hasher = PasswordHasher()
    for key, verified in (("main", True), ("colleague", False), ("staff", True)):
        p = data.people[key]
        assert p.phone is not None
        account = Account(
            phone_hash=vault.lookup(p.phone, kind="phone"),
            phone_enc=vault.encrypt(p.phone),
            password_hash=hasher.hash(DEMO_PASSWORD),
            terms_accepted_at=datetime.datetime.now(datetime.UTC),
            person_id=p.person_id if verified else None,
        )
        db.add(account)
        db.flush()
        if verified:
            db.add(
                Identity(
                    account_id=account.id,
                    id_type=by[key].id_type,
                    name_enc=vault.encrypt(p.name),
                    id_number_enc=vault.encrypt(p.id_number),
                    id_number_hash=vault.lookup(p.id_number, kind="id"),
                    valid_from=datetime.date(2015, 1, 1),
                    valid_to=None,
                )
            )
    db.flush()
    data.logins = _logins()
    return data


def _logins() -> list[tuple[str, str, str]]:
    return [
        (
            "13800000001",
            DEMO_PASSWORD,
            "张伟: main insured, verified; spouse and minor child as dependants, high-end, matured and surrendered policies",
        ),
        (
            "13800000003",
            DEMO_PASSWORD,
            f"李娜: group member, not yet verified (verify as 李娜, RESIDENT_ID {COLLEAGUE_ID_NUMBER}; this mobile is on her policy record, so it takes one step)",
        ),
        (
            "13800000005",
            DEMO_PASSWORD,
            "赵静: verified, on the university staff plan (its own claim types and bands)",
        ),
    ]
