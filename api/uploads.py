"""One way to take files over HTTP, for every upload endpoint beside the GraphQL API.

An upload request runs in three steps, and `take_files` keeps their order and their
failure rules the same for claims, paper claims, pre-authorisations, documents asked on
service requests, U享赔 signatures and changes of personal details:

1. `target(db)`, in a worker thread, before any byte of the body is read: who is asking
   and what they may send (a refusal commits first, so that the sign-in session's activity
   counts; a target commits what it holds, so no connection waits on the client's body);
2. the body, streamed to storage part by part (api/multipart.py) within `limits(target)`:
   how many files, how large each, which types, and the quota of what the subject holds;
3. `save(db, target, stored)`, in a worker thread: records them and commits, and answers.

Anything refused after files were stored (a limit, a domain error, the client gone)
removes those files again; the answer is `{"error": {"code", "message", "field"}}` with
the status `error` gives it (api/claim_uploads.py's table by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from api.multipart import ALL_TYPES, NoFile, UploadForm, discard, receive_files
from server.accounts.errors import Unauthenticated
from server.accounts.models import Account
from server.db import write_first
from server.errors import DomainError, InvalidInput
from server.services import Services
from server.sessions import LiveSession, bearer_token
from server.storage.backend import Storage
from server.storage.errors import UploadError
from server.storage.uploads import StoredUpload, check_quota

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FileLimits:
    """What one upload request may carry."""

    max_files: int
    max_bytes: int
    allowed: frozenset[str] = ALL_TYPES
    # the subject's quota: bytes it holds already, and the most it may hold (None: no quota)
    used_bytes: int = 0
    cap_bytes: int | None = None


def category_param(request: Request, hint: str = "`?category=CODE`") -> str:
    """The `category` query parameter, or INVALID_INPUT naming what to send."""
    category = request.query_params.get("category", "").strip()
    if not category:
        raise InvalidInput(f"Say which category the files are: {hint}.", field="category")
    return category


def member_account(
    services: Services, db: Session, request: Request, *, verified: bool = True
) -> tuple[Account, LiveSession]:
    """The member the bearer token signs in (real-name verified unless `verified=False`).

    Takes the write lock first (the session's idle clock may move), so that a refusal's
    commit and the later writes do not race other writers on SQLite."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    assert services.members is not None
    write_first(db)
    account, session = services.members.accounts.authenticate_session(db, token)
    if verified:
        services.members.identity.require_verified(account)
    return account, session


def before_streaming(db: Session, check: Callable[[], T]) -> T:
    """`check` then, when it refuses, commit: the sign-in session's activity counts."""
    try:
        return check()
    except DomainError:
        db.commit()
        raise


async def take_files(
    request: Request,
    make_db: sessionmaker[Session],
    storage: Storage,
    *,
    target: Callable[[Session], T],
    limits: Callable[[T], FileLimits],
    save: Callable[[Session, T, list[StoredUpload]], Response],
    no_file: str = "Attach at least one file in a part named `file`.",
    error: Callable[[DomainError], Response],
) -> Response:
    """Steps 1-3 above; the database session is opened and closed here."""
    db = make_db()
    form: UploadForm | None = None
    committed = False
    try:
        subject = await run_in_threadpool(before_streaming, db, lambda: target(db))
        allowed = limits(subject)
        form = receive_files(
            request,
            storage,
            max_files=allowed.max_files,
            max_bytes=allowed.max_bytes,
            allowed=allowed.allowed,
        )
        total = 0
        async with form:
            async for _field, result in form:
                if isinstance(result, UploadError):
                    raise result
                if allowed.cap_bytes is not None:
                    check_quota(allowed.used_bytes + total, result.size, allowed.cap_bytes)
                total += result.size
        if not form.stored:
            raise NoFile(no_file)
        response = await run_in_threadpool(save, db, subject, form.stored)
        committed = True
        return response
    except DomainError as e:
        db.rollback()
        return error(e)
    except ClientDisconnect:
        db.rollback()
        return Response(status_code=400)
    finally:
        if form is not None and not committed:
            await discard(storage, form.stored)
        db.close()
