"""Captcha challenges of the supplement log-in, kept in the database, or in Redis when
REDIS_URL is set (`RedisChallenges`: shared by every worker and server, expiring by itself).

The answer is never stored: only a keyed hash of (challenge id, answer), so several
servers can check it and a leaked table does not hand out answers. A challenge answers
once (right or wrong), lives five minutes, and belongs to the browser it was shown to.
The image and the sound are drawn by the page side (h5/supplement/captcha.py) and kept
here while the challenge is open.

The alphabet has no look-alikes: no 0/O/D/Q, 1/I/L/J, 2/Z, 5/S, 6/G, 8/B, U/V. The audio
alternative speaks digits only (2-9); letters read aloud rhyme too much (B, C, D, E ...).
"""

from __future__ import annotations

import datetime
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.claims.portal_models import PortalCaptcha
from server.crypto import Vault, token_hash
from server.limits import Limiter, Policy, key_of

IMAGE = "image"
AUDIO = "audio"
KINDS = (IMAGE, AUDIO)
ALPHABET = "ACEFHKMNPRTUWXY23456789"
AUDIO_ALPHABET = "23456789"
LENGTH = {IMAGE: 5, AUDIO: 6}
MEDIA_TYPE = {IMAGE: "image/png", AUDIO: "audio/wav"}
LIFETIME = datetime.timedelta(minutes=5)
# A page view, a "new image" or a failure each make one challenge. They are counted twice.
# One browser session on one log-in page (a claim's link, or the lost-link form) gets
# PAGE_LIMIT: a person never meets it, a script fetching images to train on does.
# (Not per claim across browsers: strangers could then use up a claimant's captchas.)
RATE_WINDOW = datetime.timedelta(minutes=5)
PAGE_LIMIT = 10
PER_PAGE = Policy("captcha-page", window=RATE_WINDOW, limit=PAGE_LIMIT)
# One client address: only a ceiling against floods (a script dropping its cookie to get
# fresh browser budgets), set high because mobile carriers put many claimants behind one
# address: 20 of them viewing their log-in pages must not be refused.
RATE_LIMIT = 100
PER_CLIENT = Policy("captcha-client", window=RATE_WINDOW, limit=RATE_LIMIT)
# old rows are deleted this long after they expired
KEEP = datetime.timedelta(hours=1)
MAX_ANSWER = 20

# (alphabet, length) -> answer; tests put a recorder here through app.state
AnswerSource = Callable[[str, int], str]


def random_answer(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True, slots=True)
class Challenge:
    public_id: str
    kind: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE[self.kind]


