"""Sign-up, log-in, sessions and password reset. Services take a session and know no HTTP."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import passwords
from server.accounts.errors import AccountExists, LoginFailed, SmsCodeInvalid, Unauthenticated
from server.accounts.models import Account
from server.accounts.sms_codes import ACCOUNT_BOUND, FLOW_ONLY, Purpose, SentCode, SmsCodes
from server.accounts.throttle import forget_tries, start_login
from server.accounts.validation import (
    mobile_problem,
    normalise_mobile,
    password_problem,
    sms_code_problem,
)
from server.clock import Clock
from server.crypto import Vault
from server.errors import FieldProblem, ValidationFailed
from server.limits import Limiter
from server.sessions import Lifetime, LiveSession, Opened, SessionKind, SessionStore

# argon2id with the library's defaults (RFC 9106 low-memory profile)
_hasher = passwords.hasher


@dataclass(frozen=True, slots=True)
class SignIn:
    account: Account
    token: str
    expires_at: datetime.datetime


def _check(*problems: FieldProblem | None) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise ValidationFailed(found)


class AccountsService:
    def __init__(
        self,
        vault: Vault,
        codes: SmsCodes,
        clock: Clock,
        *,
        limiter: Limiter,
        idle: datetime.timedelta = datetime.timedelta(minutes=30),
        absolute: datetime.timedelta = datetime.timedelta(hours=12),
    ) -> None:
        self.vault = vault
        self.codes = codes
        self.clock = clock
        self.limiter = limiter
        self.sessions = SessionStore(clock, Lifetime(idle, absolute))

    # --- look-ups -------------------------------------------------------------------------

    def phone_hash(self, phone: str) -> str:
        return self.vault.lookup(phone, kind="phone")

    def find_by_phone(self, db: Session, phone: str) -> Account | None:
        return db.scalar(select(Account).where(Account.phone_hash == self.phone_hash(phone)))

    def phone_of(self, account: Account) -> str:
        return self.vault.decrypt(account.phone_enc)

    # --- SMS codes ------------------------------------------------------------------------

    def send_code(
        self,
        db: Session,
        mobile: str,
        purpose: Purpose,
        *,
        client: str | None = None,
        account: Account | None = None,
    ) -> SentCode:
        """A code for `purpose` to `mobile`, within its budgets (see SmsCodes.issue).

        `client` is the caller's address; `account` the signed-in account, if any: codes
        of ACCOUNT_BOUND purposes go only to its own mobile.
        """
        phone = normalise_mobile(mobile)
        _check(
            mobile_problem(phone),
            FieldProblem(
                "purpose",
                "This code is sent by the operation that needs it (verifyRealName).",
                "PURPOSE_NOT_ALLOWED",
            )
            if purpose in FLOW_ONLY
            else None,
        )
        if purpose in ACCOUNT_BOUND and account is None:
            _check(
                FieldProblem(
                    "purpose",
                    "Sign in first: this code goes only to the signed-in account's own mobile.",
                    "SIGN_IN_REQUIRED",
                )
            )
        if purpose in ACCOUNT_BOUND and account and account.phone_hash != self.phone_hash(phone):
            _check(
                FieldProblem(
                    "mobile",
                    "This code goes only to the signed-in account's own mobile.",
                    "NOT_ACCOUNT_MOBILE",
                )
            )
        # a reset code for an unknown number is recorded but not sent: the answer is the same
        deliver = purpose is not Purpose.RESET_PASSWORD or self.find_by_phone(db, phone) is not None
        return self.codes.issue(db, phone, purpose, deliver=deliver, client=client)

    # --- sessions -------------------------------------------------------------------------

    def _start_session(
        self, db: Session, account: Account, channel: str, previous_token: str | None
    ) -> SignIn:
        # rotation: the token sent along (the one held so far) stops working
        issued = self.sessions.start(
            db, SessionKind.MEMBER, account.id, channel=channel, replacing=previous_token
        )
        return SignIn(account, issued.token, issued.expires_at)

    def authenticate_session(self, db: Session, token: str) -> tuple[Account, LiveSession]:
        """The signed-in account and its session (signed links name the session)."""
        found = self.sessions.authenticate_subject(db, SessionKind.MEMBER, token, Account)
        if found is None:
            raise Unauthenticated("Sign in again: the session has ended.")
        session, account = found
        return account, session

    def adopt_session(
        self, db: Session, token: str, opened: Opened[Any] | None
    ) -> tuple[Account, LiveSession]:
        """`authenticate_session`, from the session found for this request's token moments
        before it ran (the API budget's look) when there is one: not read again."""
        if opened is not None and opened.session.kind is SessionKind.MEMBER:
            adopted = self.sessions.adopt(db, opened)
            if adopted is not None and isinstance(adopted[1], Account):
                return adopted[1], adopted[0]
        return self.authenticate_session(db, token)

    def authenticate(self, db: Session, token: str) -> Account:
        return self.authenticate_session(db, token)[0]

    def logout(self, db: Session, token: str) -> None:
        self.sessions.end(db, SessionKind.MEMBER, token)

    def revoke_all(self, db: Session, account_id: int, channel: str | None = None) -> None:
        self.sessions.end_all(db, SessionKind.MEMBER, account_id, channel=channel)

    # --- flows ----------------------------------------------------------------------------

    def register(
        self,
        db: Session,
        *,
        mobile: str,
        password: str,
        sms_code: str,
        accept_terms: bool,
        previous_token: str | None = None,
    ) -> SignIn:
        phone = normalise_mobile(mobile)
        _check(
            mobile_problem(phone),
            password_problem(password),
            sms_code_problem(sms_code),
            None
            if accept_terms
            else FieldProblem(
                "acceptTerms", "Agree to the terms to register.", "TERMS_NOT_ACCEPTED"
            ),
        )
        # the code first: without it, a registered number answers as any other would
        self.codes.consume(db, phone, Purpose.REGISTER, sms_code)
        existing = self.find_by_phone(db, phone)
        if existing is not None and existing.password_hash is not None:
            raise AccountExists(
                "This mobile number already has an account; log in or reset the password."
            )
        now = self.clock()
        if existing is None:
            account = Account(
                phone_hash=self.phone_hash(phone),
                phone_enc=self.vault.encrypt(phone),
                created_at=now,
            )
            db.add(account)
        else:  # created by a WeChat binding; registering gives it a password
            account = existing
        account.password_hash = _hasher.hash(password)
        account.terms_accepted_at = now
        db.flush()
        return self._start_session(db, account, "app", previous_token)

    def login(
        self, db: Session, *, mobile: str, password: str, previous_token: str | None = None
    ) -> SignIn:
        phone = normalise_mobile(mobile)
        _check(mobile_problem(phone))
        key = self.phone_hash(phone)
        start_login(
            self.limiter,
            db,
            key,
            locked_message="Too many failed log-ins; try again later or reset the password.",
        )
        account = self.find_by_phone(db, phone)
        ok = False
        try:
            # the dummy hash keeps an unknown mobile as slow as a wrong password
            ok = _hasher.verify(
                account.password_hash
                if account and account.password_hash
                else passwords.dummy_hash(),
                password,
            )
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or account is None or account.password_hash is None:
            raise LoginFailed("The mobile number or password is wrong.")
        forget_tries(self.limiter, db, key)
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = _hasher.hash(password)
        return self._start_session(db, account, "app", previous_token)

    def reset_password(self, db: Session, *, mobile: str, new_password: str, sms_code: str) -> None:
        phone = normalise_mobile(mobile)
        _check(
            mobile_problem(phone),
            password_problem(new_password, "newPassword"),
            sms_code_problem(sms_code),
        )
        account = self.find_by_phone(db, phone)
        self.codes.consume(db, phone, Purpose.RESET_PASSWORD, sms_code)
        if account is None:  # same answer as a wrong code: nothing tells the number is unknown
            raise SmsCodeInvalid("The SMS code is wrong or has expired; request a new one.")
        account.password_hash = _hasher.hash(new_password)
        self.revoke_all(db, account.id)
        forget_tries(self.limiter, db, self.phone_hash(phone))
        db.flush()
