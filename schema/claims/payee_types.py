"""GraphQL types of the member's payees (收款人), the banks and the administrative divisions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import strawberry
from strawberry import relay

from schema.accounts.errors import RealNameRequiredError
from schema.accounts.inputs import IdType
from schema.claims.auth import claim_env
from schema.context import Info
from schema.policies.types import Relation
from schema.results import ResultUnion
from server.claims import banks, payees
from server.divisions import divisions
from server.errors import DomainError


@strawberry.type(
    name="Payee",
    description="A bank account claims can be paid to (收款人), masked. Those a claim "
    "captured inline (the applicant's own) carry only bank and account.",
)
class PayeeNode(relay.Node):
    payee_pk: relay.NodeID[str] = strawberry.field(description="Internal key of the payee.")
    relationship: Relation = strawberry.field(  # type: ignore[valid-type]
        description="收款人关系: the holder's relation to the member (SELF for their own)."
    )
    holder_name: str = strawberry.field(description="户名, masked (王*).")
    id_type: IdType | None = strawberry.field(  # type: ignore[valid-type]
        description="收款人证件类型; null on an account a claim captured inline."
    )
    id_number: str | None = strawberry.field(description="收款人证件号, masked.")
    province: str | None = strawberry.field(description="银行所在地: province name.")
    city: str | None = strawberry.field(description="银行所在地: city name.")
    bank_code: str | None = strawberry.field(
        description="The bank's CNAPS code (`payeeBanks`); null on an inline account."
    )
    bank_name: str = strawberry.field(description="银行名称.")
    account_no: str = strawberry.field(description="账号: only the last 4 digits (****6789).")
    insurance_no: str | None = strawberry.field(description="社保/医保号, masked.")
    created_at: datetime.datetime = strawberry.field(description="When it was first saved.")
    updated_at: datetime.datetime | None = strawberry.field(description="Last change.")

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PayeeNode | None]:
        # `node(id:)` answers null for anything not the caller's
        cx, db, account = claim_env(info)
        out: list[PayeeNode | None] = []
        for raw in node_ids:
            try:
                out.append(payee_node(payees.view(cx, payees.own_payee(db, account, int(raw)))))
            except (DomainError, ValueError):
                out.append(None)
        return out


def payee_node(v: payees.PayeeView) -> PayeeNode:
    return PayeeNode(
        payee_pk=str(v.id),
        relationship=v.relationship,
        holder_name=v.holder_masked,
        id_type=v.id_type,
        id_number=v.id_number_masked,
        province=v.province,
        city=v.city,
        bank_code=v.bank_code,
        bank_name=v.bank_name,
        account_no=v.account_masked,
        insurance_no=v.insurance_no_masked,
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


@strawberry.type(description="The member's payees, oldest first (at most 20 saved).")
class PayeeList:
    payees: list[PayeeNode] = strawberry.field(description="Not removed ones only.")


PayeesResult = ResultUnion(
    "PayeesResult",
    PayeeList,
    RealNameRequiredError,
    description="The payees, or why they cannot be shown.",
)


def payee_list(info: Info) -> PayeeList:
    cx, db, account = claim_env(info)
    return PayeeList(payees=[payee_node(v) for v in payees.list_payees(db, cx, account)])


@strawberry.type(
    description="A bank claims can be paid to, with its CNAPS code (行别代码). The list holds "
    "the national and joint-stock banks, 上海银行, 上海农商银行, the rural credit cooperatives "
    "and 邮储银行; city and rural commercial banks are not on it yet (UNKNOWN_BANK says so)."
)
class PayeeBank:
    code: str = strawberry.field(description="3-digit CNAPS bank category code.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str = strawberry.field(description="English name.")
    check_digit: bool = strawberry.field(
        description="Account numbers end with a Luhn check digit (cards); else only 16-19 digits."
    )


def bank_list() -> list[PayeeBank]:
    return [
        PayeeBank(code=b.code, name=b.name, name_en=b.name_en, check_digit=b.luhn)
        for b in banks.banks().values()
    ]


@strawberry.type(description="A mainland administrative division (province, city or district).")
class AdministrativeDivision:
    code: str = strawberry.field(description="12-digit division code.")
    name: str = strawberry.field(description="Chinese name.")
    level: str = strawberry.field(description="province, city or district.")


def division_list(parent_code: str | None) -> list[AdministrativeDivision]:
    return [
        AdministrativeDivision(code=d.code, name=d.name, level=d.level.value)
        for d in divisions().children(parent_code)
    ]
