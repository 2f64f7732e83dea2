"""The long-lived services one app instance holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.directory.service import DirectoryService
from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from server.accounts.wiring import MemberServices
    from server.claims.core import ClaimContext
    from server.claims.portal.captchas import RedisChallenges


@dataclass
class Services:
    settings: Settings
    directory: DirectoryService
    # the database and the member side; None where only the public directory is served
    db: sessionmaker[Session] | None = None
    members: MemberServices | None = None
    claims: ClaimContext | None = None
    # the supplement portal's captcha challenges in Redis (REDIS_URL); None: the database
    challenges: RedisChallenges | None = None
