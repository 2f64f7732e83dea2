"""Errors of the documents asked for on service requests."""

from __future__ import annotations

from server.errors import DomainError


class SupplementNotFound(DomainError):
    """No such request for documents among the member's (another member's answers the same)."""

    code = "SUPPLEMENT_NOT_FOUND"


class SupplementClosed(DomainError):
    """The request for documents takes nothing more: answered, past its deadline, or the
    service request was decided meanwhile."""

    code = "SUPPLEMENT_CLOSED"


class SupplementDocumentsMissing(DomainError):
    """A requested category has no file yet; `missing` lists their codes."""

    code = "DOCUMENTS_MISSING"

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            "Add at least one file for each requested category: " + ", ".join(missing) + ".",
            field="documents",
        )
        self.missing = missing
