"""Inputs of U享赔's mutations."""

from __future__ import annotations

import strawberry


@strawberry.input(description="勾选 U享赔客户授权书 for one of the member's policies.")
class AuthoriseUxiangInput:
    policy_id: strawberry.ID = strawberry.field(
        description="The member's own group policy with medical cover."
    )
    accepted: bool = strawberry.field(description="The member ticked the authorisation.")
    version: str = strawberry.field(
        description="`uxiang.authorisationText.version`: the text the member read."
    )


@strawberry.input(description="Open a claims draft from a visit record.")
class ClaimFromUxiangRecordInput:
    policy_id: strawberry.ID = strawberry.field(description="The policy the records came with.")
    record_id: strawberry.ID = strawberry.field(description="`VisitRecord.recordId`.")
    notice_accepted: bool = strawberry.field(
        description="The claimant ticked 《理赔申请须知》 (the claim notice)."
    )
    payee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A saved payee (`viewer.payees`) to pay; when null the account on file.",
    )


@strawberry.input(description="撤回授权: withdraw a U享赔 authorisation.")
class WithdrawUxiangAuthorisationInput:
    authorisation_id: strawberry.ID = strawberry.field(description="`UxiangAuthorisation.id`.")
