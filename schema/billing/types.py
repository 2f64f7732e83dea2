"""Direct-billing types: the services list, the booking steps' choices, appointments."""

from __future__ import annotations

import datetime
from enum import Enum

import strawberry
from sqlalchemy.orm import Session

from schema.context import Info
from schema.paging import PageInfo, offset_cursor
from schema.service_supplements.types import DocumentRequestType, document_requests
from server.accounts.models import Account
from server.billing import advance
from server.billing import appointments as booking
from server.billing.desk import QueuePage
from server.billing.models import AdvancePayment, Appointment, CardReissue
from server.billing.services import ServiceEntry
from server.claims.core import ClaimContext
from server.crypto import mask_id, mask_name, mask_phone
from server.directory.directory import Directory
from server.directory.models import Facility
from server.divisions import divisions, normalise
from server.ids import global_id
from server.policies.models import Person, Policy
from server.workdays import china_date


@strawberry.enum(description="A service of the direct-billing and health services list.")
class DirectBillingServiceCode(Enum):
    APPOINTMENT = "APPOINTMENT"
    APPOINTMENT_PROGRESS = "APPOINTMENT_PROGRESS"
    INTERNET_OUTPATIENT = "INTERNET_OUTPATIENT"
    E_CARD = "E_CARD"
    CARD_REISSUE = "CARD_REISSUE"
    ADVANCE_PAYMENT = "ADVANCE_PAYMENT"


@strawberry.enum(description="直付就诊预约 status.")
class AppointmentStatus(Enum):
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    TIME_PROPOSED = "time_proposed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


@strawberry.enum(description="责任类型: what the visit is for, as the policy's benefits list.")
class LiabilityType(Enum):
    OUTPATIENT = "outpatient"
    INPATIENT = "inpatient"
    DENTAL = "dental"


@strawberry.enum(
    description="医院性质: PUBLIC (a public hospital's special-needs or international "
    "department) or PRIVATE."
)
class FacilityNature(Enum):
    PUBLIC = "public"
    PRIVATE = "private"


