from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_session
from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError
from schema.claims.auth import claim_env, policy_pk
from schema.claims.errors import ClaimRuleError
from schema.claims.inputs import StartClaimInput
from schema.claims.types import ClaimNode, claim_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import drafts
from server.claims.models import Channel


@strawberry.type(description="The draft is created; continue with updateClaimBasics.")
class StartClaimSuccess:
    claim: ClaimNode = strawberry.field(description="The new draft.")


StartClaimPayload = ResultUnion(
    "StartClaimPayload",
    StartClaimSuccess,
    ClaimRuleError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of startClaim (ClaimRuleError: NOTICE_NOT_ACCEPTED, CONTACT_REQUIRED, "
    "ADULT_DEPENDANT, NOT_INSURED_PERSON, POLICY_NOT_IN_FORCE).",
)


@StartClaimPayload.resolver
def start_claim(
    info: Info,
    input: Annotated[StartClaimInput, strawberry.argument(description="Notice and policy.")],
) -> StartClaimSuccess:
    cx, db, account = claim_env(info)
    # a claim made from the WeChat mini-program is recorded as such (申报途径)
    session = current_session(info)
    claim = drafts.start_draft(
        db,
        cx,
        account,
        policy_id=policy_pk(input.policy_id),
        notice_accepted=input.notice_accepted,
        channel=Channel.WECHAT if session.channel == "wechat" else Channel.APP,
    )
    return StartClaimSuccess(claim=claim_node(claim))
