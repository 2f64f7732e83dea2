"""What the documents machinery needs to know of a kind of service request.

A kind (inpatient advance payment, pre-authorisation, ... later ones) implements `Kind`
and registers itself (`register`) where it is defined; the machinery
(server/service_supplements/__init__.py) and the H5 pages find it by its code, the
`subject_kind` stored on each request for documents. The subject is the service
request's row; the machinery never reads its columns, only asks the kind.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

from server.claims.core import ClaimContext
from server.service_supplements.models import ServiceSupplement


class Kind(Protocol):
    @property
    def code(self) -> str:
        """Stored as ServiceSupplement.subject_kind."""
        ...

    @property
    def names(self) -> Mapping[str, str]:
        """The service's name in messages and pages, per language ("zh", "en")."""
        ...

    @property
    def categories(self) -> Mapping[str, tuple[str, str]]:
        """The document categories staff may ask for: code -> (Chinese, English)."""
        ...

    @property
    def asked_message(self) -> str:
        """The kind of the member's in-app message when documents are asked."""
        ...

    def reference(self, subject_id: int) -> str:
        """The number the member sees on the page and in the SMS (letters and digits)."""
        ...

    def load(self, db: Session, subject_id: int, *, lock: bool = False) -> Any | None:
        """The service request's row, or None."""
        ...

    def account_id(self, subject: Any) -> int:
        """The member's account the request belongs to."""
        ...

    def waiting(self, subject: Any) -> bool:
        """Is the request in its "documents asked" state?"""
        ...

    def can_ask(self, subject: Any) -> bool:
        """May staff ask for documents now?"""
        ...

    def asked(
        self,
        db: Session,
        cx: ClaimContext,
        subject: Any,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        """Move the request to "documents asked" with a timeline event."""
        ...

    def answered(
        self,
        db: Session,
        cx: ClaimContext,
        subject: Any,
        request: ServiceSupplement,
        now: datetime.datetime,
    ) -> None:
        """Put the request back to review with a timeline event."""
        ...


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    _KINDS[kind.code] = kind
    return kind


def get(code: str) -> Kind | None:
    return _KINDS.get(code)