@strawberry.enum(description="就诊时间 asked for: morning or afternoon.")
class VisitTime(Enum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


@strawberry.enum(description="医生级别.")
class DoctorLevel(Enum):
    CHIEF = "chief"
    ASSOCIATE_CHIEF = "associate_chief"
    ATTENDING = "attending"
    RESIDENT = "resident"


@strawberry.type(description="One entry of the services list and whether the member may use it.")
class DirectBillingService:
    code: DirectBillingServiceCode = strawberry.field(description="Which service.")
    available: bool = strawberry.field(description="The signed-in member may use it.")
    reason_code: str | None = strawberry.field(
        description="Why not: HIGH_END_REQUIRED or REAL_NAME_REQUIRED; null when available."
    )
    offline_route: str | None = strawberry.field(
        description="What to do instead: the booking line 1010-8686; null when available."
    )
    link: str | None = strawberry.field(description="The third party's page to open (link out).")
    provider_name: str | None = strawberry.field(description="The third party, e.g. 微医.")
    provider_name_en: str | None = strawberry.field(description="The third party in English.")


def service_type(e: ServiceEntry) -> DirectBillingService:
    return DirectBillingService(
        code=DirectBillingServiceCode(e.code),
        available=e.available,
        reason_code=e.reason_code,
        offline_route=e.offline_route,
        link=e.link,
        provider_name=e.provider_zh,
        provider_name_en=e.provider_en,
    )


@strawberry.type(description="The applicant's details, prefilled from the record and masked.")
class AppointmentApplicant:
    name_masked: str = strawberry.field(description="姓名, masked.")
    id_number_masked: str = strawberry.field(description="证件号码, masked.")
    mobile_masked: str = strawberry.field(description="手机号, masked.")


@strawberry.type(
    description="A policy that supports direct billing, for the booking's first steps."
)
class DirectBillingPolicy:
    id: strawberry.ID = strawberry.field(description="Global id of the policy (policyId).")
    policy_no: str = strawberry.field(description="Policy number.")
    product_name: str = strawberry.field(description="Product name.")
    product_name_en: str = strawberry.field(description="Product name in English.")
    insured_name_masked: str = strawberry.field(description="The insured person, masked.")
    is_dependant: bool = strawberry.field(description="连带: a dependant's policy.")
    cover_from: datetime.date = strawberry.field(description="Cover starts.")
    cover_to: datetime.date = strawberry.field(description="Cover ends.")
    liability_types: list[LiabilityType] = strawberry.field(
        description="What can be booked under it (its benefits list)."
    )
    earliest_visit_date: datetime.date = strawberry.field(
        description="2 working days ahead on the mainland calendar."
    )
    applicant: AppointmentApplicant = strawberry.field(description="Prefilled applicant.")


def policy_type(
    cx: ClaimContext, account: Account, policy: Policy, today: datetime.date
) -> DirectBillingPolicy:
    v = cx.vault
    me = account.person
    assert me is not None
    return DirectBillingPolicy(
        id=strawberry.ID(global_id("Policy", policy.id)),
        policy_no=policy.policy_no,
        product_name=policy.product_name,
        product_name_en=policy.product_name_en,
        insured_name_masked=mask_name(v.decrypt(policy.insured.name_enc)),
        is_dependant=policy.insured_id != account.person_id,
        cover_from=policy.start_date,
        cover_to=policy.end_date,
        liability_types=[LiabilityType(x.value) for x in booking.liabilities(policy)],
        earliest_visit_date=booking.earliest_visit_date(today),
        applicant=AppointmentApplicant(
            name_masked=mask_name(v.decrypt(me.name_enc)),
            id_number_masked=mask_id(v.decrypt(me.id_number_enc)),
            mobile_masked=mask_phone(v.decrypt(account.phone_enc)),
        ),
    )


@strawberry.type(description="A department of a facility.")
class DirectBillingDepartment:
    zh: str = strawberry.field(description="Chinese name (send this or `en` as department).")
    en: str = strawberry.field(description="English name.")


@strawberry.type(description="A direct-billing facility the booking may choose (by id).")
class DirectBillingFacility:
    id: str = strawberry.field(description="The directory's facility id (facilityId).")
    name_zh: str = strawberry.field(description="Name in Chinese.")
    name_en: str = strawberry.field(description="Name in English.")
    province: str = strawberry.field(description="Province.")
    city: str = strawberry.field(description="City.")
    district: str = strawberry.field(description="District.")
    nature: FacilityNature | None = strawberry.field(description="Public or private.")
    departments: list[DirectBillingDepartment] = strawberry.field(
        description="Its departments (empty: the list names none; any department is asked for)."
    )


def facility_type(directory: Directory, f: Facility) -> DirectBillingFacility:
    nature = booking._nature(f)
    return DirectBillingFacility(
        id=f.id,
        name_zh=f.name_zh,
        name_en=f.name_en,
        province=booking.province_of(directory, f),
        city=f.city,
        district=f.district,
        nature=FacilityNature(nature.value) if nature else None,
        departments=[DirectBillingDepartment(zh=d.zh, en=d.en) for d in f.departments],
    )


@strawberry.type(description="One line of an appointment's timeline.")
class AppointmentEvent:
    kind: str = strawberry.field(
        description="submitted, confirmed, time_proposed, proposal_accepted, "
        "proposal_declined, declined, cancelled, attended or no_show."
    )
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    actor: str = strawberry.field(description="member or coordinator.")
    status_to: str = strawberry.field(description="The status after it (lower case).")
    note: str = strawberry.field(description="A reason or note, when one was given.")


@strawberry.type(
    name="Appointment",
    description="直付就诊预约: the fields of the progress detail (date, status, type, "
    "applicant, patient, result, hospital, department, doctor, time) and its timeline.",
)
class AppointmentNode:
    id: strawberry.ID = strawberry.field(description="Global id.")
    status: AppointmentStatus = strawberry.field(description="Where it stands.")
    submitted_at: datetime.datetime = strawberry.field(description="Submission time (UTC).")
    visit_date: datetime.date = strawberry.field(description="就诊日期.")
    visit_time: VisitTime = strawberry.field(description="就诊时间 asked for.")
    confirmed_time: str | None = strawberry.field(
        description="The time the hospital confirmed (HH:MM, China time)."
    )
    liability_type: LiabilityType = strawberry.field(description="责任类型.")
    province: str = strawberry.field(description="Province.")
    city: str = strawberry.field(description="City.")
    facility_nature: FacilityNature = strawberry.field(description="医院性质.")
    facility_id: str = strawberry.field(description="The directory's facility id.")
    hospital: str = strawberry.field(description="就诊医院.")
    department: str = strawberry.field(description="就诊科室.")
    description: str = strawberry.field(description="就诊描述, as the member wrote it.")
    department_type: str | None = strawberry.field(description="科室类别.")
    doctor_name: str | None = strawberry.field(description="医生姓名 asked for.")
    doctor_level: DoctorLevel | None = strawberry.field(description="医生级别 asked for.")
    doctor: str | None = strawberry.field(description="The doctor confirmed (or asked for).")
    applicant: AppointmentApplicant = strawberry.field(description="申请人, masked.")
    patient_name_masked: str = strawberry.field(description="就诊人, masked.")
    result: str = strawberry.field(description="预约结果, in a few words (Chinese).")
    proposed_date: datetime.date | None = strawberry.field(
        description="The day the hospital proposed (TIME_PROPOSED)."
    )
    proposed_time: str | None = strawberry.field(description="The time proposed (HH:MM).")
    reason: str | None = strawberry.field(description="Why declined, or the proposal's note.")
    can_cancel: bool = strawberry.field(description="Open, and before the day of the visit.")
    timeline: list[AppointmentEvent] = strawberry.field(description="What happened, oldest first.")


_RESULT = {
    "submitted": "待确认",
    "confirmed": "预约成功",
    "time_proposed": "医院建议另约时间",
    "declined": "预约失败",
    "cancelled": "已取消",
    "attended": "已就诊",
    "no_show": "未就诊",
}


def appointment_node(db: Session, cx: ClaimContext, a: Appointment) -> AppointmentNode:
    v = cx.vault
    patient = db.get(Person, a.patient_id)
    open_ = a.status in ("submitted", "confirmed", "time_proposed")
    proposed = a.status == "time_proposed"
    return AppointmentNode(
        id=strawberry.ID(global_id("Appointment", a.id)),
        status=AppointmentStatus(a.status),
        submitted_at=a.created_at,
        visit_date=a.visit_date,
        visit_time=VisitTime(a.visit_time),
        confirmed_time=a.confirmed_time or None,
        liability_type=LiabilityType(a.liability),
        province=a.province,
        city=a.city,
        facility_nature=FacilityNature(a.facility_nature),
        facility_id=a.facility_id,
        hospital=a.facility_name,
        department=a.department,
        description=v.decrypt(a.description_enc),
        department_type=a.department_type or None,
        doctor_name=a.doctor_name or None,
        doctor_level=DoctorLevel(a.doctor_level) if a.doctor_level else None,
        doctor=(a.confirmed_doctor or a.doctor_name) or None,
        applicant=AppointmentApplicant(
            name_masked=mask_name(v.decrypt(a.applicant_name_enc)),
            id_number_masked=mask_id(v.decrypt(a.applicant_id_number_enc)),
            mobile_masked=mask_phone(v.decrypt(a.applicant_mobile_enc)),
        ),
        patient_name_masked=mask_name(v.decrypt(patient.name_enc)) if patient else "",
        result=_RESULT[a.status],
        proposed_date=a.proposed_date if proposed else None,
        proposed_time=(a.proposed_time or None) if proposed else None,
        reason=a.decision_reason or None,
        can_cancel=open_ and china_date(cx.now()) < a.visit_date,
        timeline=[
            AppointmentEvent(
                kind=e.kind,
                at=e.at,
                actor=e.actor,
                status_to=e.status_to,
                note=e.note,
            )
            for e in a.events
        ],
    )


@strawberry.type(description="One row of the coordinator's queue.")
class AppointmentEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this row.")
    node: AppointmentNode = strawberry.field(description="The appointment.")


@strawberry.type(description="A page of the coordinator's queue, oldest request first.")
class AppointmentConnection:
    edges: list[AppointmentEdge] = strawberry.field(description="The rows of this page.")
    page_info: PageInfo = strawberry.field(description="Paging state.")
    total_count: int = strawberry.field(description="How many match, over all pages.")


def queue_connection(
    db: Session, cx: ClaimContext, page: QueuePage, offset: int
) -> AppointmentConnection:
    edges = [
        AppointmentEdge(cursor=offset_cursor(offset + i), node=appointment_node(db, cx, a))
        for i, a in enumerate(page.items)
    ]
    return AppointmentConnection(
        edges=edges,
        page_info=PageInfo.of(edges, has_next=page.has_next),
        total_count=page.total,
    )


@strawberry.type(
    description="电子直付卡: the card's front and back as data, and the H5 page that shows it "
    "(tap to flip). Personal data masked."
)
class DirectBillingCard:
    member_name_masked: str = strawberry.field(description="The insured person, masked.")
    id_number_masked: str = strawberry.field(description="Their ID number, masked.")
    card_number: str = strawberry.field(description="The card number.")
    card_number_note: str = strawberry.field(
        description="Where the card number comes from (today: formed from the policy number, "
        "which may differ from the printed card's); show it beside the number."
    )
    card_number_note_en: str = strawberry.field(description="The note in English.")
    plan: str = strawberry.field(description="The plan (product) name.")
    plan_en: str = strawberry.field(description="The plan name in English.")
    valid_from: datetime.date = strawberry.field(description="Valid from.")
    valid_to: datetime.date = strawberry.field(description="Valid to.")
    network: str = strawberry.field(description="The direct-billing network.")
    network_en: str = strawberry.field(description="The network in English.")
    booking_line: str = strawberry.field(description="The booking line, 1010-8686.")
    show_at_hospital: str = strawberry.field(description="What to show at the hospital.")
    show_at_hospital_en: str = strawberry.field(description="The same in English.")
    payment_note: str | None = strawberry.field(
        description="While e-card payment is not accepted: show the physical card."
    )
    payment_note_en: str | None = strawberry.field(description="The note in English.")
    page_url: str = strawberry.field(
        description="The card page (front and back); a signed link valid for 10 minutes and "
        "while this sign-in lasts."
    )


@strawberry.enum(description="补卡原因.")
class ReissueReason(Enum):
    LOST = "lost"
    DAMAGED = "damaged"
    OTHER = "other"


@strawberry.enum(description="Where a card reissue stands.")
class ReissueStatus(Enum):
    SUBMITTED = "submitted"
    POSTED = "posted"
    DELIVERED = "delivered"


@strawberry.type(name="CardReissue", description="申请补卡: a new physical card on its way.")
class CardReissueNode:
    id: strawberry.ID = strawberry.field(description="Global id.")
    status: ReissueStatus = strawberry.field(description="submitted, posted or delivered.")
    policy_no: str = strawberry.field(description="The card's policy.")
    mobile_masked: str = strawberry.field(description="手机号, masked.")
    province: str = strawberry.field(description="Province.")
    city: str = strawberry.field(description="City.")
    district: str = strawberry.field(description="District.")
    street_masked: str = strawberry.field(description="Street address, masked.")
    postcode: str = strawberry.field(description="邮编.")
    reason: ReissueReason = strawberry.field(description="补卡原因.")
    reason_text: str | None = strawberry.field(description="The member's words (OTHER).")
    tracking_no: str | None = strawberry.field(description="Once posted: the tracking number.")
    submitted_at: datetime.datetime = strawberry.field(description="Submitted (UTC).")
    posted_at: datetime.datetime | None = strawberry.field(description="Posted (UTC).")
    delivered_at: datetime.datetime | None = strawberry.field(description="Delivered (UTC).")


def _street(text: str) -> str:
    return text[:3] + "*" * max(len(text) - 3, 3)


def reissue_node(db: Session, cx: ClaimContext, r: CardReissue) -> CardReissueNode:
    def name(code: str) -> str:
        d = divisions().get(normalise(code))
        return d.name if d else code

    policy = db.get(Policy, r.policy_id)
    return CardReissueNode(
        id=strawberry.ID(global_id("CardReissue", r.id)),
        status=ReissueStatus(r.status),
        policy_no=policy.policy_no if policy else "",
        mobile_masked=mask_phone(cx.vault.decrypt(r.mobile_enc)),
        province=name(r.province_code),
        city=name(r.city_code),
        district=name(r.district_code),
        street_masked=_street(cx.vault.decrypt(r.street_enc)),
        postcode=r.postcode,
        reason=ReissueReason(r.reason),
        reason_text=r.reason_text or None,
        tracking_no=r.tracking_no or None,
        submitted_at=r.created_at,
        posted_at=r.posted_at,
        delivered_at=r.delivered_at,
    )


@strawberry.enum(description="Where an advance payment request stands.")
class AdvanceStatus(Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DECLINED = "declined"
    DOCUMENTS_ASKED = "documents_asked"


@strawberry.type(name="AdvancePayment", description="住院垫付: a request and its timeline.")
class AdvancePaymentNode:
    id: strawberry.ID = strawberry.field(description="Global id.")
    status: AdvanceStatus = strawberry.field(
        description="submitted, documents asked (待补充资料), approved or declined."
    )
    policy_no: str = strawberry.field(description="The policy.")
    facility_id: str | None = strawberry.field(description="The directory's id; null: typed.")
    hospital: str = strawberry.field(description="The hospital.")
    admission_date: datetime.date = strawberry.field(description="入院日期.")
    description: str = strawberry.field(description="The member's description.")
    applicant_name_masked: str = strawberry.field(description="申请人, masked.")
    applicant_sex: str = strawberry.field(description="M or F.")
    applicant_id_number_masked: str = strawberry.field(description="证件号码, masked.")
    applicant_mobile_masked: str = strawberry.field(description="手机号, masked.")
    patient_name_masked: str = strawberry.field(description="The insured person, masked.")
    approved_amount: str | None = strawberry.field(description="Approved, in yuan (e.g. 20000.00).")
    pay_to: str | None = strawberry.field(description="The hospital to be paid.")
    reason: str | None = strawberry.field(description="Why declined.")
    submitted_at: datetime.datetime = strawberry.field(description="Submitted (UTC).")
    timeline: list[AppointmentEvent] = strawberry.field(description="What happened, oldest first.")
    row_id: strawberry.Private[int]

    @strawberry.field(description="Documents the desk asked for, oldest first.")
    def document_requests(self, info: Info) -> list[DocumentRequestType]:
        db = info.context.db
        subject = advance.KIND.load(db, self.row_id) if db is not None else None
        if subject is None:
            return []
        return document_requests(info, advance.KIND, subject, self.row_id)


def advance_node(db: Session, cx: ClaimContext, a: AdvancePayment) -> AdvancePaymentNode:
    v = cx.vault
    policy = db.get(Policy, a.policy_id)
    patient = db.get(Person, a.patient_id)
    return AdvancePaymentNode(
        id=strawberry.ID(global_id("AdvancePayment", a.id)),
        status=AdvanceStatus(a.status),
        policy_no=policy.policy_no if policy else "",
        facility_id=a.facility_id,
        hospital=a.hospital_name,
        admission_date=a.admission_date,
        description=v.decrypt(a.description_enc),
        applicant_name_masked=mask_name(v.decrypt(a.applicant_name_enc)),
        applicant_sex=a.applicant_sex,
        applicant_id_number_masked=mask_id(v.decrypt(a.applicant_id_number_enc)),
        applicant_mobile_masked=mask_phone(v.decrypt(a.applicant_mobile_enc)),
        patient_name_masked=mask_name(v.decrypt(patient.name_enc)) if patient else "",
        approved_amount=(
            f"{a.approved_fen // 100}.{a.approved_fen % 100:02d}" if a.approved_fen else None
        ),
        pay_to=a.pay_to or None,
        reason=a.decision_reason or None,
        submitted_at=a.created_at,
        row_id=a.id,
        timeline=[
            AppointmentEvent(
                kind=e.kind, at=e.at, actor=e.actor, status_to=e.status_to, note=e.note
            )
            for e in a.events
        ],
    )
