"""U享赔 queries: where the member stands, the visit records, the hospital list."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.accounts.auth import client_address
from schema.accounts.errors import (
    PolicyNotFoundError,
    RealNameRequiredError,
    RetryLaterError,
    ValidationError,
)
from schema.claims.auth import claim_env, policy_pk
from schema.claims.errors import (
    HospitalRecordsUnavailableError,
    UxiangAuthorisationRequiredError,
    UxiangNotAvailableError,
)
from schema.claims.uxiang_types import (
    UxiangHospitalList,
    UxiangInfo,
    VisitRecordList,
    authorisation_node,
    hospital_list,
    text_type,
    visit_record,
)
from schema.context import Info
from schema.results import ResultUnion
from server.claims import uxiang

UxiangResult = ResultUnion(
    "UxiangResult",
    UxiangInfo,
    UxiangNotAvailableError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="U享赔 for a policy, or why it is not available.",
)

VisitRecordsResult = ResultUnion(
    "VisitRecordsResult",
    VisitRecordList,
    ValidationError,
    UxiangNotAvailableError,
    UxiangAuthorisationRequiredError,
    HospitalRecordsUnavailableError,
    RetryLaterError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="The visit records, or why not (ValidationError codes: DATE_IN_FUTURE, "
    "INVALID_PERIOD, PERIOD_TOO_LONG; RetryLaterError: UXIANG_RATE_LIMITED).",
)


@strawberry.type
class UxiangQuery:
    @strawberry.field(
        description="U享赔 for one of the member's policies: the authorisation text and the "
        "member's authorisation."
    )
    @UxiangResult.resolver
    def uxiang(
        self,
        info: Info,
        policy_id: Annotated[strawberry.ID, strawberry.argument(description="`Policy.id`.")],
    ) -> UxiangInfo:
        cx, db, account = claim_env(info)
        uxiang.eligible_policy(db, cx, account, policy_pk(policy_id))  # or why not
        latest = uxiang.latest_authorisation(db, account)
        return UxiangInfo(
            policy_id=policy_id,
            authorisation_text=text_type(),
            authorisation=authorisation_node(latest) if latest is not None else None,
            authorised=uxiang.live_authorisation(db, account) is not None,
        )

    @strawberry.field(
        description="就诊记录: the member's visits from 【起期】 to 【止期】 (at most a year, not "
        "in the future; by default the last three months), newest first, those claimed marked. "
        "Needs a live U享赔 authorisation."
    )
    @VisitRecordsResult.resolver
    def uxiang_visit_records(
        self,
        info: Info,
        policy_id: Annotated[strawberry.ID, strawberry.argument(description="`Policy.id`.")],
        start_date: Annotated[
            datetime.date | None, strawberry.argument(description="起期.")
        ] = None,
        end_date: Annotated[
            datetime.date | None, strawberry.argument(description="止期; today when null.")
        ] = None,
    ) -> VisitRecordList:
        cx, db, account = claim_env(info)
        first, last, views = uxiang.records(
            db,
            cx,
            account,
            policy_id=policy_pk(policy_id),
            start=start_date,
            end=end_date,
            client=client_address(info),
        )
        records = [visit_record(v) for v in views]
        return VisitRecordList(
            start_date=first, end_date=last, records=records, total_count=len(records)
        )

    @strawberry.field(
        description="The U享赔 hospital list (public, no sign-in); while it is being updated "
        "(待更新) it names no facility and says so."
    )
    def uxiang_hospitals(self, info: Info) -> UxiangHospitalList:
        return hospital_list(info.context.services.directory.directory)
