"""The member's claim queries: progress, one claim, drafts, plan rules, confirmation, profile.

All need `Authorization: Bearer <token>` (top-level UNAUTHENTICATED otherwise) and a
real-name verified account (RealNameRequiredError otherwise).
"""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.claims.auth import claim_env, claim_pk, policy_pk
from schema.claims.common import ClaimChannel
from schema.claims.payee_types import (
    AdministrativeDivision,
    PayeeBank,
    bank_list,
    division_list,
)
from schema.claims.types import (
    ClaimantProfile,
    ClaimantProfileResult,
    ClaimConfirmation,
    ClaimConfirmationResult,
    ClaimConnection,
    ClaimDraftList,
    ClaimDraftsResult,
    ClaimEdge,
    ClaimNode,
    ClaimResult,
    ClaimRules,
    ClaimRulesResult,
    ClaimsResult,
    ClaimStatusFilter,
    claim_node,
    claim_rules,
    confirmation_type,
    profile_type,
)
from schema.context import Info
from schema.paging import PageInfo, cursor_offset, offset_cursor
from server.claims import claimant_progress, claimant_rules, drafts


@strawberry.type
class ClaimsQuery:
    @strawberry.field(
        description="进度查询: the member's claims, newest first, filtered by status and by the "
        "query fields of the claims notice (year, period, channel, claim type). Drafts are "
        "listed by `claimDrafts`."
    )
    @ClaimsResult.resolver
    def claims(
        self,
        info: Info,
        status: Annotated[
            ClaimStatusFilter,
            strawberry.argument(description="ALL (default) or one status."),
        ] = ClaimStatusFilter.ALL,
        needs_action: Annotated[
            bool,
            strawberry.argument(
                description="问题处理: only claims waiting for documents or with problem images."
            ),
        ] = False,
        year: Annotated[
            int | None, strawberry.argument(description="申报年度: year of submission.")
        ] = None,
        submitted_from: Annotated[
            datetime.date | None,
            strawberry.argument(description="申报时段 from this China date (inclusive)."),
        ] = None,
        submitted_to: Annotated[
            datetime.date | None,
            strawberry.argument(description="申报时段 to this China date (inclusive)."),
        ] = None,
        channel: Annotated[
            ClaimChannel | None,  # type: ignore[valid-type]
            strawberry.argument(description="申报途径."),
        ] = None,
        claim_type: Annotated[
            str | None, strawberry.argument(description="申报案件类型: a claim type code.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="Continue after this cursor (`pageInfo.endCursor`)."),
        ] = None,
    ) -> ClaimConnection:
        _, db, account = claim_env(info)
        page = claimant_progress.list_claims(
            db,
            account,
            claimant_progress.ClaimQuery(
                status=status.status(),
                needs_action=needs_action,
                year=year,
                submitted_from=submitted_from,
                submitted_to=submitted_to,
                channel=channel,
                claim_type=claim_type,
                offset=cursor_offset(after),
                limit=first,
            ),
        )
        edges = [
            ClaimEdge(cursor=offset_cursor(page.offset + i), node=claim_node(c))
            for i, c in enumerate(page.claims)
        ]
        return ClaimConnection(
            edges=edges,
            page_info=PageInfo.of(edges, has_next=page.has_next),
            total_count=page.total,
        )

    @strawberry.field(description="One of the member's claims (a draft only to its author).")
    @ClaimResult.resolver
    def claim(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`Claim.id`.")],
    ) -> ClaimNode:
        _, db, account = claim_env(info)
        return claim_node(claimant_progress.claim_detail(db, account, claim_pk(id)))

    @strawberry.field(description="The member's drafts, to resume (most recently changed first).")
    @ClaimDraftsResult.resolver
    def claim_drafts(self, info: Info) -> ClaimDraftList:
        _, db, account = claim_env(info)
        return ClaimDraftList(drafts=[claim_node(c) for c in drafts.drafts(db, account)])

    @strawberry.field(
        description="The claim rules of a policy's plan: claim types with amount bands and "
        "documents, the online limit for its insured person, office-only cases, and who the "
        "member may claim for."
    )
    @ClaimRulesResult.resolver
    def claim_rules(
        self,
        info: Info,
        policy_id: Annotated[strawberry.ID, strawberry.argument(description="`Policy.id`.")],
    ) -> ClaimRules:
        cx, db, account = claim_env(info)
        view = claimant_rules.rules_view(db, cx, account, policy_pk(policy_id))
        return claim_rules(info, view)

    @strawberry.field(
        description="确认材料: what a draft will submit, masked, and every rule that would "
        "refuse it now."
    )
    @ClaimConfirmationResult.resolver
    def claim_confirmation(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The draft's `Claim.id`.")],
    ) -> ClaimConfirmation:
        cx, db, account = claim_env(info)
        return confirmation_type(drafts.confirmation(db, cx, account, claim_pk(id)))

    @strawberry.field(
        description="What is on file for the next claim: contact details and payee, masked."
    )
    @ClaimantProfileResult.resolver
    def claimant_profile(self, info: Info) -> ClaimantProfile:
        cx, db, account = claim_env(info)
        contact = drafts.claimant_contact(db, cx, account)
        return profile_type(contact, lambda: drafts.payee_on_file(db, cx, account))

    @strawberry.field(
        description="The banks a payee's account can be at, by CNAPS code (public, no sign-in)."
    )
    def payee_banks(self) -> list[PayeeBank]:
        return bank_list()

    @strawberry.field(
        description="Mainland administrative divisions: provinces (no parentCode), a "
        "province's cities, or a city's districts (public, no sign-in)."
    )
    def administrative_divisions(
        self,
        parent_code: Annotated[
            str | None, strawberry.argument(description="A province's or city's `code`.")
        ] = None,
    ) -> list[AdministrativeDivision]:
        return division_list(parent_code)
