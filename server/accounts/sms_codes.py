"""One-time SMS codes: 6 digits, 5 minutes, single use, 5 tries.

Sending is budgeted on the limiter (server/limits), all budgets at once or none: per
mobile and purpose one code per 120 s and 5 an hour, so that codes asked for one purpose
(a stranger's registration attempts) never use up another (the member's claim
confirmation); per client address 30 codes per 10 minutes; and 600 codes per 10 minutes
overall, whoever asks. A code that could not be delivered gives its share back.
"""

from __future__ import annotations

import datetime
import enum
import functools
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from server.accounts.errors import (
    SmsCodeInvalid,
    SmsDeliveryFailed,
    SmsRateLimited,
    SmsTooSoon,
)
from server.accounts.models import SmsCode
from server.clock import Clock
from server.crypto import Vault
from server.limits import GLOBAL, Limiter, Policy, key_of
from server.notify.sms import OutboxSender, SmsSender

VALID_FOR = datetime.timedelta(minutes=5)
RESEND_AFTER = datetime.timedelta(seconds=120)
MAX_TRIES = 5
# per mobile and purpose
RESEND = Policy("sms-resend", window=RESEND_AFTER, limit=1)
PER_MOBILE = Policy("sms-mobile", window=datetime.timedelta(hours=1), limit=5)
# per client address, and for everyone together
PER_CLIENT = Policy("sms-client", window=datetime.timedelta(minutes=10), limit=30)
OVERALL = Policy("sms-all", window=datetime.timedelta(minutes=10), limit=600)


class Purpose(enum.Enum):
    REGISTER = "register"
    RESET_PASSWORD = "reset_password"
    BIND_WECHAT = "bind_wechat"
    CONFIRM_CLAIM = "confirm_claim"
    CHANGE_CONTACT = "change_contact"
    SAVE_PAYEE = "save_payee"  # adding or changing a payee (收款人)
    CONFIRM_PRE_AUTH = "confirm_pre_auth"  # submitting a pre-authorisation (预先授权)
    # sent by verifyRealName to the mobile on the insurer's record, for one account only
    VERIFY_IDENTITY = "verify_identity"
    # sent by sendAdvancePaymentCode to the member's own mobile (server/billing/advance.py)
    CONFIRM_ADVANCE_PAYMENT = "confirm_advance_payment"
    # sent by sendPersonalDetailsCodes to the member's mobile and to the new one, for one
    # account only (server/claims/details_change.py)
    CHANGE_DETAILS = "change_details"


# codes that only the signed-in account asks for, to its own mobile (see AccountsService)
ACCOUNT_BOUND = frozenset(
    {Purpose.CONFIRM_CLAIM, Purpose.CHANGE_CONTACT, Purpose.SAVE_PAYEE, Purpose.CONFIRM_PRE_AUTH}
)

_TEXT = {
    Purpose.REGISTER: "注册",
    Purpose.RESET_PASSWORD: "重置密码",
    Purpose.BIND_WECHAT: "绑定微信",
    Purpose.CONFIRM_CLAIM: "确认理赔申请",
    Purpose.CHANGE_CONTACT: "变更联系信息",
    Purpose.SAVE_PAYEE: "保存收款人信息",
    Purpose.CONFIRM_PRE_AUTH: "提交预先授权申请",
    Purpose.VERIFY_IDENTITY: "实名认证",
    Purpose.CONFIRM_ADVANCE_PAYMENT: "确认住院垫付申请",
    Purpose.CHANGE_DETAILS: "变更客户信息",
}
# purposes whose codes only the flows themselves send (sendSmsCode refuses them)
FLOW_ONLY = frozenset(
    {Purpose.VERIFY_IDENTITY, Purpose.CONFIRM_ADVANCE_PAYMENT, Purpose.CHANGE_DETAILS}
)


_RATE_LIMITED = {
    PER_MOBILE.name: "Too many codes for this number; try again in {wait} seconds.",
    PER_CLIENT.name: "Too many codes asked for from this network; try again in {wait} seconds.",
    OVERALL.name: "Too many codes are being sent right now; try again in {wait} seconds.",
}


@dataclass(frozen=True, slots=True)
class SentCode:
    resend_after_seconds: int
    expires_in_seconds: int


