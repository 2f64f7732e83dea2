from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import RealNameRequiredError, RetryLaterError
from schema.claims.auth import claim_env, payee_pk
from schema.claims.errors import PayeeInUseError, PayeeNotFoundError
from schema.claims.inputs import RemovePayeeInput
from schema.claims.payee_types import PayeeList, payee_list
from schema.context import Info
from schema.results import ResultUnion
from server.claims import payees


@strawberry.type(description="The payee is off the list (claims paid to it still show it).")
class RemovePayeeSuccess:
    remaining: PayeeList = strawberry.field(description="The member's payees now.")


RemovePayeePayload = ResultUnion(
    "RemovePayeePayload",
    RemovePayeeSuccess,
    PayeeNotFoundError,
    PayeeInUseError,
    RealNameRequiredError,
    RetryLaterError,
    description="Result of removePayee.",
)


@RemovePayeePayload.resolver
def remove_payee(
    info: Info,
    input: Annotated[RemovePayeeInput, strawberry.argument(description="The payee.")],
) -> RemovePayeeSuccess:
    cx, db, account = claim_env(info)
    payees.remove_payee(db, cx, account, payee_pk(input.payee_id))
    return RemovePayeeSuccess(remaining=payee_list(info))
