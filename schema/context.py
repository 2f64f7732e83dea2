"""The typed context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
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


Info: TypeAlias = strawberry.Info[Context, None]
