"""A claimant over GraphQL: each step as the app sends it.

Files go in through the storage and `core.attach_document`, as the upload endpoint does,
committed (to the test's savepoint) so the next request sees them.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from strawberry import relay

from server.accounts.wiring import MemberServices
from server.claims import core
from server.claims.core import ClaimContext
from server.claims.models import Channel, Claim
from server.storage.uploads import store_upload
from tests.db import Api, last_sms_code
from tests.schema.accounts.helpers import log_in
from tests.server.claims.drafts_helpers import image

CLAIM = """fragment C on Claim {
  id claimNo status channel relation incidentType incidentDate address facilityName
  claimType { code name nameEn }
  invoiceTotal invoiceNumbers province city otherCompensation onlineLimit
  payee { holderName bankName accountNo }
  insured { name idType idNumber relation mobile email }
  applicant { name relation mobile email }
  policy { id policyNo }
  materials { category { code name } required documents { id category url thumbnailUrl } }
  documents { id category problemReason }
  problemImages { id problemReason }
  timeline { kind statusFrom statusTo actor channel note }
  supplement { instructions deadline categories { code } }
  duplicates { basis otherClaimNo invoiceNo }
  duplicateSuspected signed signatureUrl needsAction canWithdraw canResubmit
  approvedAmount paidAmount deductions { amount reason } decisionReason
  settlementNoticeUrl settlementNoticePdfUrl
  resubmissionOf { id claimNo }
  noticeAcceptedAt createdAt submittedAt
}"""

ERR = "... on Error { __typename code message }"
VE = "... on ValidationError { fieldErrors { field code } }"
RE = "... on ClaimRuleError { field }"


def payload(
    name: str,
    input_type: str,
    success: str,
    extra: str = "claim { ...C }",
    errors: str = "",
) -> str:
    fragment = f"\n{CLAIM}" if "...C" in extra else ""
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {success} {{ {extra} }} {ERR} {errors} }} }}{fragment}"
    )


START = payload("startClaim", "StartClaimInput", "StartClaimSuccess", errors=RE)
CONTACT = payload(
    "saveClaimContact",
    "SaveClaimContactInput",
    "SaveClaimContactSuccess",
    "profile { contact { address email } payee { accountNo } contactRequired payeeRequired }",
    VE,
)
BASICS = payload(
    "updateClaimBasics", "UpdateClaimBasicsInput", "UpdateClaimBasicsSuccess", errors=VE + RE
)
AMOUNT = payload(
    "updateClaimAmount", "UpdateClaimAmountInput", "UpdateClaimAmountSuccess", errors=VE + RE
)
REMOVE = payload("removeClaimDocument", "RemoveClaimDocumentInput", "RemoveClaimDocumentSuccess")
SEND = payload(
    "sendClaimConfirmationCode",
    "ClaimIdInput",
    "SendClaimConfirmationCodeSuccess",
    "mobile resendAfterSeconds expiresInSeconds",
    RE + " ... on RetryLaterError { retryAfterSeconds }",
)
SUBMIT = payload(
    "submitClaim", "SubmitClaimInput", "SubmitClaimSuccess", "claimNo claim { ...C }", VE + RE
)
DISCARD = payload("discardClaimDraft", "ClaimIdInput", "DiscardClaimDraftSuccess", "claimId")
WITHDRAW = payload("withdrawClaim", "WithdrawClaimInput", "WithdrawClaimSuccess", errors=VE)
RESUBMIT = payload("resubmitClaim", "ResubmitClaimInput", "ResubmitClaimSuccess", errors=RE)
SUPPLEMENT = payload(
    "submitClaimSupplement",
    "SubmitClaimSupplementInput",
    "SubmitClaimSupplementSuccess",
    errors=VE + RE,
)
ONE = (
    f"query($id: ID!) {{ claim(id: $id) {{ __typename ... on Claim {{ ...C }} {ERR} }} }}\n{CLAIM}"
)


def gid(type_name: str, pk: int) -> str:
    return relay.to_base64(type_name, pk)


def pk(global_id: str) -> int:
    return int(relay.from_base64(global_id)[1])


class Claimant:
    """One signed-in member going through the claim screens."""

    def __init__(
        self,
        api: Api,
        factory: sessionmaker[Session],
        cx: ClaimContext,
        members: MemberServices,
        demo: Any,
        phone: str,
    ) -> None:
        self.api = api
        self.factory = factory
        self.cx = cx
        self.members = members
        self.demo = demo
        self.phone = phone
        self.token = log_in(api, phone)

    def __call__(self, query: str, **variables: Any) -> Any:
        return self.api(query, token=self.token, **variables)

    def run(self, query: str, field: str, **input: Any) -> Any:
        body = self(query, input=input)
        assert "errors" not in body, body
        return body["data"][field]

    def policy(self, key: str) -> str:
        return gid("Policy", self.demo.policy_ids[key])

    # --- the steps ----------------------------------------------------------------------

    def contact(self) -> Any:
        return self.run(
            CONTACT,
            "saveClaimContact",
            address="上海市浦东新区世纪大道1229号",
            email="zw@example.com",
        )

    def start(self, key: str = "main", notice: bool = True) -> Any:
        return self.run(START, "startClaim", policyId=self.policy(key), noticeAccepted=notice)

    def basics(self, claim_id: str, **over: Any) -> Any:
        day = self.cx.now().date() - datetime.timedelta(days=3)
        args: dict[str, Any] = {
            "claimId": claim_id,
            "address": "上海市浦东新区世纪大道1229号",
            "incidentType": "DISEASE",
            "incidentDate": day.isoformat(),
            "claimType": "OUTPATIENT",
        }
        args.update(over)
        return self.run(BASICS, "updateClaimBasics", **args)

    def amount(self, claim_id: str, total: str = "500.00", **over: Any) -> Any:
        args: dict[str, Any] = {"claimId": claim_id, "invoiceTotal": total}
        args.update(over)
        return self.run(AMOUNT, "updateClaimAmount", **args)

    def add_document(self, claim_id: str, category: str, data: bytes | None = None) -> int:
        with self.factory() as s:
            claim = s.get(Claim, pk(claim_id))
            assert claim is not None
            stored = store_upload(self.cx.storage, data or image(), filename=f"{category}.png")
            doc = core.attach_document(s, self.cx, claim, category, stored, channel=Channel.APP)
            s.commit()
            return doc.id

    def sign(self, claim_id: str) -> None:
        with self.factory() as s:
            claim = s.get(Claim, pk(claim_id))
            assert claim is not None
            stored = store_upload(self.cx.storage, image(size=(120, 40)), filename="sig.png")
            claim.signature_key = stored.key
            claim.signed_at = self.cx.now()
            s.commit()

    def send_code(self, claim_id: str) -> str:
        self.cx.clock.advance(minutes=13)  # type: ignore[attr-defined]  # past the SMS limits
        out = self.run(SEND, "sendClaimConfirmationCode", claimId=claim_id)
        assert out["__typename"] == "SendClaimConfirmationCodeSuccess", out
        return last_sms_code(self.factory, self.members, self.phone)

    def submit(
        self, claim_id: str, code: str, key: str | None = None, *, declaration: bool = True
    ) -> Any:
        """Send the draft; `declaration` accepts the plan's 授权与声明 where it has one."""
        extra: dict[str, Any] = {}
        with self.factory() as s:
            claim = s.get(Claim, pk(claim_id))
            rules = self.cx.rules.get(claim.plan_rules) if claim is not None else None
        if declaration and rules is not None and rules.declaration is not None:
            extra["declarationVersion"] = rules.declaration.version
        return self.run(
            SUBMIT,
            "submitClaim",
            claimId=claim_id,
            smsCode=code,
            clientKey=key or str(uuid.uuid4()),
            **extra,
        )

    def ready(
        self,
        key: str = "main",
        claim_type: str = "OUTPATIENT",
        total: str = "500.00",
        **basics: Any,
    ) -> str:
        """A complete, signed draft; its global id."""
        profile = self(
            "{ claimantProfile { ... on ClaimantProfile { contactRequired payeeRequired } } }"
        )
        flags = profile["data"]["claimantProfile"]
        if flags["contactRequired"]:
            self.contact()
        started = self.start(key)
        assert started["__typename"] == "StartClaimSuccess", started
        claim_id = started["claim"]["id"]
        if key == "child":
            basics.setdefault("relationship", "CHILD")
        out = self.basics(claim_id, claimType=claim_type, **basics)
        assert out["__typename"] == "UpdateClaimBasicsSuccess", out
        extra: dict[str, Any] = {}
        if flags["payeeRequired"]:
            extra["payee"] = {"bankName": "中国建设银行", "accountNo": "6217001210019876789"}
        out = self.amount(claim_id, total, **extra)
        assert out["__typename"] == "UpdateClaimAmountSuccess", out
        rules = self.cx.rules.get("NKU-STAFF" if key == "staff" else "DEFAULT").claim_type(
            claim_type
        )
        assert rules is not None
        for category in rules.required:
            self.add_document(claim_id, category)
        self.sign(claim_id)
        return str(claim_id)

    def submitted(self, key: str = "main", **kw: Any) -> Any:
        claim_id = self.ready(key, **kw)
        out = self.submit(claim_id, self.send_code(claim_id))
        assert out["__typename"] == "SubmitClaimSuccess", out
        return out["claim"]
