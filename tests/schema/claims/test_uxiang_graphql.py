"""U享赔 over GraphQL, on SQLite and PostgreSQL: payee -> authorisation (ticked and signed)
-> visit records for a period -> a claim from a record -> submitted with the saved payee;
and every refusal with its typed error."""

from __future__ import annotations

import datetime
import json
import socket
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import uxiang
from server.claims.core import ClaimContext
from server.claims.uxiang_models import UxiangAuthorisation
from server.hospital_records import HttpHospitalRecords, Member
from tests.db import Api, last_sms_code
from tests.schema.claims.helpers import DISCARD, ERR, VE, Claimant, payload, pk
from tests.server.claims.drafts_helpers import image
from tests.server.claims.payees_helpers import CCB_CARD, SPOUSE_ID

MAIN = "13800000001"
STAFF = "13800000005"

INFO = (
    "query($p: ID!) { uxiang(policyId: $p) { __typename ... on UxiangInfo { authorised "
    "authorisationText { version text textEn } authorisation { id version live signedAt } } "
    f"{ERR} }} }}"
)
RECORDS = (
    "query($p: ID!, $s: Date, $e: Date) { uxiangVisitRecords(policyId: $p, startDate: $s, "
    "endDate: $e) { __typename ... on VisitRecordList { startDate endDate totalCount records { "
    "recordId visitDate inpatient hospitalId hospitalName department diagnosis invoiceNo amount "
    "claimed claimId charges { name category quantity unitPrice amount } } } "
    f"{ERR} {VE} ... on RetryLaterError {{ retryAfterSeconds }} }} }}"
)
AUTHORISE = payload(
    "authoriseUxiang",
    "AuthoriseUxiangInput",
    "AuthoriseUxiangSuccess",
    "authorisation { id version live } signatureUploadPath",
    VE,
)
FROM_RECORD = payload(
    "claimFromUxiangRecord",
    "ClaimFromUxiangRecordInput",
    "ClaimFromUxiangRecordSuccess",
    "claim { id status incidentDate facilityName claimType { code } invoiceTotal "
    "invoiceNumbers payee { holderName accountNo } "
    "materials { category { code } documents { id category } } timeline { kind note } }",
    VE + " ... on ClaimRuleError { field }",
)
ADD_PAYEE = payload("addPayee", "AddPayeeInput", "AddPayeeSuccess", "payee { id }", VE)
SEND_CODE = (
    f"mutation($input: SendSmsCodeInput!) {{ sendSmsCode(input: $input) {{ __typename {ERR} }} }}"
)
HOSPITALS = "{ uxiangHospitals { networkId updating note facilities { id nameZh } } }"
TODAY = datetime.date(2026, 3, 2)  # tests/db.py FakeClock, in China


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


def add_payee(who: Claimant) -> str:
    who.cx.clock.advance(minutes=13)  # type: ignore[attr-defined]  # past the SMS limits
    sent = who(SEND_CODE, input={"mobile": who.phone, "purpose": "SAVE_PAYEE"})
    assert "errors" not in sent, sent
    code = last_sms_code(who.factory, who.members, who.phone)
    payee = {
        "relationship": "SPOUSE",
        "holderName": "王芳",
        "idType": "RESIDENT_ID",
        "idNumber": SPOUSE_ID,
        "provinceCode": "310000000000",
        "cityCode": "310100000000",
        "bankCode": "105",
        "accountNo": CCB_CARD,
        "insuranceNo": "SB31011512345",
    }
    out = who.run(ADD_PAYEE, "addPayee", payee=payee, smsCode=code)
    assert out["__typename"] == "AddPayeeSuccess", out
    return str(out["payee"]["id"])


