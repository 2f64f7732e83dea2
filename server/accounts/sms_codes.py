"""One-time SMS codes: 6 digits, 5 minutes, single use, resend after 120 s, 5 an hour, 5 tries."""

from __future__ import annotations

import datetime
import enum
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.accounts.errors import SmsCodeInvalid, SmsRateLimited, SmsTooSoon
from server.accounts.models import SmsCode
from server.clock import Clock
from server.crypto import Vault
from server.notify.sms import SmsSender

VALID_FOR = datetime.timedelta(minutes=5)
RESEND_AFTER = datetime.timedelta(seconds=120)
HOURLY_LIMIT = 5
MAX_TRIES = 5


class Purpose(enum.Enum):
    REGISTER = "register"
    RESET_PASSWORD = "reset_password"
    BIND_WECHAT = "bind_wechat"
    CONFIRM_CLAIM = "confirm_claim"
    CHANGE_CONTACT = "change_contact"
    # sent by verifyRealName to the mobile on the insurer's record, for one account only
    VERIFY_IDENTITY = "verify_identity"


_TEXT = {
    Purpose.REGISTER: "注册",
    Purpose.RESET_PASSWORD: "重置密码",
    Purpose.BIND_WECHAT: "绑定微信",
    Purpose.CONFIRM_CLAIM: "确认理赔申请",
    Purpose.CHANGE_CONTACT: "变更联系信息",
    Purpose.VERIFY_IDENTITY: "实名认证",
}
# purposes whose codes only the flows themselves send (sendSmsCode refuses them)
FLOW_ONLY = frozenset({Purpose.VERIFY_IDENTITY})


@dataclass(frozen=True, slots=True)
class SentCode:
    resend_after_seconds: int
    expires_in_seconds: int


class SmsCodes:
    def __init__(self, vault: Vault, sender: SmsSender, clock: Clock) -> None:
        self.vault = vault
        self.sender = sender
        self.clock = clock

    def _hash(self, salt: str, code: str) -> str:
        return self.vault.lookup(f"{salt}:{code}", kind="sms-code")

    def issue(
        self,
        db: Session,
        phone: str,
        purpose: Purpose,
        *,
        deliver: bool = True,
        account_id: int | None = None,
    ) -> SentCode:
        """Checks the rate limits, then stores and sends a fresh code.

        `deliver=False` goes through every check and records the code but sends nothing:
        used where sending would reveal whether a mobile is registered. A code issued for
        `account_id` works only when that account consumes it.
        """
        now = self.clock()
        phone_hash = self.vault.lookup(phone, kind="phone")
        last = db.scalar(
            select(SmsCode)
            .where(SmsCode.phone_hash == phone_hash, SmsCode.purpose == purpose.value)
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
            .limit(1)
        )
        if last is not None and now < last.created_at + RESEND_AFTER:
            wait = (last.created_at + RESEND_AFTER - now).total_seconds()
            raise SmsTooSoon(
                f"A new code can be sent in {int(wait + 0.999)} seconds.", int(wait + 0.999)
            )
        hour_ago = now - datetime.timedelta(hours=1)
        recent = db.scalars(
            select(SmsCode.created_at)
            .where(SmsCode.phone_hash == phone_hash, SmsCode.created_at > hour_ago)
            .order_by(SmsCode.created_at)
        ).all()
        if len(recent) >= HOURLY_LIMIT:
            wait = (recent[0] + datetime.timedelta(hours=1) - now).total_seconds()
            raise SmsRateLimited(
                f"Too many codes for this number; try again in {int(wait + 0.999)} seconds.",
                int(wait + 0.999),
            )
        # an older code of the same purpose stops working when a new one is issued
        db.execute(
            update(SmsCode)
            .where(
                SmsCode.phone_hash == phone_hash,
                SmsCode.purpose == purpose.value,
                SmsCode.used_at.is_(None),
                SmsCode.invalidated_at.is_(None),
            )
            .values(invalidated_at=now)
        )
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(8)
        db.add(
            SmsCode(
                phone_hash=phone_hash,
                purpose=purpose.value,
                code_hash=self._hash(salt, code),
                salt=salt,
                created_at=now,
                expires_at=now + VALID_FOR,
                attempts=0,
                account_id=account_id,
            )
        )
        db.flush()
        if deliver:
            self.sender.send(
                db,
                phone,
                f"【健康保险】您正在{_TEXT[purpose]}，验证码{code}，5分钟内有效，请勿告诉他人。",
            )
        return SentCode(int(RESEND_AFTER.total_seconds()), int(VALID_FOR.total_seconds()))

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
        row = db.scalar(
            select(SmsCode)
            .where(
                SmsCode.phone_hash == phone_hash,
                SmsCode.purpose == purpose.value,
                SmsCode.used_at.is_(None),
                SmsCode.invalidated_at.is_(None),
                SmsCode.expires_at > now,
                SmsCode.account_id.is_(None)
                if account_id is None
                else SmsCode.account_id == account_id,
            )
            .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
            .limit(1)
            .with_for_update()
        )
        if row is None:
            raise SmsCodeInvalid("The SMS code is wrong or has expired; request a new one.")
        if not hmac.compare_digest(row.code_hash, self._hash(row.salt, code)):
            row.attempts += 1
            if row.attempts >= MAX_TRIES:
                row.invalidated_at = now
            db.flush()
            raise SmsCodeInvalid("The SMS code is wrong or has expired; request a new one.")
        row.used_at = now
        db.flush()

    def count_sent(self, db: Session, phone: str) -> int:
        phone_hash = self.vault.lookup(phone, kind="phone")
        return db.scalar(select(func.count()).where(SmsCode.phone_hash == phone_hash)) or 0
