from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import (
    PolicyNotFoundError,
    RealNameRequiredError,
    RetryLaterError,
    ValidationError,
)
from schema.claims.auth import claim_env, policy_pk
from schema.claims.errors import PreAuthNotAvailableError
from schema.claims.inputs import StartPreAuthorisationInput
from schema.claims.preauth_types import PreAuthType, preauth_type
from schema.context import Info
from schema.results import ResultUnion
from server.claims import preauth


@strawberry.type(
    description="The draft is saved; upload the files to "
    "POST /api/pre-authorisations/{id}/documents?category=APPLICATION_FORM|MEDICAL_RECORD."
)
class StartPreAuthorisationSuccess:
    pre_authorisation: PreAuthType = strawberry.field(description="The draft.")


StartPreAuthorisationPayload = ResultUnion(
    "StartPreAuthorisationPayload",
    StartPreAuthorisationSuccess,
    ValidationError,
    PreAuthNotAvailableError,
    PolicyNotFoundError,
    RealNameRequiredError,
    RetryLaterError,
    description="Result of startPreAuthorisation (ValidationError codes: NOTICE_NOT_ACCEPTED, NOTICE_OUTDATED, "
    "POLICY_NOT_IN_FORCE, UNKNOWN_FACILITY, VISIT_DATE_OUT_OF_RANGE, REQUIRED, and the "
    "applicant's: INVALID_NAME, INVALID_MOBILE, INVALID_EMAIL, INVALID_ID_NUMBER, INVALID_RELATION).",
)


@StartPreAuthorisationPayload.resolver
def start_pre_authorisation(
    info: Info,
    input: Annotated[StartPreAuthorisationInput, strawberry.argument(description="Steps 2-4.")],
) -> StartPreAuthorisationSuccess:
    cx, db, account = claim_env(info)
    directory = info.context.services.directory.directory

    def name_of(facility_id: str) -> str | None:
        facility = directory.get(facility_id)
        return facility.name_zh if facility is not None else None

    a = input.applicant
    row = preauth.start(
        db,
        cx,
        account,
        policy_id=policy_pk(input.policy_id),
        notice_accepted=input.notice_accepted,
        facility_id=input.facility_id,
        facility_name_of=name_of,
        visit_date=input.visit_date,
        items=input.items,
        applicant=preauth.Applicant(
            name=a.name,
            relation=a.relation,
            mobile=a.mobile,
            email=a.email,
            id_type=a.id_type,
            id_number=a.id_number,
            address=a.address,
        )
        if a is not None
        else None,
        notice_version=input.notice_version,
    )
    return StartPreAuthorisationSuccess(pre_authorisation=preauth_type(row))