def authorise(who: Claimant, policy: str = "main") -> str:
    info = who(INFO, p=who.policy(policy))["data"]["uxiang"]
    assert info["__typename"] == "UxiangInfo", info
    version = info["authorisationText"]["version"]
    out = who.run(
        AUTHORISE, "authoriseUxiang", policyId=who.policy(policy), accepted=True, version=version
    )
    assert out["__typename"] == "AuthoriseUxiangSuccess", out
    assert out["authorisation"]["live"] is False  # not signed yet
    r = who.api.client.post(
        out["signatureUploadPath"],
        files={"file": ("sig.png", image(size=(120, 40)), "image/png")},
        headers={"Authorization": f"Bearer {who.token}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["authorisation"]["live"] is True
    return str(out["authorisation"]["id"])


def records(who: Claimant, start: str | None, end: str | None, policy: str = "main") -> Any:
    return who(RECORDS, p=who.policy(policy), s=start, e=end)["data"]["uxiangVisitRecords"]


def claimable(found: Any) -> dict[str, Any]:
    """An outpatient visit of this year (the policy's cover) within the online limit."""
    for r in found["records"]:
        if not r["inpatient"] and float(r["amount"]) <= 2000 and r["visitDate"] >= "2026-01-01":
            return dict(r)
    raise AssertionError(f"no claimable record among {found['records']}")


def test_a_member_claims_from_a_visit_record_paid_to_a_saved_payee(zhang: Claimant) -> None:
    # given a member with contact details and a saved payee
    zhang.contact()
    payee_id = add_payee(zhang)
    # when nothing is authorised yet, nothing is fetched
    before = records(zhang, None, None)
    assert before["__typename"] == "UxiangAuthorisationRequiredError"
    assert before["code"] == "UXIANG_AUTHORISATION_REQUIRED"
    # when the member ticks and signs the authorisation
    authorisation_id = authorise(zhang)
    info = zhang(INFO, p=zhang.policy("main"))["data"]["uxiang"]
    assert info["authorised"] is True
    assert info["authorisation"]["id"] == authorisation_id
    assert info["authorisation"]["live"] is True and info["authorisation"]["signedAt"]
    # and searches this year's visits
    found = records(zhang, "2026-01-01", TODAY.isoformat())
    assert found["__typename"] == "VisitRecordList", found
    assert found["startDate"] == "2026-01-01" and found["endDate"] == TODAY.isoformat()
    assert found["totalCount"] == len(found["records"]) >= 1
    dates = [r["visitDate"] for r in found["records"]]
    assert dates == sorted(dates, reverse=True)
    assert all("2026-01-01" <= d <= TODAY.isoformat() for d in dates)
    record = claimable(found)
    assert record["claimed"] is False
    assert sum(float(c["amount"]) for c in record["charges"]) == pytest.approx(
        float(record["amount"])
    )
    # then a claim from the record is a draft prefilled from it, paid to the saved payee
    out = zhang.run(
        FROM_RECORD,
        "claimFromUxiangRecord",
        policyId=zhang.policy("main"),
        recordId=record["recordId"],
        noticeAccepted=True,
        payeeId=payee_id,
    )
    assert out["__typename"] == "ClaimFromUxiangRecordSuccess", out
    claim = out["claim"]
    assert claim["status"] == "DRAFT"
    assert claim["incidentDate"] == record["visitDate"]
    assert claim["facilityName"] == record["hospitalName"]
    assert claim["claimType"]["code"] == "OUTPATIENT"
    assert float(claim["invoiceTotal"]) == float(record["amount"])
    assert claim["invoiceNumbers"] == [record["invoiceNo"]]
    assert claim["payee"] == {"holderName": "王*", "accountNo": "****6786"}
    invoices = [m for m in claim["materials"] if m["category"]["code"] == "INVOICE"]
    assert len(invoices[0]["documents"]) == 1  # the record, as a PDF
    made = [e for e in claim["timeline"] if e["kind"] == "UXIANG_RECORD"]
    assert made and record["recordId"] in made[0]["note"]
    # and the record is marked claimed
    again = records(zhang, "2026-01-01", TODAY.isoformat())
    marked = next(r for r in again["records"] if r["recordId"] == record["recordId"])
    assert marked["claimed"] is True and marked["claimId"] == claim["id"]
    # when the usual steps follow: the medical record, signature, SMS code, submit
    zhang.add_document(claim["id"], "MEDICAL_RECORD")
    zhang.sign(claim["id"])
    sent = zhang.submit(claim["id"], zhang.send_code(claim["id"]))
    # then it is submitted, paid to the saved payee
    assert sent["__typename"] == "SubmitClaimSuccess", sent
    assert sent["claimNo"].startswith("VSHH")
    assert sent["claim"]["payee"]["accountNo"] == "****6786"
    # and a second claim from the same record is refused
    second = zhang(
        FROM_RECORD,
        input={
            "policyId": zhang.policy("main"),
            "recordId": record["recordId"],
            "noticeAccepted": True,
            "payeeId": payee_id,
        },
    )["data"]["claimFromUxiangRecord"]
    assert second["__typename"] == "UxiangRecordClaimedError"
    assert second["code"] == "UXIANG_RECORD_CLAIMED"


def test_policies_without_medical_group_cover_get_the_usual_route(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # given the high-end individual policy, the spouse's policy and the university plan
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    cases = [(zhang, "main_high_end"), (zhang, "spouse"), (staff, "staff")]
    for who, key in cases:
        # when U享赔 is opened, authorised or searched on them
        info = who(INFO, p=who.policy(key))["data"]["uxiang"]
        tick = who(
            AUTHORISE,
            input={"policyId": who.policy(key), "accepted": True, "version": "UX-2026-1"},
        )["data"]["authoriseUxiang"]
        found = records(who, None, None, key)
        # then each says it is not available, and why
        for answer in (info, tick, found):
            assert answer["__typename"] == "UxiangNotAvailableError", (key, answer)
            assert answer["code"] == "UXIANG_NOT_AVAILABLE"
        assert "自助理赔" in info["message"] or "self-service" in info["message"]


def test_the_authorisation_must_be_ticked_in_its_current_version(zhang: Claimant) -> None:
    # when the box is not ticked, or an old text was read
    unticked = zhang(
        AUTHORISE,
        input={"policyId": zhang.policy("main"), "accepted": False, "version": "UX-2026-1"},
    )["data"]["authoriseUxiang"]
    old = zhang(
        AUTHORISE,
        input={"policyId": zhang.policy("main"), "accepted": True, "version": "UX-2020-0"},
    )["data"]["authoriseUxiang"]
    # then both are refused with the field at fault
    assert unticked["__typename"] == "ValidationError"
    assert unticked["fieldErrors"] == [{"field": "accepted", "code": "AUTHORISATION_NOT_ACCEPTED"}]
    assert old["fieldErrors"] == [{"field": "version", "code": "AUTHORISATION_VERSION_OUTDATED"}]
    # and a ticked but unsigned authorisation fetches nothing
    ticked = zhang.run(
        AUTHORISE,
        "authoriseUxiang",
        policyId=zhang.policy("main"),
        accepted=True,
        version="UX-2026-1",
    )
    assert ticked["authorisation"]["live"] is False
    assert records(zhang, None, None)["code"] == "UXIANG_AUTHORISATION_REQUIRED"


def test_another_members_authorisation_cannot_be_signed(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # given the main member's ticked authorisation
    ticked = zhang.run(
        AUTHORISE,
        "authoriseUxiang",
        policyId=zhang.policy("main"),
        accepted=True,
        version="UX-2026-1",
    )
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    # when another member uploads a signature to it
    r = api.client.post(
        ticked["signatureUploadPath"],
        files={"file": ("sig.png", image(size=(120, 40)), "image/png")},
        headers={"Authorization": f"Bearer {staff.token}"},
    )
    # then it is not found, and the authorisation stays unsigned
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "UXIANG_AUTHORISATION_NOT_FOUND"
    # and without a sign-in, or with an id of another kind, nothing is signed either
    anonymous = api.client.post(
        ticked["signatureUploadPath"],
        files={"file": ("sig.png", image(size=(120, 40)), "image/png")},
    )
    assert anonymous.status_code == 401
    policy_id = zhang.policy("main")  # a Policy's global id, not an authorisation's
    wrong = api.client.post(
        f"/api/uxiang/authorisations/{policy_id}/signature",
        files={"file": ("sig.png", image(size=(120, 40)), "image/png")},
        headers={"Authorization": f"Bearer {zhang.token}"},
    )
    assert wrong.status_code == 404
    info = zhang(INFO, p=zhang.policy("main"))["data"]["uxiang"]
    assert info["authorised"] is False


@pytest.mark.parametrize(
    ("start", "end", "field", "code"),
    [
        ("2026-03-01", "2026-03-03", "endDate", "DATE_IN_FUTURE"),
        ("2026-02-01", "2026-01-01", "startDate", "INVALID_PERIOD"),
        ("2025-01-01", "2026-03-01", "startDate", "PERIOD_TOO_LONG"),
        ("0001-01-01", "2026-03-01", "startDate", "PERIOD_TOO_LONG"),
        (None, "2026-03-03", "endDate", "DATE_IN_FUTURE"),
    ],
)
def test_a_bad_date_range_is_refused(
    zhang: Claimant, start: str | None, end: str, field: str, code: str
) -> None:
    authorise(zhang)
    found = records(zhang, start, end)
    assert found["__typename"] == "ValidationError"
    assert found["fieldErrors"] == [{"field": field, "code": code}]


def test_a_record_of_another_member_is_not_found(zhang: Claimant, demo: Any) -> None:
    # given the member is authorised, and a visit record of a colleague
    zhang.contact()
    authorise(zhang)
    cx = zhang.cx
    assert cx.hospital_records is not None
    colleague = Member(demo.people["colleague"].person_id, "resident_id", "x", "李娜")
    theirs = cx.hospital_records.search(colleague, datetime.date(2026, 1, 1), TODAY)
    assert theirs
    # when the member claims from the colleague's record, or from a made-up one
    for record_id in (theirs[0].record_id, "VNOSUCHRECORD", "../../etc"):
        out = zhang(
            FROM_RECORD,
            input={"policyId": zhang.policy("main"), "recordId": record_id, "noticeAccepted": True},
        )["data"]["claimFromUxiangRecord"]
        # then it is not found, as an unknown id
        assert out["__typename"] == "UxiangRecordNotFoundError", out
        assert out["code"] == "UXIANG_RECORD_NOT_FOUND"


def test_the_hospital_list_says_plainly_that_it_is_being_updated(zhang: Claimant) -> None:
    out = zhang(HOSPITALS)["data"]["uxiangHospitals"]
    assert out["networkId"] == "uxiang"
    assert out["updating"] is True and out["facilities"] == []
    assert "待更新" in out["note"]


def test_a_claim_from_a_record_without_payee_follows_the_usual_rule(zhang: Claimant) -> None:
    # given an authorised member with contact details and no payee at all
    zhang.contact()
    authorise(zhang)
    record = claimable(records(zhang, "2026-01-01", TODAY.isoformat()))
    # when a claim is made from a record
    out = zhang(
        FROM_RECORD,
        input={
            "policyId": zhang.policy("main"),
            "recordId": record["recordId"],
            "noticeAccepted": True,
        },
    )["data"]["claimFromUxiangRecord"]
    # then the claims rule answers, and nothing is left behind: the record is still free
    assert out["__typename"] == "ClaimRuleError" and out["code"] == "PAYEE_REQUIRED", out
    again = records(zhang, "2026-01-01", TODAY.isoformat())
    assert not any(r["claimed"] for r in again["records"])
    drafts = zhang("{ claimDrafts { ... on ClaimDraftList { drafts { id } } } }")
    assert drafts["data"]["claimDrafts"]["drafts"] == []


def test_discarding_the_draft_frees_the_record(zhang: Claimant) -> None:
    # given a draft made from a record
    zhang.contact()
    payee_id = add_payee(zhang)
    authorise(zhang)
    record = claimable(records(zhang, "2026-01-01", TODAY.isoformat()))
    made = zhang.run(
        FROM_RECORD,
        "claimFromUxiangRecord",
        policyId=zhang.policy("main"),
        recordId=record["recordId"],
        noticeAccepted=True,
        payeeId=payee_id,
    )
    claim_id = made["claim"]["id"]
    # when the member discards the draft
    out = zhang.run(DISCARD, "discardClaimDraft", claimId=claim_id)
    assert out["__typename"] == "DiscardClaimDraftSuccess", out
    # then the record is no longer marked, and a claim can be made from it again
    again = records(zhang, "2026-01-01", TODAY.isoformat())
    assert not next(r for r in again["records"] if r["recordId"] == record["recordId"])["claimed"]
    remade = zhang.run(
        FROM_RECORD,
        "claimFromUxiangRecord",
        policyId=zhang.policy("main"),
        recordId=record["recordId"],
        noticeAccepted=True,
        payeeId=payee_id,
    )
    assert remade["__typename"] == "ClaimFromUxiangRecordSuccess", remade


def test_the_authorisation_records_time_and_client_encrypted(zhang: Claimant) -> None:
    # when the member ticks and signs
    authorisation_id = authorise(zhang)
    # then the row holds the version, both times and the client, the client encrypted
    with zhang.factory() as s:
        row = s.get(UxiangAuthorisation, pk(authorisation_id))
        assert row is not None
        assert row.version == "UX-2026-1"
        assert row.accepted_at is not None and row.signed_at is not None
        assert row.signature_key is not None and zhang.cx.storage.exists(row.signature_key)
        assert "testclient" not in row.client_enc
        client = json.loads(zhang.cx.vault.decrypt(row.client_enc))
    assert client == {"address": "testclient", "userAgent": "testclient", "channel": "app"}


def test_a_records_service_that_fails_is_a_typed_error(
    zhang: Claimant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an authorised member and a records service that is not there
    authorise(zhang)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setattr(
        zhang.cx, "hospital_records", HttpHospitalRecords(f"http://127.0.0.1:{port}", timeout=1)
    )
    # when records are searched, or a claim is made from one
    found = records(zhang, None, None)
    made = zhang(
        FROM_RECORD,
        input={"policyId": zhang.policy("main"), "recordId": "V1", "noticeAccepted": True},
    )["data"]["claimFromUxiangRecord"]
    # then both say the service is unavailable, as typed errors
    for answer in (found, made):
        assert answer["__typename"] == "HospitalRecordsUnavailableError", answer
        assert answer["code"] == "HOSPITAL_RECORDS_UNAVAILABLE"


def test_records_of_the_first_days_of_the_calendar_are_an_empty_answer(zhang: Claimant) -> None:
    authorise(zhang)
    found = records(zhang, None, "0001-01-03")
    assert found["__typename"] == "VisitRecordList", found
    assert found["startDate"] == "0001-01-01" and found["records"] == []


WITHDRAW = payload(
    "withdrawUxiangAuthorisation",
    "WithdrawUxiangAuthorisationInput",
    "WithdrawUxiangAuthorisationSuccess",
    "authorisation { id live revokedAt }",
)


def test_a_withdrawn_authorisation_fetches_nothing_more(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # given a live authorisation
    authorisation_id = authorise(zhang)
    assert records(zhang, None, None)["__typename"] == "VisitRecordList"
    # when another member tries to withdraw it, it is not found and stays
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    theirs = staff(WITHDRAW, input={"authorisationId": authorisation_id})
    assert theirs["data"]["withdrawUxiangAuthorisation"]["code"] == "UXIANG_AUTHORISATION_NOT_FOUND"
    assert records(zhang, None, None)["__typename"] == "VisitRecordList"
    # when the member withdraws it (twice: the same answer)
    for _ in range(2):
        out = zhang.run(WITHDRAW, "withdrawUxiangAuthorisation", authorisationId=authorisation_id)
        assert out["authorisation"]["live"] is False and out["authorisation"]["revokedAt"]
    # then records are no longer fetched, and a signature cannot revive it
    assert records(zhang, None, None)["code"] == "UXIANG_AUTHORISATION_REQUIRED"
    r = api.client.post(
        f"/api/uxiang/authorisations/{authorisation_id}/signature",
        files={"file": ("sig.png", image(size=(120, 40)), "image/png")},
        headers={"Authorization": f"Bearer {zhang.token}"},
    )
    assert r.status_code == 404


def test_a_new_text_needs_a_new_authorisation(
    zhang: Claimant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a live authorisation of the current text
    authorise(zhang)
    # when the text gets a new version
    newer = uxiang.AuthorisationText("UX-2027-1", "新文本", "New text")
    monkeypatch.setattr(uxiang, "authorisation_text", lambda: newer)
    # then nothing is fetched until the member ticks and signs the new one
    assert records(zhang, None, None)["code"] == "UXIANG_AUTHORISATION_REQUIRED"
    info = zhang(INFO, p=zhang.policy("main"))["data"]["uxiang"]
    assert info["authorisationText"]["version"] == "UX-2027-1"
    assert info["authorised"] is False and info["authorisation"]["live"] is False
    authorise(zhang)
    assert records(zhang, None, None)["__typename"] == "VisitRecordList"
