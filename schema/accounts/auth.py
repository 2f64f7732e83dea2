"""Who is calling: the bearer token of the request, checked against the sessions table."""

from __future__ import annotations

from sqlalchemy.orm import Session

from schema.context import Info
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.sessions import LiveSession
from server.sessions import bearer_token as parse_bearer


def members(info: Info) -> tuple[MemberServices, Session]:
    services = info.context.services
    if services.members is None or info.context.db is None:
        raise Unauthenticated("Accounts are not available on this server.")
    return services.members, info.context.db


def bearer_token(info: Info) -> str | None:
    return parse_bearer(info.context.request.headers.get("authorization"))


def client_address(info: Info) -> str | None:
    """The caller's address as Starlette has it (uvicorn --proxy-headers puts the forwarded
    address there behind the proxy)."""
    client = info.context.request.client
    return client.host if client is not None else None


def current_account(info: Info) -> Account:
    """The signed-in account, or a top-level UNAUTHENTICATED error."""
    if info.context.account is not None:
        return info.context.account
    m, db = members(info)
    token = bearer_token(info)
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    # the session the API budget looked up for this request, if it had to (schema/budget.py)
    opened = getattr(info.context.request.state, "opened_session", None)
    account, session = m.accounts.adopt_session(db, token, opened)
    info.context.account, info.context.session = account, session
    return account


def current_session(info: Info) -> LiveSession:
    """The signed-in member's session (signed links are bound to it)."""
    current_account(info)
    assert info.context.session is not None
    return info.context.session
