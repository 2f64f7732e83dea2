"""Captcha challenges of the supplement log-in, checked against the database.

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

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from server.claims.portal_models import PortalCaptcha
from server.crypto import Vault, token_hash

IMAGE = "image"
AUDIO = "audio"
KINDS = (IMAGE, AUDIO)
ALPHABET = "ACEFHKMNPRTUWXY23456789"
AUDIO_ALPHABET = "23456789"
LENGTH = {IMAGE: 5, AUDIO: 6}
MEDIA_TYPE = {IMAGE: "image/png", AUDIO: "audio/wav"}
LIFETIME = datetime.timedelta(minutes=5)
# challenges one client address may ask for: a page view, a "new image" or a failure each
# make one, so a person never meets this; a script fetching images to train on does
RATE_WINDOW = datetime.timedelta(minutes=5)
RATE_LIMIT = 20
# old rows are deleted this long after they expired (long enough to count for the rate)
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


def check_rate(db: Session, client_hash: str, now: datetime.datetime) -> None:
    """Raise TooManyChallenges when this client had RATE_LIMIT challenges within the window."""
    since = now - RATE_WINDOW
    rows = db.execute(
        select(func.count(), func.min(PortalCaptcha.created_at)).where(
            PortalCaptcha.client_hash == client_hash, PortalCaptcha.created_at > since
        )
    ).one()
    count, oldest = rows
    if count >= RATE_LIMIT:
        wait = (oldest + RATE_WINDOW - now).total_seconds() if oldest else RATE_WINDOW.seconds
        raise TooManyChallenges(max(1, int(wait) + 1))


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
    client_hash: str,
    now: datetime.datetime,
) -> Challenge:
    """Keep a rendered challenge; the caller shows `public_id` and commits."""
    public_id = secrets.token_urlsafe(18)
    db.add(
        PortalCaptcha(
            public_id_hash=token_hash(public_id),
            kind=kind,
            answer_hash=_answer_hash(vault, public_id, answer),
            bound_to=token_hash(browser),
            client_hash=client_hash,
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
    *,
    kind: str,
    browser: str,
    client_hash: str,
    now: datetime.datetime,
    answers: AnswerSource = random_answer,
    render: Callable[[str, str], bytes],
) -> Challenge:
    """A new challenge for this browser, drawn by `render(kind, answer)`; raises
    TooManyChallenges past the client's rate. Old challenges are purged on the way."""
    check_rate(db, client_hash, now)
    answer = new_answer(kind, answers)
    challenge = store(
        db,
        vault,
        kind=kind,
        answer=answer,
        media=render(kind, answer),
        browser=browser,
        client_hash=client_hash,
        now=now,
    )
    purge(db, now)
    return challenge


def media(
    db: Session, public_id: str, browser: str, now: datetime.datetime
) -> tuple[bytes, str] | None:
    """The image or sound of an open challenge, for the browser it was shown to; None once
    answered, expired, unknown or asked for by another browser."""
    if not public_id or len(public_id) > 64 or not browser:
        return None
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
) -> bool:
    """True for the right answer to an open challenge shown to this browser.

    The challenge is used up whatever the outcome: one guess per image. Marking it is a
    conditional UPDATE, so two servers checking the same challenge at once cannot both
    accept it.
    """
    expected = _answer_hash(vault, public_id or "-", answer)
    if not public_id or len(public_id) > 64:
        return False
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
