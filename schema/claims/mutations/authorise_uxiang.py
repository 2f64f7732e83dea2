from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import client_address, current_session
from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError, ValidationError
from schema.claims.auth import claim_env, policy_pk
from schema.claims.errors import UxiangNotAvailableError
from schema.claims.uxiang_inputs import AuthoriseUxiangInput
from schema.claims.uxiang_types import UxiangAuthorisationNode, authorisation_node
from schema.context import Info
from schema.results import ResultUnion
from server.claims import uxiang
from server.claims.models import Channel


@strawberry.type(
    description="Ticked and recorded; upload the signature to `signatureUploadPath` (签名授权)."
)
class AuthoriseUxiangSuccess:
    authorisation: UxiangAuthorisationNode = strawberry.field(
        description="The authorisation, live once signed."
    )
    signature_upload_path: str = strawberry.field(
        description="POST the signature image here (multipart, part `file`, PNG or JPEG)."
    )


AuthoriseUxiangPayload = ResultUnion(
    "AuthoriseUxiangPayload",
    AuthoriseUxiangSuccess,
    ValidationError,
    UxiangNotAvailableError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of authoriseUxiang (ValidationError codes: AUTHORISATION_NOT_ACCEPTED, "
    "AUTHORISATION_VERSION_OUTDATED).",
)


@AuthoriseUxiangPayload.resolver
def authorise_uxiang(
    info: Info,
    input: Annotated[AuthoriseUxiangInput, strawberry.argument(description="The ticked text.")],
) -> AuthoriseUxiangSuccess:
    cx, db, account = claim_env(info)
    wechat = current_session(info).channel == "wechat"
    row = uxiang.authorise(
        db,
        cx,
        account,
        policy_id=policy_pk(input.policy_id),
        accepted=input.accepted,
        version=input.version,
        client=uxiang.Client(
            address=client_address(info),
            user_agent=info.context.request.headers.get("user-agent"),
            channel=Channel.WECHAT if wechat else Channel.APP,
        ),
    )
    node = authorisation_node(row)
    return AuthoriseUxiangSuccess(
        authorisation=node,
        signature_upload_path=f"/api/uxiang/authorisations/{row.id}/signature",
    )
