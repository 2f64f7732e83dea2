from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.auth import current_account, members
from schema.accounts.errors import ValidationError
from schema.accounts.types import Viewer
from schema.context import Info
from schema.messages.types import Language
from schema.results import ResultUnion


@strawberry.input(description="The member's language.")
class SetPreferredLanguageInput:
    language: Language = strawberry.field(
        description="ZH or EN: SMS, e-mail, in-app messages and the H5 links they carry."
    )


@strawberry.type(description="The language is saved; messages from now on use it.")
class SetPreferredLanguageSuccess:
    viewer: Viewer = strawberry.field(description="The member.")


SetPreferredLanguagePayload = ResultUnion(
    "SetPreferredLanguagePayload",
    SetPreferredLanguageSuccess,
    ValidationError,
    description="Result of setPreferredLanguage.",
)


@SetPreferredLanguagePayload.resolver
def set_preferred_language(
    info: Info,
    input: Annotated[SetPreferredLanguageInput, strawberry.argument(description="The language.")],
) -> SetPreferredLanguageSuccess:
    _, db = members(info)
    account = current_account(info)
    account.preferred_language = input.language.value
    db.flush()
    return SetPreferredLanguageSuccess(viewer=Viewer(account=account))