def _live(phone_hash: Any, purpose: Any) -> tuple[Any, ...]:
    """The codes of one mobile and purpose not used nor ended yet."""
    return (
        SmsCode.phone_hash == phone_hash,
        SmsCode.purpose == (purpose.value if isinstance(purpose, Purpose) else purpose),
        SmsCode.used_at.is_(None),
        SmsCode.invalidated_at.is_(None),
    )


def _issue_statement(queued: bool) -> Any:
    """PostgreSQL: the new code's INSERT, the older codes' UPDATE as a CTE (their ids come
    back with the new code's) and, with `queued`, the development outbox's row as another."""
    code = cast(Table, SmsCode.__table__)
    c = code.c
    older = (
        update(code)
        .where(
            *_live(
                bindparam("new_phone_hash", type_=c.phone_hash.type),
                bindparam("new_purpose", type_=c.purpose.type),
            )
        )
        .values(invalidated_at=bindparam("now", type_=c.invalidated_at.type))
        .returning(c.id)
        .cte("older")
    )
    names = ("code_hash", "salt", "created_at", "expires_at", "attempts", "account_id")
    stmt = (
        insert(code)
        .values(
            phone_hash=bindparam("new_phone_hash", type_=c.phone_hash.type),
            purpose=bindparam("new_purpose", type_=c.purpose.type),
            # named apart from the columns (an UPDATE would take such a name as a value)
            **{n: bindparam(f"new_{n}", type_=c[n].type) for n in names},
        )
        .returning(c.id, select(func.array_agg(older.c.id)).scalar_subquery())
        .add_cte(older)
    )
    if queued:
        stmt = stmt.add_cte(OutboxSender.statement().cte("sms"))
    return stmt


@functools.lru_cache(maxsize=2)
def _take_statement(bound: bool) -> Any:
    """`consume`'s UPDATE, built once: the newest live code (of the account with `bound`)
    marked used, its hash, salt and tries returned. The outer WHERE repeats "unused" so
    that a request that waited on the row's lock sees what the other one wrote."""
    unused = (SmsCode.used_at.is_(None), SmsCode.invalidated_at.is_(None))
    now = bindparam("t_now", type_=SmsCode.__table__.c.used_at.type)
    newest = (
        select(SmsCode.id)
        .where(
            SmsCode.phone_hash == bindparam("t_phone_hash"),
            SmsCode.purpose == bindparam("t_purpose"),
            *unused,
            SmsCode.expires_at > now,
            SmsCode.account_id == bindparam("t_account") if bound else SmsCode.account_id.is_(None),
        )
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
        .with_for_update()
        .scalar_subquery()
    )
    return (
        update(SmsCode)
        .where(SmsCode.id == newest, *unused)
        .values(used_at=now)
        .returning(SmsCode.id, SmsCode.code_hash, SmsCode.salt, SmsCode.attempts)
    )


_ISSUE = _issue_statement(queued=False)
_ISSUE_QUEUED = _issue_statement(queued=True)


