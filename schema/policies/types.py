"""GraphQL types of policies: the member's own, their dependants', benefits, certificates."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry import relay

from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError
from schema.context import Info
from schema.results import ResultUnion
from server.accounts.errors import DomainError
from server.policies import models
from server.policies.certificate import sign_link

PolicyStatus = strawberry.enum(
    models.PolicyStatus,
    name="PolicyStatus",
    description="IN_FORCE 有效, MATURED 满期, SURRENDERED 退保.",
)
PolicyKind = strawberry.enum(
    models.PolicyKind,
    name="PolicyKind",
    description="GROUP: a group plan's personal certificate (团险个人电子凭证); INDIVIDUAL: an individual policy (个险电子保单).",
)
Relation = strawberry.enum(
    models.Relation,
    name="Relation",
    description="The insured person's relation to the main insured (主被保险人).",
)


@strawberry.enum(description="Format of the electronic certificate.")
class CertificateFormat(enum.Enum):
    HTML = "html"
    PDF = "pdf"


@strawberry.type(description="An insured person, masked (name 张*三, ID 1305**********151X).")
class InsuredPerson:
    name: str = strawberry.field(description="Masked name.")
    id_type: str = strawberry.field(description="Kind of identity document (IdType name).")
    id_number: str = strawberry.field(description="Masked document number.")
    relation: Relation = strawberry.field(description="Relation to the main insured.")  # type: ignore[valid-type]
    is_minor: bool = strawberry.field(
        description="Under 18 today (a main insured may claim for minor dependants only)."
    )
    is_main_insured: bool = strawberry.field(description="This person is the main insured (主被).")


@strawberry.type(description="A line of the benefits page; floating items (浮动项) have details.")
class Benefit:
    name: str = strawberry.field(description="Benefit, Chinese.")
    name_en: str = strawberry.field(description="Benefit, English.")
    limit_yuan: int | None = strawberry.field(description="Annual limit in yuan; null for none.")
    reimbursement_percent: int | None = strawberry.field(description="Share reimbursed, percent.")
    deductible_yuan: int | None = strawberry.field(description="Deductible in yuan.")
    floating: bool = strawberry.field(description="A floating item (浮动项): open `detail`.")
    detail: str = strawberry.field(description="Details of a floating item, Chinese.")
    detail_en: str = strawberry.field(description="Details of a floating item, English.")


@strawberry.type(description="The plan of a group policy.")
class GroupPlan:
    code: str = strawberry.field(description="Plan code.")
    name: str = strawberry.field(description="Plan name, Chinese.")
    name_en: str = strawberry.field(description="Plan name, English.")
    company: str = strawberry.field(description="The employer holding the group policy.")
    network_id: strawberry.ID | None = strawberry.field(
        description="The plan's facility network: pass to `facilities(network:)`."
    )


@strawberry.type(name="Policy", description="One insured person's cover, as a member sees it.")
class PolicyType(relay.Node):
    policy_pk: relay.NodeID[str] = strawberry.field(description="Internal key of the policy.")
    policy_no: str = strawberry.field(description="Policy or certificate number.")
    kind: PolicyKind = strawberry.field(description="Group certificate or individual policy.")  # type: ignore[valid-type]
    product_name: str = strawberry.field(description="Product, Chinese.")
    product_name_en: str = strawberry.field(description="Product, English.")
    holder_name: str = strawberry.field(description="Policyholder (the employer for group plans).")
    status: PolicyStatus = strawberry.field(description="In force, matured or surrendered.")  # type: ignore[valid-type]
    start_date: datetime.date = strawberry.field(description="First day of cover.")
    end_date: datetime.date = strawberry.field(description="Last day of cover.")
    surrendered_on: datetime.date | None = strawberry.field(description="Day of surrender (退保).")
    high_end: bool = strawberry.field(description="A high-end (高端) policy with a benefits page.")
    dependant: bool = strawberry.field(
        description="Tag 连带: a dependant's policy shown to the main insured; false for one's own."
    )
    sum_insured_yuan: int = strawberry.field(description="Sum insured in yuan.")
    insured: InsuredPerson = strawberry.field(description="The person this policy covers.")
    plan: GroupPlan | None = strawberry.field(
        description="The group plan; null for individual policies."
    )
    benefits: list[Benefit] = strawberry.field(
        description="Benefits page of a high-end policy, floating items included; empty otherwise."
    )

    @strawberry.field(
        description="A link to the electronic certificate (电子凭证), valid for 10 minutes while signed in."
    )
    def certificate_url(
        self,
        info: Info,
        format: Annotated[
            CertificateFormat, strawberry.argument(description="HTML (printable) or PDF.")
        ] = CertificateFormat.HTML,
    ) -> str:
        from schema.accounts.auth import current_session, members

        m, _ = members(info)
        session = current_session(info)
        settings = info.context.services.settings
        token = sign_link(settings.secret_key, int(self.policy_pk), session.id, m.accounts.clock())
        return f"{settings.base_url}/certificates/{token}.{format.value}"

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PolicyType | None]:
        from schema.accounts.auth import current_account, members

        # `node(id:)` answers null for anything not the caller's: ids reveal nothing
        m, db = members(info)
        account = current_account(info)
        out: list[PolicyType | None] = []
        for raw in node_ids:
            try:
                person_id = m.identity.require_verified(account)
                p = m.policies.policy(db, person_id, int(raw))
            except (DomainError, ValueError):
                out.append(None)
                continue
            out.append(policy_type(info, p, person_id))
        return out


def policy_type(info: Info, p: models.Policy, viewer_person_id: int) -> PolicyType:
    from schema.accounts.auth import members

    m, _ = members(info)
    today = m.accounts.clock().date()
    person = m.policies.person_view(p.insured, today)
    return PolicyType(
        policy_pk=str(p.id),
        policy_no=p.policy_no,
        kind=p.kind,
        product_name=p.product_name,
        product_name_en=p.product_name_en,
        holder_name=m.policies.holder_name(p),
        status=p.status,
        start_date=p.start_date,
        end_date=p.end_date,
        surrendered_on=p.surrendered_on,
        high_end=p.high_end,
        dependant=m.policies.is_dependant_view(p, viewer_person_id),
        sum_insured_yuan=p.sum_insured,
        insured=InsuredPerson(
            name=person.name_masked,
            id_type=person.id_type,
            id_number=person.id_number_masked,
            relation=p.relation,
            is_minor=person.is_minor,
            is_main_insured=p.main_insured_id is None,
        ),
        plan=None
        if p.plan is None
        else GroupPlan(
            code=p.plan.code,
            name=p.plan.name,
            name_en=p.plan.name_en,
            company=p.plan.company.name,
            network_id=strawberry.ID(p.plan.network_id) if p.plan.network_id else None,
        ),
        benefits=[
            Benefit(
                name=b.name,
                name_en=b.name_en,
                limit_yuan=b.limit_yuan,
                reimbursement_percent=b.reimbursement_pct,
                deductible_yuan=b.deductible_yuan,
                floating=b.floating,
                detail=b.detail,
                detail_en=b.detail_en,
            )
            for b in p.benefits
        ]
        if p.high_end
        else [],
    )


@strawberry.type(description="The member's policies.")
class PolicyList:
    policies: list[PolicyType] = strawberry.field(
        description="Own policies first, then dependants' (tagged `dependant`)."
    )
    total_count: int = strawberry.field(description="How many policies are listed.")


PoliciesResult = ResultUnion(
    "PoliciesResult",
    PolicyList,
    RealNameRequiredError,
    description="The policies, or why they cannot be shown.",
)
PolicyResult = ResultUnion(
    "PolicyResult",
    PolicyType,
    RealNameRequiredError,
    PolicyNotFoundError,
    description="One policy, or why it cannot be shown.",
)
