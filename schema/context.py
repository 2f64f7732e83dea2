"""The typed context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from server.accounts.models import Account
    from server.services import Services
    from server.sessions import LiveSession


@dataclass
class Context:
    request: Request
    response: Response
    services: Services
    # the request's database session (see server/app.py); None when no database is configured
    db: Session | None = None
    # the signed-in account and its session, once a resolver has authenticated the request
    account: Account | None = None
    session: LiveSession | None = None
    # root fields refused by a limit (server.errors.RetryLater): response key -> seconds to
    # wait; the HTTP layer answers 429 when every root field is one of them
    retry_after: dict[str, int] = field(default_factory=dict)


Info: TypeAlias = strawberry.Info[Context, None]
