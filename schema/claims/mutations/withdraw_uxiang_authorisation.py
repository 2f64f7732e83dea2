from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError
from schema.claims.auth import claim_env
from schema.claims.errors import UxiangAuthorisationNotFoundError
from schema.claims.uxiang_inputs import WithdrawUxiangAuthorisationInput
from schema.claims.uxiang_types import UxiangAuthorisationNode, authorisation_node
from schema.context import Info
from schema.ids import database_id
from schema.results import ResultUnion
from server.claims import uxiang
from server.claims.errors import UxiangAuthorisationNotFound


@strawberry.type(
    description="Withdrawn: nothing more is fetched under it; claims made already stay."
)
class WithdrawUxiangAuthorisationSuccess:
    authorisation: UxiangAuthorisationNode = strawberry.field(
        description="The authorisation, no longer live."
    )


WithdrawUxiangAuthorisationPayload = ResultUnion(
    "WithdrawUxiangAuthorisationPayload",
    WithdrawUxiangAuthorisationSuccess,
    UxiangAuthorisationNotFoundError,
    RealNameRequiredError,
    description="Result of withdrawUxiangAuthorisation.",
)


@WithdrawUxiangAuthorisationPayload.resolver
def withdraw_uxiang_authorisation(
    info: Info,
    input: Annotated[
        WithdrawUxiangAuthorisationInput, strawberry.argument(description="The authorisation.")
    ],
) -> WithdrawUxiangAuthorisationSuccess:
    cx, db, account = claim_env(info)
    pk = database_id(input.authorisation_id, "UxiangAuthorisation")
    if pk is None:
        raise UxiangAuthorisationNotFound("No such U享赔 authorisation among yours.")
    row = uxiang.withdraw(db, cx, account, pk)
    return WithdrawUxiangAuthorisationSuccess(authorisation=authorisation_node(row))
