"""A direct-billing appointment, as its people live it, on SQLite and PostgreSQL.

A high-end member signs in, sees the services open to them, walks the booking steps and
books; a coordinator takes it from the queue and confirms; the SMS and the e-mail arrive
(the outbox, the development SMS sender and a real SMTP server on loopback); the member
sees it confirmed, with its timeline, and the in-app message points at it. Beside it,
what other callers get: a member of another plan, another member's id, an adjuster at the
coordinator desk.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import SmsOutbox
from server.accounts.wiring import MemberServices
from server.notify.email import LogEmailSender
from server.notify.worker import deliver_due
from tests.db import Api, FakeClock, last_sms_code
from tests.journeys import deliver, gql, ok, staff_log_in, staff_token


def mutation(name: str, input_type: str, success: str, fields: str, extra: str = "") -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {success} {{ {fields} }} ... on Error {{ code message }} {extra} }} }}"
    )


RULE_FIELDS = "... on AppointmentRuleError { field }"


LOG_IN = """mutation($mobile: String!) { logIn(input: {mobile: $mobile, password: "Demo2026!"}) {
  __typename ... on SignInSuccess { token } } }"""
CONTACT = mutation(
    "saveClaimContact", "SaveClaimContactInput", "SaveClaimContactSuccess", "__typename"
)
SERVICES = (
    """{ directBillingServices { code available reasonCode offlineRoute link providerName } }"""
)
POLICIES = """{ directBillingPolicies { __typename ... on DirectBillingPolicies { policies {
  id policyNo isDependant liabilityTypes earliestVisitDate
  applicant { nameMasked idNumberMasked mobileMasked } } }
  ... on HighEndRequiredError { code bookingLine } } }"""
FACILITIES = """query($policy: ID!) { directBillingFacilities(policyId: $policy,
  liabilityType: OUTPATIENT, province: "上海", city: "上海", nature: PUBLIC) {
  __typename ... on DirectBillingFacilities { facilities { id nameZh departments { zh } } } } }"""
BOOK = mutation(
    "bookAppointment",
    "BookAppointmentInput",
    "BookAppointmentSuccess",
    "appointment { id status hospital department applicant { nameMasked mobileMasked } }",
    RULE_FIELDS + " ... on HighEndRequiredError { bookingLine }",
)
APPOINTMENT = """query($id: ID!) { appointment(id: $id) { __typename ... on Appointment {
  status visitDate confirmedTime doctor hospital department result patientNameMasked
  applicant { nameMasked idNumberMasked } canCancel timeline { kind actor statusTo } }
  ... on Error { code } } }"""
APPOINTMENTS = """{ appointments { __typename ... on Appointments { appointments {
  id status submittedAt } } } }"""
QUEUE = """{ coordinatorQueue { totalCount edges { node { id status hospital
  patientNameMasked } } } }"""
CONFIRM = mutation(
    "confirmAppointment",
    "ConfirmAppointmentInput",
    "ConfirmAppointmentSuccess",
    "appointment { status confirmedTime }",
)
CANCEL = mutation(
    "cancelAppointment", "AppointmentIdInput", "CancelAppointmentSuccess", "__typename"
)
MESSAGES = """{ viewer { messages(first: 10) { edges { node { kind target targetId } } } } }"""

SHUGUANG = "med-shuguang-east-special"


def booking(policy_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "policyId": policy_id,
        "visitDate": "2026-03-05",
        "liabilityType": "OUTPATIENT",
        "province": "上海",
        "city": "上海",
        "facilityNature": "PUBLIC",
        "facilityId": SHUGUANG,
        "visitTime": "MORNING",
        "department": "传统中医科",
        "description": "反复胃痛两周",
        "doctorLevel": "CHIEF",
        **changes,
    }


def sign_in(api: Api, mobile: str) -> str:
    token: str = ok(gql(api, LOG_IN, "", mobile=mobile), "SignInSuccess")["token"]
    return token


def test_book_confirm_and_be_told(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    phone = demo.people["main"].phone
    token = sign_in(api, phone)
    ok(
        gql(
            api,
            CONTACT,
            token,
            input={"address": "上海市浦东新区", "email": "zhang.wei@example.com"},
        ),
        "SaveClaimContactSuccess",
    )

    # --- the services and the booking steps ------------------------------------------------------
    services = {s["code"]: s for s in api(SERVICES, token=token)["data"]["directBillingServices"]}
    assert services["APPOINTMENT"]["available"] is True
    assert services["INTERNET_OUTPATIENT"]["providerName"] == "微医"
    assert services["INTERNET_OUTPATIENT"]["link"].startswith("https://")
    policies = ok(gql(api, POLICIES, token), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")
    assert high_end["earliestVisitDate"] == "2026-03-04"
    assert high_end["applicant"]["nameMasked"] == "张*"
    assert high_end["applicant"]["mobileMasked"] == "138****0001"
    assert "*" in high_end["applicant"]["idNumberMasked"]
    facilities = ok(gql(api, FACILITIES, token, policy=high_end["id"]), "DirectBillingFacilities")[
        "facilities"
    ]
    shuguang = next(f for f in facilities if f["id"] == SHUGUANG)
    assert "传统中医科" in [d["zh"] for d in shuguang["departments"]]

    booked = ok(gql(api, BOOK, token, input=booking(high_end["id"])), "BookAppointmentSuccess")[
        "appointment"
    ]
    appointment_id = booked["id"]
    assert booked["status"] == "SUBMITTED"
    assert booked["applicant"] == {"nameMasked": "张*", "mobileMasked": "138****0001"}

    # --- the coordinator confirms -----------------------------------------------------------------
    desk = staff_token(api, db_factory, members, clock)
    queue = gql(api, QUEUE, desk)
    assert [e["node"]["id"] for e in queue["edges"]] == [appointment_id]
    assert queue["edges"][0]["node"]["patientNameMasked"] == "张*"
    confirmed = ok(
        gql(
            api,
            CONFIRM,
            desk,
            input={"appointmentId": appointment_id, "time": "09:30", "doctor": "李医生"},
        ),
        "ConfirmAppointmentSuccess",
    )
    assert confirmed["appointment"] == {"status": "CONFIRMED", "confirmedTime": "09:30"}

    # --- the SMS and the e-mail arrive ------------------------------------------------------------
    report, mails = deliver(db_factory, members, clock)
    # booked (acknowledged) and confirmed: an SMS and an e-mail each
    assert len(report.sent) == 4 and not report.failed
    with db_factory() as db:
        sms = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert sms is not None and "您的直付就诊预约已确认：2026年3月5日 09:30" in sms
    acknowledged, (recipients, message) = mails
    assert "直付就诊预约已提交" in str(acknowledged[1]["Subject"])
    assert recipients == ["zhang.wei@example.com"]
    assert "直付就诊预约成功" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "就诊时间：09:30" in text and "李医生" in text

    # --- the member sees it confirmed ------------------------------------------------------------
    seen = gql(api, APPOINTMENT, token, id=appointment_id)
    assert (seen["status"], seen["confirmedTime"], seen["doctor"], seen["result"]) == (
        "CONFIRMED",
        "09:30",
        "李医生",
        "预约成功",
    )
    assert seen["patientNameMasked"] == "张*" and "张伟" not in str(seen)
    assert [(e["kind"], e["actor"]) for e in seen["timeline"]] == [
        ("submitted", "member"),
        ("confirmed", "coordinator"),
    ]
    listed = gql(api, APPOINTMENTS, token)["appointments"]
    assert [a["id"] for a in listed] == [appointment_id]
    inbox = api(MESSAGES, token=token)["data"]["viewer"]["messages"]["edges"]
    assert inbox[0]["node"] == {
        "kind": "appointment.confirmed",
        "target": "APPOINTMENT",
        "targetId": appointment_id,
    }


def test_what_other_callers_get(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    main = sign_in(api, demo.people["main"].phone)
    staff = sign_in(api, demo.people["staff"].phone)
    policies = ok(gql(api, POLICIES, main), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")["id"]

    # a member of another plan: the offline route, in the list and as a typed error
    services = api(SERVICES, token=staff)["data"]["directBillingServices"]
    assert services[0] == {
        "code": "APPOINTMENT",
        "available": False,
        "reasonCode": "HIGH_END_REQUIRED",
        "offlineRoute": "1010-8686",
        "link": None,
        "providerName": None,
    }
    refused = ok(gql(api, POLICIES, staff), "HighEndRequiredError")
    assert refused["bookingLine"] == "1010-8686"

    # rules answer with typed errors naming the field
    soon = gql(api, BOOK, main, input=booking(high_end, visitDate="2026-03-03"))
    assert (soon["__typename"], soon["code"], soon["field"]) == (
        "AppointmentRuleError",
        "DATE_TOO_SOON",
        "visitDate",
    )
    outside = gql(api, BOOK, main, input=booking(high_end, facilityId="des-ufh-hospital"))
    assert outside["code"] == "FACILITY_NOT_IN_NETWORK"
    blank = gql(api, BOOK, main, input=booking(high_end, description=" "))
    assert (blank["__typename"], blank["code"]) == ("ValidationError", "VALIDATION_FAILED")

    # another member's appointment id answers as a missing one
    booked = ok(gql(api, BOOK, main, input=booking(high_end)), "BookAppointmentSuccess")
    theirs = booked["appointment"]["id"]
    assert gql(api, APPOINTMENT, staff, id=theirs) == {
        "__typename": "AppointmentNotFoundError",
        "code": "APPOINTMENT_NOT_FOUND",
    }
    assert gql(api, CANCEL, staff, input={"appointmentId": theirs})["code"] == (
        "APPOINTMENT_NOT_FOUND"
    )
    again = gql(api, BOOK, main, input=booking(high_end))
    assert again["code"] == "DUPLICATE_APPOINTMENT"

    # the desks are apart: a member or an adjuster gets no coordinator queue, and the
    # coordinator gets no claims queue
    adjuster = staff_token(api, db_factory, members, clock, username="li.shenhe", role="adjuster")
    coordinator = staff_token(api, db_factory, members, clock)
    for token in (main, adjuster):
        body = api(QUEUE, token=token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = api("{ adjusterQueue { edges { node { id } } } }", token=coordinator)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = api(CONFIRM, token=main, input={"appointmentId": theirs, "time": "09:30"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


REISSUE = mutation(
    "requestCardReissue",
    "RequestCardReissueInput",
    "RequestCardReissueSuccess",
    "reissue { id status mobileMasked province city district streetMasked postcode }",
    RULE_FIELDS + " ... on ValidationError { fieldErrors { field code } }",
)
POSTED = mutation(
    "markCardReissuePosted",
    "MarkCardReissuePostedInput",
    "MarkCardReissuePostedSuccess",
    "reissue { status trackingNo }",
)
DIVISIONS = (
    """query($parent: String) { administrativeDivisions(parentCode: $parent) { code name } }"""
)
REISSUES = (
    """{ cardReissues { __typename ... on CardReissues { reissues { id status trackingNo } } } }"""
)
DESK_REISSUES = """{ coordinatorCardReissues { id status postcode } }"""


def test_reissue_then_posted(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    token = sign_in(api, demo.people["main"].phone)
    policies = ok(gql(api, POLICIES, token), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")["id"]
    # the form's lists come from the public administrativeDivisions query
    cities = api(DIVISIONS, parent="310000000000")["data"]["administrativeDivisions"]
    assert cities == [{"code": "310100000000", "name": "上海市"}]
    districts = api(DIVISIONS, parent="310100000000")["data"]["administrativeDivisions"]
    xuhui = next(d["code"] for d in districts if d["name"] == "徐汇区")
    address = {
        "policyId": high_end,
        "mobile": "13912345678",
        "provinceCode": "310000000000",
        "cityCode": "310100000000",
        "districtCode": xuhui,
        "street": "漕溪北路1号",
        "postcode": "200030",
        "reason": "DAMAGED",
    }
    bad = gql(api, REISSUE, token, input={**address, "postcode": "2000", "reason": "OTHER"})
    assert {(f["field"], f["code"]) for f in bad["fieldErrors"]} == {
        ("postcode", "INVALID_POSTCODE"),
        ("reasonText", "REQUIRED"),
    }
    asked = ok(gql(api, REISSUE, token, input=address), "RequestCardReissueSuccess")["reissue"]
    assert asked["status"] == "SUBMITTED" and asked["mobileMasked"] == "139****5678"
    assert (asked["province"], asked["city"], asked["district"]) == ("上海市", "上海市", "徐汇区")
    assert "漕溪北路1号" not in str(asked)

    desk = staff_token(api, db_factory, members, clock)
    waiting = api(DESK_REISSUES, token=desk)["data"]["coordinatorCardReissues"]
    assert [r["id"] for r in waiting] == [asked["id"]]
    posted = ok(
        gql(api, POSTED, desk, input={"reissueId": asked["id"], "trackingNo": "SF1234567890"}),
        "MarkCardReissuePostedSuccess",
    )
    assert posted["reissue"] == {"status": "POSTED", "trackingNo": "SF1234567890"}
    report = deliver_due(db_factory, members.sms, LogEmailSender(), clock.now, vault=members.vault)
    # the request's receipt and the posting, each by SMS (no contact e-mail on file)
    assert len(report.sent) == 2 and not report.failed
    with db_factory() as db:
        sms = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup("13912345678", kind="phone"))
            .order_by(SmsOutbox.id.desc())
        )
    assert sms is not None and "快递单号SF1234567890" in sms
    mine = gql(api, REISSUES, token)["reissues"]
    assert mine == [{"id": asked["id"], "status": "POSTED", "trackingNo": "SF1234567890"}]


SEND_ADVANCE_CODE = """mutation { sendAdvancePaymentCode { __typename
  ... on SendAdvancePaymentCodeSuccess { mobileMasked resendAfterSeconds } ... on Error { code } } }"""
ADVANCE = mutation(
    "requestAdvancePayment",
    "RequestAdvancePaymentInput",
    "RequestAdvancePaymentSuccess",
    "advancePayment { id status hospital applicantNameMasked applicantSex "
    "applicantIdNumberMasked applicantMobileMasked }",
    RULE_FIELDS + " ... on ValidationError { fieldErrors { field code } }",
)
APPROVE = mutation(
    "approveAdvancePayment",
    "ApproveAdvancePaymentInput",
    "ApproveAdvancePaymentSuccess",
    "advancePayment { status approvedAmount payTo }",
)
ADVANCES = """{ advancePayments { __typename ... on AdvancePayments { advancePayments {
  id status approvedAmount payTo timeline { kind actor } } } } }"""
DESK_ADVANCES = """{ coordinatorAdvancePayments { id hospital patientNameMasked } }"""


def test_advance_payment_then_approved(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    phone = demo.people["main"].phone
    token = sign_in(api, phone)
    policies = ok(gql(api, POLICIES, token), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")["id"]
    sent = ok(gql(api, SEND_ADVANCE_CODE, token), "SendAdvancePaymentCodeSuccess")
    assert sent == {
        "__typename": "SendAdvancePaymentCodeSuccess",
        "mobileMasked": "138****0001",
        "resendAfterSeconds": 120,
    }
    again = gql(api, SEND_ADVANCE_CODE, token)
    assert (again["__typename"], again["code"]) == ("RetryLaterError", "SMS_TOO_SOON")
    request = {
        "policyId": high_end,
        "hospitalName": "某市立医院",  # not listed: typed
        "admissionDate": "2026-03-10",
        "description": "择期手术住院",
        "smsCode": "000000",
    }
    wrong = gql(api, ADVANCE, token, input=request)
    assert wrong["code"] == "SMS_CODE_INVALID"
    missing = gql(api, ADVANCE, token, input={**request, "hospitalName": None})
    assert [f["code"] for f in missing["fieldErrors"]] == ["REQUIRED"]
    code = last_sms_code(db_factory, members, phone)
    asked = ok(
        gql(api, ADVANCE, token, input={**request, "smsCode": code}),
        "RequestAdvancePaymentSuccess",
    )["advancePayment"]
    assert asked["status"] == "SUBMITTED" and asked["hospital"] == "某市立医院"
    assert (asked["applicantNameMasked"], asked["applicantSex"]) == ("张*", "M")
    assert asked["applicantMobileMasked"] == "138****0001"
    assert demo.people["main"].id_number not in str(asked)
    # the receipt: in the app at once, by SMS through the outbox
    inbox = gql(api, "{ viewer { messages(first: 1) { edges { node { kind title } } } } }", token)
    assert inbox["messages"]["edges"][0]["node"] == {
        "kind": "advance_payment.submitted",
        "title": "住院垫付申请已提交",
    }

    desk = staff_token(api, db_factory, members, clock)
    waiting = api(DESK_ADVANCES, token=desk)["data"]["coordinatorAdvancePayments"]
    assert [a["id"] for a in waiting] == [asked["id"]]
    bad = gql(api, APPROVE, desk, input={"advanceId": asked["id"], "amount": "-5"})
    assert bad["code"] == "VALIDATION_FAILED"
    approved = ok(
        gql(api, APPROVE, desk, input={"advanceId": asked["id"], "amount": "20000.00"}),
        "ApproveAdvancePaymentSuccess",
    )["advancePayment"]
    assert approved == {"status": "APPROVED", "approvedAmount": "20000.00", "payTo": "某市立医院"}
    twice = gql(api, APPROVE, desk, input={"advanceId": asked["id"], "amount": "1.00"})
    assert twice["code"] == "APPOINTMENT_STATE_CONFLICT"

    report = deliver_due(db_factory, members.sms, LogEmailSender(), clock.now, vault=members.vault)
    assert not report.failed
    with db_factory() as db:
        sms = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert sms is not None and "垫付金额20,000.00元，将直接支付给某市立医院" in sms
    with db_factory() as db:
        bodies = db.scalars(
            select(SmsOutbox.body).where(
                SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone")
            )
        ).all()
    assert any("您的住院垫付申请（编号" in b and "已提交" in b for b in bodies)
    mine = gql(api, ADVANCES, token)["advancePayments"]
    assert mine[0]["status"] == "APPROVED"
    assert [(e["kind"], e["actor"]) for e in mine[0]["timeline"]] == [
        ("submitted", "member"),
        ("approved", "coordinator"),
    ]


OUTCOME = mutation(
    "recordAppointmentOutcome",
    "RecordAppointmentOutcomeInput",
    "RecordAppointmentOutcomeSuccess",
    "appointment { status }",
)


def test_attended_and_no_show_are_set_by_the_desk_after_the_day(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    token = sign_in(api, demo.people["main"].phone)
    policies = ok(gql(api, POLICIES, token), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")["id"]
    ids = [
        ok(gql(api, BOOK, token, input=booking(high_end, visitDate=day)), "BookAppointmentSuccess")[
            "appointment"
        ]["id"]
        for day in ("2026-03-05", "2026-03-06")
    ]
    desk = staff_token(api, db_factory, members, clock)
    # an appointment still waiting for the hospital has no outcome
    waiting = gql(api, OUTCOME, desk, input={"appointmentId": ids[0], "attended": True})
    assert waiting["code"] == "APPOINTMENT_STATE_CONFLICT"
    for appointment_id in ids:
        ok(
            gql(api, CONFIRM, desk, input={"appointmentId": appointment_id, "time": "09:30"}),
            "ConfirmAppointmentSuccess",
        )
    # before the day: not yet
    early = gql(api, OUTCOME, desk, input={"appointmentId": ids[0], "attended": True})
    assert (early["__typename"], early["code"]) == ("AppointmentRuleError", "VISIT_NOT_YET")
    # a member cannot set it
    body = api(OUTCOME, token=token, input={"appointmentId": ids[0], "attended": True})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    clock.advance(days=5)
    desk = staff_log_in(api)
    came = gql(api, OUTCOME, desk, input={"appointmentId": ids[0], "attended": True})
    assert ok(came, "RecordAppointmentOutcomeSuccess")["appointment"] == {"status": "ATTENDED"}
    missed = gql(api, OUTCOME, desk, input={"appointmentId": ids[1], "attended": False})
    assert ok(missed, "RecordAppointmentOutcomeSuccess")["appointment"] == {"status": "NO_SHOW"}
    twice = gql(api, OUTCOME, desk, input={"appointmentId": ids[1], "attended": True})
    assert twice["code"] == "APPOINTMENT_STATE_CONFLICT"

    # the member follows it: list, detail and timeline
    token = sign_in(api, demo.people["main"].phone)
    listed = {a["id"]: a["status"] for a in gql(api, APPOINTMENTS, token)["appointments"]}
    assert listed == {ids[0]: "ATTENDED", ids[1]: "NO_SHOW"}
    seen = gql(api, APPOINTMENT, token, id=ids[1])
    assert seen["status"] == "NO_SHOW" and seen["canCancel"] is False
    assert [(e["kind"], e["actor"]) for e in seen["timeline"]] == [
        ("submitted", "member"),
        ("confirmed", "coordinator"),
        ("no_show", "coordinator"),
    ]


PROPOSE = mutation(
    "proposeAppointmentTime",
    "ProposeAppointmentTimeInput",
    "ProposeAppointmentTimeSuccess",
    "appointment { status proposedDate proposedTime reason }",
)
RESPOND = mutation(
    "respondToAppointmentTime",
    "RespondToAppointmentTimeInput",
    "RespondToAppointmentTimeSuccess",
    "appointment { status visitDate confirmedTime canCancel }",
)
CANCELLED = mutation(
    "cancelAppointment",
    "AppointmentIdInput",
    "CancelAppointmentSuccess",
    "appointment { status canCancel timeline { kind actor } }",
)


def test_another_time_proposed_then_accepted_or_declined_and_a_cancel(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    token = sign_in(api, demo.people["main"].phone)
    policies = ok(gql(api, POLICIES, token), "DirectBillingPolicies")["policies"]
    high_end = next(p for p in policies if p["policyNo"] == "DEMO-I-8001")["id"]
    ids = [
        ok(gql(api, BOOK, token, input=booking(high_end, visitDate=day)), "BookAppointmentSuccess")[
            "appointment"
        ]["id"]
        for day in ("2026-03-05", "2026-03-06", "2026-03-09")
    ]
    desk = staff_token(api, db_factory, members, clock)
    for appointment_id, day in zip(ids[:2], ("2026-03-10", "2026-03-11"), strict=True):
        proposed = ok(
            gql(
                api,
                PROPOSE,
                desk,
                input={
                    "appointmentId": appointment_id,
                    "date": day,
                    "time": "14:00",
                    "note": "上午满号",
                },
            ),
            "ProposeAppointmentTimeSuccess",
        )["appointment"]
        assert proposed == {
            "status": "TIME_PROPOSED",
            "proposedDate": day,
            "proposedTime": "14:00",
            "reason": "上午满号",
        }

    # the member takes the first proposal and declines the second
    taken = ok(
        gql(api, RESPOND, token, input={"appointmentId": ids[0], "accept": True}),
        "RespondToAppointmentTimeSuccess",
    )["appointment"]
    assert taken == {
        "status": "CONFIRMED",
        "visitDate": "2026-03-10",
        "confirmedTime": "14:00",
        "canCancel": True,
    }
    refused = ok(
        gql(api, RESPOND, token, input={"appointmentId": ids[1], "accept": False}),
        "RespondToAppointmentTimeSuccess",
    )["appointment"]
    assert refused["status"] == "CANCELLED" and refused["canCancel"] is False
    # a confirmed appointment has no proposal to answer
    again = gql(api, RESPOND, token, input={"appointmentId": ids[0], "accept": False})
    assert again["code"] == "APPOINTMENT_STATE_CONFLICT"
    # another member cannot answer it
    staff = sign_in(api, demo.people["staff"].phone)
    theirs = gql(api, RESPOND, staff, input={"appointmentId": ids[0], "accept": False})
    assert theirs["code"] == "APPOINTMENT_NOT_FOUND"

    # the third, still waiting, the member cancels (until the day before)
    cancelled = ok(
        gql(api, CANCELLED, token, input={"appointmentId": ids[2]}), "CancelAppointmentSuccess"
    )["appointment"]
    assert cancelled["status"] == "CANCELLED" and cancelled["canCancel"] is False
    assert [(e["kind"], e["actor"]) for e in cancelled["timeline"]] == [
        ("submitted", "member"),
        ("cancelled", "member"),
    ]
    listed = {a["id"]: a["status"] for a in gql(api, APPOINTMENTS, token)["appointments"]}
    assert listed == {ids[0]: "CONFIRMED", ids[1]: "CANCELLED", ids[2]: "CANCELLED"}
    # the cancelled one left the desk's queue
    assert [e["node"]["id"] for e in gql(api, QUEUE, desk)["edges"]] == []
