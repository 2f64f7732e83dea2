"""Adjuster accounts: created by a script, signed in with username and password.

Adjusters are a role apart from members: their sessions are of their own kind
(server/sessions.py), so a member's token never opens the back office and an adjuster's
token never acts as a member. Log-in tries are throttled as for members
(server/accounts/throttle.py: a short wait after 3, a lock after 5) and failures never
say whether the username or the password was wrong.
"""

from __future__ import annotations

import datetime
import re
import string
from dataclasses import dataclass

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import passwords
from server.accounts.errors import LoginFailed
from server.accounts.throttle import forget_tries, start_login
from server.accounts.validation import COMMON_PASSWORDS
from server.claims.core import ClaimContext
from server.claims.errors import AdjusterUnauthenticated
from server.claims.models import Adjuster
from server.crypto import Vault
from server.errors import DomainError, FieldProblem, ValidationFailed
from server.sessions import LiveSession, SessionKind

_hasher = passwords.hasher

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,59}$")
EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
_SYMBOLS = set(string.punctuation)

CHANNEL = "back-office"  # the sessions' channel
ADJUSTER = "adjuster"  # the claims desk
COORDINATOR = "coordinator"  # the direct-billing desk (server/billing/desk.py)
ROLES = (ADJUSTER, COORDINATOR)
DEMO_USERNAME = "adjuster"
DEMO_PASSWORD = "Demo2026!"
DEMO_EMAIL = "claims.adjuster@example.com"


class AdjusterExists(DomainError):
    code = "ADJUSTER_EXISTS"


@dataclass(frozen=True, slots=True)
class AdjusterSignIn:
    adjuster: Adjuster
    token: str
    expires_at: datetime.datetime


# --- accounts ---------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    return username.strip().lower()


def password_problem(value: str, field: str = "password") -> FieldProblem | None:
    """Back-office passwords: 8 to 128 characters with letters, digits and symbols.

    Longer than a member's allowed maximum (a password manager's output fits), and all
    three kinds of character, since one adjuster opens every claim.
    """
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        return FieldProblem(
            field,
            f"The password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters.",
            "PASSWORD_LENGTH",
        )
    if any(not (c.isascii() and (c.isalnum() or c in _SYMBOLS)) for c in value):
        return FieldProblem(
            field, "Use only letters, digits and symbols (no spaces).", "PASSWORD_CHARACTERS"
        )
    has_letter = any(c.isascii() and c.isalpha() for c in value)
    has_digit = any(c.isascii() and c.isdigit() for c in value)
    has_symbol = any(c in _SYMBOLS for c in value)
    if not (has_letter and has_digit and has_symbol):
        return FieldProblem(
            field, "Use letters, digits and symbols together.", "PASSWORD_TOO_SIMPLE"
        )
    if value.lower() in COMMON_PASSWORDS:
        return FieldProblem(
            field, "This password is too common; choose another.", "PASSWORD_COMMON"
        )
    return None


def _problems(username: str, name: str, email: str, password: str) -> list[FieldProblem]:
    found: list[FieldProblem] = []
    if not USERNAME.match(username):
        found.append(
            FieldProblem(
                "username",
                "3 to 60 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter.",
                "INVALID_USERNAME",
            )
        )
    if not name.strip() or len(name.strip()) > 100:
        found.append(FieldProblem("name", "Give a name of 1 to 100 characters.", "INVALID_NAME"))
    if email and (len(email) > 254 or not EMAIL.match(email)):
        found.append(FieldProblem("email", "This is not an e-mail address.", "INVALID_EMAIL"))
    problem = password_problem(password)
    if problem is not None:
        found.append(problem)
    return found


def create_adjuster(
    db: Session,
    vault: Vault,
    *,
    username: str,
    name: str,
    email: str,
    password: str,
    now: datetime.datetime,
    role: str = ADJUSTER,
) -> Adjuster:
    """A new active adjuster (or coordinator: `role`); the e-mail (where supplement
    arrivals go) is kept encrypted."""
    username = normalise_username(username)
    email = email.strip()
    problems = _problems(username, name, email, password)
    if role not in ROLES:
        problems.append(FieldProblem("role", f"One of {', '.join(ROLES)}.", "INVALID_ROLE"))
    if problems:
        raise ValidationFailed(problems)
    if db.scalar(select(Adjuster.id).where(Adjuster.username == username)) is not None:
        raise AdjusterExists(f"The username {username!r} is taken.", field="username")
    adjuster = Adjuster(
        username=username,
        display_name_enc=vault.encrypt(name.strip()),
        email_enc=vault.encrypt(email) if email else None,
        password_hash=_hasher.hash(password),
        active=True,
        created_at=now,
        role=role,
    )
    db.add(adjuster)
    db.flush()
    return adjuster


