"""The message centre's and the language's mutations, one module each."""

from __future__ import annotations

import strawberry

from schema.messages.mutations.mark_messages_read import mark_messages_read
from schema.messages.mutations.set_preferred_language import set_preferred_language


@strawberry.type
class MessagesMutation:
    set_preferred_language = strawberry.mutation(
        resolver=set_preferred_language,
        description="Choose the language (ZH or EN) of SMS, e-mail, in-app messages and H5 links.",
    )
    mark_messages_read = strawberry.mutation(
        resolver=mark_messages_read,
        description="Mark messages of the message centre read: some by id, or all.",
    )
