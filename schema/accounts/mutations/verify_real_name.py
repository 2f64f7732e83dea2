from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.errors import (
    AlreadyVerifiedError,
    IdentityNotInsuredError,
    IdentityTakenError,
    ValidationError,
    error_payload,
)
from schema.accounts.inputs import VerifyRealNameInput
from schema.accounts.types import Viewer
from schema.context import Info
from server.errors import DomainError


@strawberry.type(description="Verified: insurance features are open.")
class VerifyRealNameSuccess:
    viewer: Viewer = strawberry.field(description="The member, now verified.")


VerifyRealNamePayload = Annotated[
    VerifyRealNameSuccess
    | ValidationError
    | IdentityNotInsuredError
    | IdentityTakenError
    | AlreadyVerifiedError,
    strawberry.union("VerifyRealNamePayload", description="Result of verifyRealName."),
]
_ERRORS = (ValidationError, IdentityNotInsuredError, IdentityTakenError, AlreadyVerifiedError)


def verify_real_name(
    info: Info,
    input: Annotated[
        VerifyRealNameInput, strawberry.argument(description="The identity document.")
    ],
) -> VerifyRealNamePayload:
    m, db = members(info)
    account = current_account(info)
    try:
        m.identity.verify_real_name(
            db,
            account,
            id_type=input.id_type,
            name=input.name,
            id_number=input.id_number,
            valid_from=input.valid_from,
            valid_to=input.valid_to,
        )
    except DomainError as e:
        return error_payload(e, _ERRORS)  # type: ignore[return-value]
    db.refresh(account)
    return VerifyRealNameSuccess(viewer=Viewer(account=account))