class SmsCodes:
    def __init__(self, vault: Vault, sender: SmsSender, clock: Clock, limiter: Limiter) -> None:
        self.vault = vault
        self.sender = sender
        self.clock = clock
        self.limiter = limiter

    def _hash(self, salt: str, code: str) -> str:
        return self.vault.lookup(f"{salt}:{code}", kind="sms-code")

    def issue(
        self,
        db: Session,
        phone: str,
        purpose: Purpose,
        *,
        deliver: bool = True,
        client: str | None = None,
        account_id: int | None = None,
    ) -> SentCode:
        """Takes the code's share of every budget, then stores and sends a fresh code.

        `deliver=False` goes through every check and records the code but sends nothing:
        used where sending would reveal whether a mobile is registered. `client` is the
        caller's address, for its budget (none when the server sends on its own account).
        A code issued for `account_id` works only when that account consumes it.
        """
        now = self.clock()
        phone_hash = self.vault.lookup(phone, kind="phone")
        budgets = self._budgets(phone, purpose, client)
        decision = self.limiter.hit_all(db, budgets)
        if not decision.allowed:
            wait = decision.retry_after_seconds
            if decision.policy == RESEND.name:
                raise SmsTooSoon(f"A new code can be sent in {wait} seconds.", wait)
            raise SmsRateLimited(_RATE_LIMITED[decision.policy].format(wait=wait), wait)
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(8)
        fresh = {
            "phone_hash": phone_hash,
            "purpose": purpose.value,
            "code_hash": self._hash(salt, code),
            "salt": salt,
            "created_at": now,
            "expires_at": now + VALID_FOR,
            "attempts": 0,
            "account_id": account_id,
        }
        text = f"【健康保险】您正在{_TEXT[purpose]}，验证码{code}，5分钟内有效，请勿告诉他人。"
        sender = self.sender
        queued = deliver and isinstance(sender, OutboxSender)
        if db.get_bind().dialect.name == "postgresql":
            # one statement: the older codes' UPDATE is a CTE of the new code's INSERT (both
            # see the same snapshot, so the new code is not among those invalidated), and so
            # is the development outbox's row
            params = {f"new_{name}": value for name, value in fresh.items()}
            params["now"] = now
            if queued:
                assert isinstance(sender, OutboxSender)
                params.update(sender.row(phone, text))
            row = db.execute(_ISSUE_QUEUED if queued else _ISSUE, params).one()
            code_id, older = row[0], list(row[1] or ())
        else:
            older = list(
                db.scalars(
                    update(SmsCode)
                    .where(*_live(phone_hash, purpose))
                    .values(invalidated_at=now)
                    .returning(SmsCode.id),
                    execution_options={"synchronize_session": False},
                )
            )
            stored = SmsCode(**fresh)
            db.add(stored)
            db.flush()
            code_id = stored.id
            queued = False
        if deliver:
            try:
                if queued:
                    assert isinstance(sender, OutboxSender)
                    sender.logged(phone, text)
                else:
                    sender.send(db, phone, text)
            except SmsDeliveryFailed:
                # nothing was sent: nothing is spent, and the older codes work again (their
                # rows stay locked by this transaction: no one else changed them meanwhile)
                self._withdraw(db, code_id, older)
                self.limiter.refund(db, budgets)
                raise
        return SentCode(int(RESEND_AFTER.total_seconds()), int(VALID_FOR.total_seconds()))

    def _withdraw(self, db: Session, code_id: int, older: list[int]) -> None:
        db.execute(delete(SmsCode).where(SmsCode.id == code_id))
        if older:
            db.execute(
                update(SmsCode).where(SmsCode.id.in_(older)).values(invalidated_at=None),
                execution_options={"synchronize_session": False},
            )

    def _budgets(
        self, phone: str, purpose: Purpose, client: str | None
    ) -> list[tuple[Policy, str]]:
        mobile = key_of(self.vault, "sms-mobile", phone, purpose.value)
        budgets = [(RESEND, mobile), (PER_MOBILE, mobile), (OVERALL, GLOBAL)]
        if client:
            budgets.append((PER_CLIENT, key_of(self.vault, "sms-client", client)))
        return budgets

    def consume(
        self,
        db: Session,
        phone: str,
        purpose: Purpose,
        code: str,
        *,
        account_id: int | None = None,
    ) -> None:
        """Accepts the code once; a wrong code counts a try, the fifth wrong try ends it.

        A code issued for an account is found only with that `account_id`.
        """
        now = self.clock()
        phone_hash = self.vault.lookup(phone, kind="phone")
        # one statement: the newest live code is taken as used and its hash comes back; a
        # wrong code puts it back with one more try
        row = db.execute(
            _take_statement(account_id is not None),
            {
                "t_phone_hash": phone_hash,
                "t_purpose": purpose.value,
                "t_now": now,
                "t_account": account_id,
            },
            execution_options={"synchronize_session": "fetch"},
        ).one_or_none()
        if row is None:
            raise SmsCodeInvalid("The SMS code is wrong or has expired; request a new one.")
        if not hmac.compare_digest(row.code_hash, self._hash(row.salt, code)):
            tries = row.attempts + 1
            db.execute(
                update(SmsCode)
                .where(SmsCode.id == row.id)
                .values(
                    used_at=None,
                    attempts=tries,
                    invalidated_at=now if tries >= MAX_TRIES else None,
                ),
                execution_options={"synchronize_session": "fetch"},
            )
            raise SmsCodeInvalid("The SMS code is wrong or has expired; request a new one.")

    def count_sent(self, db: Session, phone: str) -> int:
        phone_hash = self.vault.lookup(phone, kind="phone")
        return db.scalar(select(func.count()).where(SmsCode.phone_hash == phone_hash)) or 0
