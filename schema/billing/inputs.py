"""Inputs of the direct-billing operations."""

from __future__ import annotations

import datetime

import strawberry

from schema.billing.types import (
    AppointmentStatus,
    DoctorLevel,
    FacilityNature,
    LiabilityType,
    ReissueReason,
    VisitTime,
)


@strawberry.input(
    description="直付就诊预约: every step's choices, sent once after the confirm step."
)
class BookAppointmentInput:
    policy_id: strawberry.ID = strawberry.field(
        description="A policy of directBillingPolicies (the insured person is its insured)."
    )
    applicant_mobile: str | None = strawberry.field(
        default=None, description="手机号, when not the account's mobile."
    )
    visit_date: datetime.date = strawberry.field(description="就诊日期: 2 working days ahead.")
    liability_type: LiabilityType = strawberry.field(description="责任类型.")
    province: str = strawberry.field(description="所在省 (e.g. 上海).")
    city: str = strawberry.field(description="所在市 (e.g. 上海).")
    facility_nature: FacilityNature = strawberry.field(description="医院性质.")
    facility_id: str = strawberry.field(description="就诊医院: an id of directBillingFacilities.")
    visit_time: VisitTime = strawberry.field(description="就诊时间.")
    department: str = strawberry.field(description="就诊科室: one of the facility's departments.")
    description: str = strawberry.field(description="就诊描述 (required, up to 500 characters).")
    department_type: str = strawberry.field(default="", description="科室类别 (optional).")
    doctor_name: str = strawberry.field(default="", description="医生姓名 (optional).")
    doctor_level: DoctorLevel | None = strawberry.field(
        default=None, description="医生级别 (optional)."
    )


@strawberry.input(description="An appointment, by id.")
class AppointmentIdInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")


@strawberry.input(description="The member's answer to the time the hospital proposed.")
class RespondToAppointmentTimeInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")
    accept: bool = strawberry.field(description="true: take the time; false: cancel instead.")


@strawberry.input(description="Confirm an appointment with the hospital's time and doctor.")
class ConfirmAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")
    time: str = strawberry.field(description="The confirmed time, HH:MM (China time).")
    doctor: str = strawberry.field(default="", description="The doctor; empty: the one asked for.")


@strawberry.input(description="Propose another day and time to the member.")
class ProposeAppointmentTimeInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")
    date: datetime.date = strawberry.field(description="The day proposed.")
    time: str = strawberry.field(description="The time proposed, HH:MM (China time).")
    note: str = strawberry.field(default="", description="Why, for the member (optional).")


@strawberry.input(description="Decline an appointment with a reason for the member.")
class DeclineAppointmentInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")
    reason: str = strawberry.field(description="Why no appointment can be made.")


@strawberry.input(description="After the day: did the member come?")
class RecordAppointmentOutcomeInput:
    appointment_id: strawberry.ID = strawberry.field(description="Global id of the appointment.")
    attended: bool = strawberry.field(description="true: attended; false: no-show.")


@strawberry.input(description="Narrow the coordinator's queue.")
class CoordinatorQueueFilter:
    statuses: list[AppointmentStatus] | None = strawberry.field(
        default=None, description="Statuses to show; default SUBMITTED."
    )
    facility_id: str | None = strawberry.field(default=None, description="One facility.")
    visit_date: datetime.date | None = strawberry.field(default=None, description="One day.")


@strawberry.input(description="申请补卡: where and why a new card is needed.")
class RequestCardReissueInput:
    policy_id: strawberry.ID = strawberry.field(description="The card's high-end policy.")
    mobile: str = strawberry.field(description="手机号.")
    province_code: str = strawberry.field(description="Province (administrativeDivisions).")
    city_code: str = strawberry.field(description="City (administrativeDivisions of the province).")
    district_code: str = strawberry.field(description="District (of the city).")
    street: str = strawberry.field(description="Street address.")
    postcode: str = strawberry.field(description="邮编: 6 digits.")
    reason: ReissueReason = strawberry.field(description="补卡原因.")
    reason_text: str = strawberry.field(default="", description="Required when OTHER.")


@strawberry.input(description="The card is posted.")
class MarkCardReissuePostedInput:
    reissue_id: strawberry.ID = strawberry.field(description="Global id of the request.")
    tracking_no: str = strawberry.field(description="The courier's tracking number.")


@strawberry.input(description="The card is delivered.")
class MarkCardReissueDeliveredInput:
    reissue_id: strawberry.ID = strawberry.field(description="Global id of the request.")


@strawberry.input(description="住院垫付: the request, confirmed with the SMS code.")
class RequestAdvancePaymentInput:
    policy_id: strawberry.ID = strawberry.field(description="The insured person's policy.")
    facility_id: str | None = strawberry.field(
        default=None, description="The hospital from the directory (by id)."
    )
    hospital_name: str | None = strawberry.field(
        default=None, description="The hospital's name, when it is not listed."
    )
    admission_date: datetime.date = strawberry.field(description="入院日期.")
    description: str = strawberry.field(description="What the stay is for.")
    sms_code: str = strawberry.field(description="The code sendAdvancePaymentCode sent.")


@strawberry.input(description="Approve an advance payment.")
class ApproveAdvancePaymentInput:
    advance_id: strawberry.ID = strawberry.field(description="Global id of the request.")
    amount: str = strawberry.field(description="The amount in yuan, e.g. 20000.00.")
    pay_to: str = strawberry.field(
        default="", description="The hospital to be paid; empty: the request's."
    )


@strawberry.input(description="Decline an advance payment.")
class DeclineAdvancePaymentInput:
    advance_id: strawberry.ID = strawberry.field(description="Global id of the request.")
    reason: str = strawberry.field(description="Why, for the member.")