def email_of(vault: Vault, adjuster: Adjuster) -> str | None:
    return vault.decrypt(adjuster.email_enc) if adjuster.email_enc else None


def deactivate(db: Session, cx: ClaimContext, adjuster: Adjuster) -> None:
    """Someone who left: no log-in, and every open session ends now."""
    adjuster.active = False
    cx.sessions.end_all(db, SessionKind.ADJUSTER, adjuster.id)


def load_demo_adjuster(
    db: Session, vault: Vault, *, now: datetime.datetime | None = None
) -> tuple[str, str, str]:
    """The development adjuster (adjuster / Demo2026!); a second call finds it.

    Returns the (username, password, who) line the demo loader prints. Never for
    production: the password is public.
    """
    if db.scalar(select(Adjuster.id).where(Adjuster.username == DEMO_USERNAME)) is None:
        create_adjuster(
            db,
            vault,
            username=DEMO_USERNAME,
            name="演示审核员",
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            now=now or datetime.datetime.now(datetime.UTC),
        )
    return (DEMO_USERNAME, DEMO_PASSWORD, "claims adjuster (back office: adjusterLogIn)")


# --- log-in and sessions ---------------------------------------------------------------------


def _throttle_key(vault: Vault, username: str) -> str:
    # the members' log-in policy, under a key kind of its own: no phone hash can equal it
    return vault.lookup(username, kind="adjuster-login")


def log_in(
    db: Session,
    cx: ClaimContext,
    *,
    username: str,
    password: str,
    previous_token: str | None = None,
) -> AdjusterSignIn:
    """A new session for a right username and password of an active adjuster.

    Raises LoginFailed for anything wrong (unknown user, wrong password, deactivated),
    LoginLocked while a run of failures must be waited out.
    """
    name = normalise_username(username)
    key = _throttle_key(cx.vault, name)
    start_login(cx.limiter, db, key, locked_message="Too many failed log-ins; try again later.")
    adjuster = (
        db.scalar(select(Adjuster).where(Adjuster.username == name))
        if len(name) <= 60 and len(password) <= PASSWORD_MAX
        else None
    )
    ok = False
    try:
        # the dummy hash keeps an unknown username as slow as a wrong password
        ok = _hasher.verify(
            adjuster.password_hash if adjuster else passwords.dummy_hash(), password
        )
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or adjuster is None or not adjuster.active:
        raise LoginFailed("The username or password is wrong.")
    forget_tries(cx.limiter, db, key)
    if _hasher.check_needs_rehash(adjuster.password_hash):
        adjuster.password_hash = _hasher.hash(password)
    # rotation: the token sent along (the one held so far) stops working
    issued = cx.sessions.start(
        db, SessionKind.ADJUSTER, adjuster.id, channel=CHANNEL, replacing=previous_token
    )
    return AdjusterSignIn(adjuster, issued.token, issued.expires_at)


def authenticate_session(db: Session, cx: ClaimContext, token: str) -> tuple[Adjuster, LiveSession]:
    """The active adjuster a session token belongs to, and the session (signed links name
    it); idle and absolute expiry both apply."""
    session = cx.sessions.authenticate(db, SessionKind.ADJUSTER, token)
    adjuster = db.get(Adjuster, session.subject_id) if session is not None else None
    if session is None or adjuster is None or not adjuster.active:
        raise AdjusterUnauthenticated("Sign in again: the adjuster session has ended.")
    return adjuster, session


def authenticate(db: Session, cx: ClaimContext, token: str) -> Adjuster:
    return authenticate_session(db, cx, token)[0]


def log_out(db: Session, cx: ClaimContext, token: str) -> None:
    cx.sessions.end(db, SessionKind.ADJUSTER, token)