class TooManyChallenges(Exception):
    """The client asked for too many captchas lately."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many captcha images")
        self.retry_after = retry_after


def normalise(answer: str) -> str:
    """What the claimant typed, as compared: full-width letters from a Chinese input method
    become ASCII, spaces go, case does not matter."""
    text = unicodedata.normalize("NFKC", answer or "")[:MAX_ANSWER]
    return "".join(text.split()).upper()


def _answer_hash(vault: Vault, public_id: str, answer: str) -> str:
    return vault.lookup(f"{public_id}:{normalise(answer)}", kind="supplement-captcha")


def page_key(vault: Vault, browser: str, path: str) -> str:
    """The key of one browser on one log-in page (a claim's link, or the lost-link form)."""
    return key_of(vault, "supplement-captcha-page", browser, path)


def take_rate(limiter: Limiter, db: Session, *, client: str, page: str) -> None:
    """Count a challenge against the address and the browser's page, or raise
    TooManyChallenges having counted none."""
    decision = limiter.hit_all(db, [(PER_CLIENT, client), (PER_PAGE, page)])
    if not decision.allowed:
        raise TooManyChallenges(decision.retry_after_seconds)


def new_answer(kind: str, answers: AnswerSource = random_answer) -> str:
    alphabet = AUDIO_ALPHABET if kind == AUDIO else ALPHABET
    answer = normalise(answers(alphabet, LENGTH[kind]))
    if not answer or any(ch not in alphabet for ch in answer):
        raise ValueError("a captcha answer must use the challenge's alphabet")
    return answer


def store(
    db: Session,
    vault: Vault,
    *,
    kind: str,
    answer: str,
    media: bytes,
    browser: str,
    now: datetime.datetime,
    challenges: RedisChallenges | None = None,
) -> Challenge:
    """Keep a rendered challenge; the caller shows `public_id` and commits."""
    public_id = secrets.token_urlsafe(18)
    answer_hash = _answer_hash(vault, public_id, answer)
    if challenges is not None:
        challenges.put(
            token_hash(public_id), kind, answer_hash, token_hash(browser), media, now + LIFETIME
        )
        return Challenge(public_id, kind)
    db.add(
        PortalCaptcha(
            public_id_hash=token_hash(public_id),
            kind=kind,
            answer_hash=answer_hash,
            bound_to=token_hash(browser),
            media=media,
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    db.flush()
    return Challenge(public_id, kind)


def issue(
    db: Session,
    vault: Vault,
    limiter: Limiter,
    *,
    kind: str,
    browser: str,
    client: str,
    page: str,
    now: datetime.datetime,
    answers: AnswerSource = random_answer,
    render: Callable[[str, str], bytes],
    challenges: RedisChallenges | None = None,
) -> Challenge:
    """A new challenge for this browser, drawn by `render(kind, answer)`; raises
    TooManyChallenges past the rate of the address (`client`) or of the browser's log-in
    page (`page_key`). Old challenges are purged on the way. `challenges`: Redis, else
    the database."""
    take_rate(limiter, db, client=client, page=page)
    answer = new_answer(kind, answers)
    challenge = store(
        db,
        vault,
        kind=kind,
        answer=answer,
        media=render(kind, answer),
        browser=browser,
        now=now,
        challenges=challenges,
    )
    if challenges is None:
        purge(db, now)
    return challenge


def media(
    db: Session,
    public_id: str,
    browser: str,
    now: datetime.datetime,
    challenges: RedisChallenges | None = None,
) -> tuple[bytes, str] | None:
    """The image or sound of an open challenge, for the browser it was shown to; None once
    answered, expired, unknown or asked for by another browser."""
    if not public_id or len(public_id) > 64 or not browser:
        return None
    if challenges is not None:
        found = challenges.media(token_hash(public_id))
        if found is None or found.expires_at <= now:
            return None
        if not secrets.compare_digest(found.bound_to, token_hash(browser)):
            return None
        return found.media, MEDIA_TYPE.get(found.kind, "application/octet-stream")
    row = db.scalar(
        select(PortalCaptcha).where(PortalCaptcha.public_id_hash == token_hash(public_id))
    )
    if row is None or row.media is None or row.used_at is not None or row.expires_at <= now:
        return None
    if not secrets.compare_digest(row.bound_to, token_hash(browser)):
        return None
    return row.media, MEDIA_TYPE.get(row.kind, "application/octet-stream")


def verify(
    db: Session,
    vault: Vault,
    *,
    public_id: str,
    answer: str,
    browser: str,
    now: datetime.datetime,
    challenges: RedisChallenges | None = None,
) -> bool:
    """True for the right answer to an open challenge shown to this browser.

    The challenge is used up whatever the outcome: one guess per image. Marking it is a
    conditional UPDATE (in Redis, one script that reads and deletes it), so two servers
    checking the same challenge at once cannot both accept it.
    """
    expected = _answer_hash(vault, public_id or "-", answer)
    if not public_id or len(public_id) > 64:
        return False
    if challenges is not None:
        taken = challenges.take(token_hash(public_id))
        if taken is None:
            return False
        right = secrets.compare_digest(taken.answer_hash, expected)
        same_browser = secrets.compare_digest(taken.bound_to, token_hash(browser))
        return right and same_browser and taken.expires_at > now
    used = db.execute(
        update(PortalCaptcha)
        .where(
            PortalCaptcha.public_id_hash == token_hash(public_id),
            PortalCaptcha.used_at.is_(None),
        )
        .values(used_at=now, media=None)
        .returning(PortalCaptcha.answer_hash, PortalCaptcha.bound_to, PortalCaptcha.expires_at)
    ).first()
    if used is None:
        return False
    answer_hash, bound_to, expires_at = used
    right = secrets.compare_digest(answer_hash, expected)
    same_browser = secrets.compare_digest(bound_to, token_hash(browser))
    return right and same_browser and expires_at > now


def purge(db: Session, now: datetime.datetime) -> int:
    """Delete challenges that expired more than KEEP ago."""
    result = db.execute(delete(PortalCaptcha).where(PortalCaptcha.expires_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)


# --- Redis ---------------------------------------------------------------------------------------

# read a challenge and delete it, in one step: one guess, whichever server gets it
_TAKE = """
local v = redis.call('HMGET', KEYS[1], 'answer', 'bound', 'expires', 'kind')
if not v[1] then return nil end
redis.call('DEL', KEYS[1])
return v
"""


@dataclass(frozen=True, slots=True)
class Stored:
    kind: str
    answer_hash: str
    bound_to: str
    expires_at: datetime.datetime
    media: bytes = b""


def _ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: bytes | str) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(ms) / 1000, datetime.UTC)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisChallenges:
    """Open challenges in Redis: a hash per challenge (by the hash of its public id),
    expiring with the challenge (by Redis's clock, LIFETIME after it was made; the
    app's clock is checked as well)."""

    def __init__(self, client: Any, prefix: str = "captcha:") -> None:
        self.client = client
        self.prefix = prefix
        self._take = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "captcha:") -> RedisChallenges:
        import redis

        return cls(redis.Redis.from_url(url), prefix)

    def put(
        self,
        id_hash: str,
        kind: str,
        answer_hash: str,
        bound_to: str,
        media: bytes,
        expires_at: datetime.datetime,
    ) -> None:
        key = self.prefix + id_hash
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "kind": kind,
                "answer": answer_hash,
                "bound": bound_to,
                "expires": _ms(expires_at),
                "media": media,
            },
        )
        pipe.pexpire(key, int(LIFETIME.total_seconds() * 1000))
        pipe.execute()

    def media(self, id_hash: str) -> Stored | None:
        kind, bound, expires, media = self.client.hmget(
            self.prefix + id_hash, "kind", "bound", "expires", "media"
        )
        if kind is None or media is None:
            return None
        return Stored(_text(kind), "", _text(bound), _moment(expires), bytes(media))

    def take(self, id_hash: str) -> Stored | None:
        found = self._take(keys=[self.prefix + id_hash])
        if not found:
            return None
        answer, bound, expires, kind = found
        return Stored(_text(kind), _text(answer), _text(bound), _moment(expires))


def make_challenges(redis_url: str, prefix: str = "") -> RedisChallenges | None:
    """Where the app keeps challenges: Redis when REDIS_URL is set (None: the database)."""
    return RedisChallenges.from_url(redis_url, f"{prefix}captcha:") if redis_url else None
