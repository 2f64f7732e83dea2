"""Real-name tries (实名认证): a daily budget per member, per client address and per identity
aimed at, so that a name, a birth date and a region cannot be walked through the ID numbers.

Every look-up of an identity (verifyRealName, bindWechat) first takes one try from each of
its budgets on the limiter (server/limits), all or none, in one atomic step: however many
calls arrive at once, exactly the limit gets through, and a refused call takes nothing
from any budget and looks nothing up. Each budget's window is a day from its first try.

Keys are keyed hashes (nothing personal is readable in the counters):
- member: the account's mobile, MEMBER_LIMIT a window; a verification that succeeds
  gives the member a fresh budget;
- client: the client address Starlette reports (uvicorn --proxy-headers puts the real one
  there), CLIENT_LIMIT a window: families and offices share addresses;
- id: the document tried, IDENTITY_LIMIT a window, whoever tries;
- aim: the name with the document number less its last 4 characters (for a resident ID:
  the region and the birth date), IDENTITY_LIMIT a window: what someone knows who guesses
  the serial and check digit of a named person, from however many accounts and addresses.
"""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from server.accounts.errors import RealNameLocked
from server.crypto import Vault
from server.limits import Limiter, Limits, Policy
from server.notify.templates import HOTLINE
from server.policies.models import IdType
from server.workdays import CHINA_TZ

MEMBER_LIMIT = 5
CLIENT_LIMIT = 20
IDENTITY_LIMIT = 5
WINDOW = datetime.timedelta(hours=24)
# characters of the document number an attacker is assumed not to know
GUESSED_TAIL = 4

MEMBER = Policy("realname-member", window=WINDOW, limit=MEMBER_LIMIT)
CLIENT = Policy("realname-client", window=WINDOW, limit=CLIENT_LIMIT)
IDENTITY = Policy("realname-id", window=WINDOW, limit=IDENTITY_LIMIT)
AIM = Policy("realname-aim", window=WINDOW, limit=IDENTITY_LIMIT)

TryKey = tuple[Policy, str]


def member_key(phone_hash: str) -> TryKey:
    return MEMBER, phone_hash


def client_key(vault: Vault, client: str) -> TryKey:
    return CLIENT, vault.lookup(client, kind="identity-client")


def try_keys(
    vault: Vault,
    *,
    member_phone_hash: str,
    client: str | None,
    id_type: IdType,
    name: str,
    number: str,
) -> list[TryKey]:
    """The budgets one try is counted under; `name` and `number` normalised by the caller."""
    keys = [
        member_key(member_phone_hash),
        (IDENTITY, vault.lookup(f"{id_type.value}:{number}", kind="identity-try")),
        (
            AIM,
            vault.lookup(
                f"{id_type.value}:{name}:{number[:-GUESSED_TAIL]}", kind="identity-try-aim"
            ),
        ),
    ]
    if client:
        keys.append(client_key(vault, client))
    return keys


def take_try(limiter: Limiter, db: Session, keys: Limits, now: datetime.datetime) -> None:
    """Counts one try under every key, or raises RealNameLocked having counted none."""
    decision = limiter.hit_all(db, keys)
    if decision.allowed:
        return
    seconds = decision.retry_after_seconds
    until = now + datetime.timedelta(seconds=seconds)
    raise RealNameLocked(
        "Too many real-name verification tries. Try again after "
        f"{until.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} (Beijing time), in about "
        f"{_hours(seconds)}, or call the service hotline {HOTLINE}.",
        seconds,
    )


def _hours(seconds: int) -> str:
    if seconds < 3600:
        minutes = max(1, (seconds + 59) // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = (seconds + 3599) // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}"


def forget(limiter: Limiter, db: Session, key: TryKey) -> None:
    """Gives the key a fresh budget (a member who has just verified)."""
    limiter.reset(db, *key)
