from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import client_address, current_session
from schema.accounts.errors import (
    PolicyNotFoundError,
    RealNameRequiredError,
    RetryLaterError,
    ValidationError,
)
from schema.claims.auth import claim_env, payee_pk, policy_pk
from schema.claims.errors import (
    ClaimRuleError,
    HospitalRecordsUnavailableError,
    PayeeNotFoundError,
    UxiangAuthorisationRequiredError,
    UxiangNotAvailableError,
    UxiangRecordClaimedError,
    UxiangRecordNotFoundError,
)
from schema.claims.types import ClaimNode, claim_node
from schema.claims.uxiang_inputs import ClaimFromUxiangRecordInput
from schema.context import Info
from schema.results import ResultUnion
from server.claims import uxiang
from server.claims.models import Channel


@strawberry.type(
    description="A claims draft prefilled from the record (date, hospital, claim type, amount, "
    "invoice number, payee; the record as a PDF among the documents). Continue as with any "
    "draft: the other documents, signature, SMS code, submitClaim."
)
class ClaimFromUxiangRecordSuccess:
    claim: ClaimNode = strawberry.field(description="The new draft.")


ClaimFromUxiangRecordPayload = ResultUnion(
    "ClaimFromUxiangRecordPayload",
    ClaimFromUxiangRecordSuccess,
    ValidationError,
    ClaimRuleError,
    UxiangNotAvailableError,
    UxiangAuthorisationRequiredError,
    UxiangRecordNotFoundError,
    UxiangRecordClaimedError,
    HospitalRecordsUnavailableError,
    PayeeNotFoundError,
    RetryLaterError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of claimFromUxiangRecord (ClaimRuleError: NOTICE_NOT_ACCEPTED, "
    "CONTACT_REQUIRED, PAYEE_REQUIRED, AMOUNT_OVER_LIMIT and the other rules of the steps; "
    "RetryLaterError: UXIANG_RATE_LIMITED).",
)


@ClaimFromUxiangRecordPayload.resolver
def claim_from_uxiang_record(
    info: Info,
    input: Annotated[ClaimFromUxiangRecordInput, strawberry.argument(description="The record.")],
) -> ClaimFromUxiangRecordSuccess:
    cx, db, account = claim_env(info)
    wechat = current_session(info).channel == "wechat"
    claim = uxiang.claim_from_record(
        db,
        cx,
        account,
        policy_id=policy_pk(input.policy_id),
        record_id=str(input.record_id),
        notice_accepted=input.notice_accepted,
        payee_id=payee_pk(input.payee_id) if input.payee_id is not None else None,
        client=client_address(info),
        channel=Channel.WECHAT if wechat else Channel.APP,
    )
    return ClaimFromUxiangRecordSuccess(claim=claim_node(claim))
