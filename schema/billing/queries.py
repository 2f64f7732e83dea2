"""Direct-billing reads: the services list, the booking's choices, the member's
appointments, and the coordinator's queue."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_session
from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError
from schema.billing.auth import (
    appointment_pk,
    billing_env,
    current_coordinator,
    directory,
    policy_pk,
)
from schema.billing.errors import (
    AppointmentNotFoundError,
    AppointmentRuleError,
    HighEndRequiredError,
)
from schema.billing.inputs import CoordinatorQueueFilter
from schema.billing.types import (
    AdvancePaymentNode,
    AdvanceStatus,
    AppointmentConnection,
    AppointmentNode,
    CardReissueNode,
    DirectBillingCard,
    DirectBillingFacility,
    DirectBillingPolicy,
    DirectBillingService,
    FacilityNature,
    LiabilityType,
    ReissueStatus,
    advance_node,
    appointment_node,
    facility_type,
    policy_type,
    queue_connection,
    reissue_node,
    service_type,
)
from schema.context import Info
from schema.paging import cursor_offset
from schema.results import ResultUnion
from server.billing import advance, desk, ecard, reissue, services
from server.billing import appointments as booking
from server.billing import models as m
from server.workdays import china_date


@strawberry.type(description="The policies a direct-billing appointment can be booked under.")
class DirectBillingPolicies:
    policies: list[DirectBillingPolicy] = strawberry.field(
        description="The member's and their dependants' high-end policies in force."
    )


DirectBillingPoliciesResult = ResultUnion(
    "DirectBillingPoliciesResult",
    DirectBillingPolicies,
    HighEndRequiredError,
    RealNameRequiredError,
    description="Result of directBillingPolicies.",
)


@strawberry.type(description="The facilities the booking's facility step offers.")
class DirectBillingFacilities:
    facilities: list[DirectBillingFacility] = strawberry.field(
        description="Direct-billing facilities of the policy's network, by the choices given."
    )


DirectBillingFacilitiesResult = ResultUnion(
    "DirectBillingFacilitiesResult",
    DirectBillingFacilities,
    HighEndRequiredError,
    RealNameRequiredError,
    PolicyNotFoundError,
    AppointmentRuleError,
    description="Result of directBillingFacilities.",
)


@strawberry.type(description="直付就诊预约进度: the member's appointments, newest first.")
class Appointments:
    appointments: list[AppointmentNode] = strawberry.field(description="Newest first.")


AppointmentsResult = ResultUnion(
    "AppointmentsResult",
    Appointments,
    RealNameRequiredError,
    description="Result of appointments.",
)

AppointmentResult = ResultUnion(
    "AppointmentResult",
    AppointmentNode,
    AppointmentNotFoundError,
    RealNameRequiredError,
    description="Result of appointment.",
)


DirectBillingCardResult = ResultUnion(
    "DirectBillingCardResult",
    DirectBillingCard,
    HighEndRequiredError,
    RealNameRequiredError,
    PolicyNotFoundError,
    AppointmentRuleError,
    description="Result of directBillingCard.",
)


@strawberry.type(description="申请补卡 progress: the member's card reissues, newest first.")
class CardReissues:
    reissues: list[CardReissueNode] = strawberry.field(description="Newest first.")


CardReissuesResult = ResultUnion(
    "CardReissuesResult",
    CardReissues,
    RealNameRequiredError,
    description="Result of cardReissues.",
)


@strawberry.type(description="住院垫付 progress: the member's requests, newest first.")
class AdvancePayments:
    advance_payments: list[AdvancePaymentNode] = strawberry.field(description="Newest first.")


AdvancePaymentsResult = ResultUnion(
    "AdvancePaymentsResult",
    AdvancePayments,
    RealNameRequiredError,
    description="Result of advancePayments.",
)


@strawberry.type
class BillingQuery:
    @strawberry.field(
        description="直付服务 and 健康医疗服务: which services the signed-in member may use and why "
        "not (HIGH_END_REQUIRED with the booking line), and the internet-outpatient link-out."
    )
    def direct_billing_services(self, info: Info) -> list[DirectBillingService]:
        cx, db, account = billing_env(info)
        entries = services.service_list(
            db,
            account,
            china_date(cx.now()),
            internet_outpatient_url=cx.settings.internet_outpatient_url,
        )
        return [service_type(e) for e in entries]

    @strawberry.field(
        description="Booking steps 1-3: the insured people and policies that support direct "
        "billing, with the applicant prefilled (masked). High-end policies only."
    )
    @DirectBillingPoliciesResult.resolver
    def direct_billing_policies(self, info: Info) -> DirectBillingPolicies:
        cx, db, account = billing_env(info)
        today = china_date(cx.now())
        rows = booking.direct_billing_policies(db, account, today)
        if not rows:
            raise booking.high_end_required()
        return DirectBillingPolicies(policies=[policy_type(cx, account, p, today) for p in rows])

    @strawberry.field(
        description="Booking step 4: the direct-billing facilities of the policy's network, "
        "filtered by liability type, province, city and nature."
    )
    @DirectBillingFacilitiesResult.resolver
    def direct_billing_facilities(
        self,
        info: Info,
        policy_id: Annotated[strawberry.ID, strawberry.argument(description="The policy.")],
        liability_type: Annotated[
            LiabilityType | None, strawberry.argument(description="责任类型.")
        ] = None,
        province: Annotated[str | None, strawberry.argument(description="所在省.")] = None,
        city: Annotated[str | None, strawberry.argument(description="所在市.")] = None,
        nature: Annotated[
            FacilityNature | None, strawberry.argument(description="医院性质.")
        ] = None,
    ) -> DirectBillingFacilities:
        cx, db, account = billing_env(info)
        policy = booking.own_policy(db, account, policy_pk(policy_id), china_date(cx.now()))
        d = directory(info)
        rows = booking.facilities(
            d,
            policy,
            liability=m.Liability(liability_type.value) if liability_type else None,
            province=province,
            city=city,
            nature=m.FacilityNature(nature.value) if nature else None,
        )
        return DirectBillingFacilities(facilities=[facility_type(d, f) for f in rows])

    @strawberry.field(
        description="电子直付卡 of a high-end policy (own or a dependant's), with its page link."
    )
    @DirectBillingCardResult.resolver
    def direct_billing_card(
        self,
        info: Info,
        policy_id: Annotated[strawberry.ID, strawberry.argument(description="The policy.")],
    ) -> DirectBillingCard:
        cx, db, account = billing_env(info)
        now = cx.now()
        pk = policy_pk(policy_id)
        c = ecard.card(
            db,
            cx.vault,
            directory(info),
            account,
            pk,
            china_date(now),
            payment_note=cx.settings.ecard_payment_note,
        )
        token = ecard.sign_link(cx.settings.secret_key, pk, current_session(info).id, now)
        return DirectBillingCard(
            member_name_masked=c.member_name_masked,
            id_number_masked=c.id_number_masked,
            card_number=c.card_number,
            card_number_note=c.card_number_note,
            card_number_note_en=c.card_number_note_en,
            plan=c.product_name,
            plan_en=c.product_name_en,
            valid_from=c.valid_from,
            valid_to=c.valid_to,
            network=c.network_name,
            network_en=c.network_name_en,
            booking_line=c.booking_line,
            show_at_hospital=c.show_at_hospital,
            show_at_hospital_en=c.show_at_hospital_en,
            payment_note=c.payment_note,
            payment_note_en=c.payment_note_en,
            page_url=f"{cx.settings.base_url}/h5/e-card/{token}",
        )

    @strawberry.field(description="直付就诊预约进度: the member's appointments and dependants'.")
    @AppointmentsResult.resolver
    def appointments(self, info: Info) -> Appointments:
        cx, db, account = billing_env(info)
        rows = booking.appointments(db, account)
        return Appointments(appointments=[appointment_node(db, cx, a) for a in rows])

    @strawberry.field(description="One appointment in full, with its timeline.")
    @AppointmentResult.resolver
    def appointment(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id.")],
    ) -> AppointmentNode:
        cx, db, account = billing_env(info)
        return appointment_node(db, cx, booking.appointment(db, account, appointment_pk(id)))

    @strawberry.field(
        description="The coordinator desk: appointments waiting, oldest request first, by "
        "facility and day. Coordinators only."
    )
    def coordinator_queue(
        self,
        info: Info,
        filter: Annotated[
            CoordinatorQueueFilter | None, strawberry.argument(description="Narrow the queue.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Continue after this cursor.")
        ] = None,
    ) -> AppointmentConnection:
        cx, db, _ = current_coordinator(info)
        f = filter or CoordinatorQueueFilter()
        offset = cursor_offset(after)
        page = desk.queue(
            db,
            desk.QueueFilter(
                statuses=tuple(m.AppointmentStatus(s.value) for s in f.statuses or ()),
                facility_id=f.facility_id,
                visit_date=f.visit_date,
            ),
            offset=offset,
            limit=first,
        )
        return queue_connection(db, cx, page, offset)

    @strawberry.field(description="申请补卡 progress: the member's card reissues.")
    @CardReissuesResult.resolver
    def card_reissues(self, info: Info) -> CardReissues:
        cx, db, account = billing_env(info)
        return CardReissues(
            reissues=[reissue_node(db, cx, r) for r in reissue.reissues(db, account)]
        )

    @strawberry.field(
        description="The coordinator desk's card reissues of one status, oldest first "
        "(at most 100). Coordinators only."
    )
    def coordinator_card_reissues(
        self,
        info: Info,
        status: Annotated[
            ReissueStatus, strawberry.argument(description="Default SUBMITTED.")
        ] = ReissueStatus.SUBMITTED,
    ) -> list[CardReissueNode]:
        cx, db, _ = current_coordinator(info)
        rows = reissue.desk_list(db, m.ReissueStatus(status.value))
        return [reissue_node(db, cx, r) for r in rows]

    @strawberry.field(description="住院垫付 progress: the member's requests and dependants'.")
    @AdvancePaymentsResult.resolver
    def advance_payments(self, info: Info) -> AdvancePayments:
        cx, db, account = billing_env(info)
        rows = advance.requests(db, account)
        return AdvancePayments(advance_payments=[advance_node(db, cx, a) for a in rows])

    @strawberry.field(
        description="The coordinator desk's advance payment requests of one status, oldest "
        "first (at most 100). Coordinators only."
    )
    def coordinator_advance_payments(
        self,
        info: Info,
        status: Annotated[
            AdvanceStatus, strawberry.argument(description="Default SUBMITTED.")
        ] = AdvanceStatus.SUBMITTED,
    ) -> list[AdvancePaymentNode]:
        cx, db, _ = current_coordinator(info)
        rows = advance.desk_list(db, m.AdvanceStatus(status.value))
        return [advance_node(db, cx, a) for a in rows]
