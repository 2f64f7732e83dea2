"""The back office's mutations, one module each."""

from __future__ import annotations

import strawberry

from schema.adjusters.mutations.adjuster_log_in import adjuster_log_in
from schema.adjusters.mutations.adjuster_log_out import adjuster_log_out
from schema.adjusters.mutations.decide_personal_details_change import (
    approve_personal_details_change,
    reject_personal_details_change,
)
from schema.adjusters.mutations.decide_pre_authorisation import (
    approve_pre_authorisation,
    decline_pre_authorisation,
    request_pre_authorisation_more,
)
from schema.adjusters.mutations.mark_problem_images import mark_problem_images
from schema.adjusters.mutations.paper_claims import enter_paper_claim, send_paper_claim
from schema.adjusters.mutations.raise_claim_limit import raise_claim_limit
from schema.adjusters.mutations.record_claim_payment import record_claim_payment
from schema.adjusters.mutations.reject_claim import reject_claim
from schema.adjusters.mutations.request_claim_supplement import request_claim_supplement
from schema.adjusters.mutations.settle_claim import settle_claim
from schema.adjusters.mutations.start_claim_review import start_claim_review


@strawberry.type
class AdjusterMutation:
    adjuster_log_in = strawberry.mutation(
        resolver=adjuster_log_in,
        description="Sign in to the back office (adjusters are created by the claims department).",
    )
    adjuster_log_out = strawberry.mutation(
        resolver=adjuster_log_out, description="End the adjuster's current session."
    )
    start_claim_review = strawberry.mutation(
        resolver=start_claim_review, description="Take a submitted claim into review (审核中)."
    )
    request_claim_supplement = strawberry.mutation(
        resolver=request_claim_supplement,
        description="Ask for missing documents (补材): the claim waits for them, and the SMS and "
        "e-mail with the H5 link and a 2-working-day deadline go out.",
    )
    mark_problem_images = strawberry.mutation(
        resolver=mark_problem_images,
        description="Mark problem images (问题影像) with reasons the claimant sees.",
    )
    settle_claim = strawberry.mutation(
        resolver=settle_claim, description="Settle (结案) with the amounts of the notice."
    )
    reject_claim = strawberry.mutation(
        resolver=reject_claim, description="Reject (拒赔) with the reason the claimant sees."
    )
    record_claim_payment = strawberry.mutation(
        resolver=record_claim_payment,
        description="Record the payment of a settled claim (amount, day, bank reference): the "
        "claim is PAID and the claimant told.",
    )
    enter_paper_claim = strawberry.mutation(
        resolver=enter_paper_claim,
        description="Enter a claim received on paper (线下申请) for a policy's insured person, "
        "who needs no app account; its documents are uploaded next.",
    )
    send_paper_claim = strawberry.mutation(
        resolver=send_paper_claim,
        description="Send a paper claim into the review queue: it gets its VSHH number and the "
        "claimant is told by SMS and e-mail.",
    )
    raise_claim_limit = strawberry.mutation(
        resolver=raise_claim_limit,
        description="Raise one insured person's online claim limit.",
    )
    approve_pre_authorisation = strawberry.mutation(
        resolver=approve_pre_authorisation,
        description="预先授权: approve with the items, amount and validity dates.",
    )
    decline_pre_authorisation = strawberry.mutation(
        resolver=decline_pre_authorisation, description="预先授权: decline with the reason."
    )
    request_pre_authorisation_more = strawberry.mutation(
        resolver=request_pre_authorisation_more,
        description="预先授权: ask the member for more files, due in 2 working days.",
    )
    approve_personal_details_change = strawberry.mutation(
        resolver=approve_personal_details_change,
        description="客户信息变更: approve; applied at once to the account, the insured person "
        "and the real-name identity, audited, and the member told.",
    )
    reject_personal_details_change = strawberry.mutation(
        resolver=reject_personal_details_change,
        description="客户信息变更: reject with the reason the member sees.",
    )
