"""Domain errors raised by services; the API and page layers translate them."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RetryLater(DomainError):
    """Refused by a limit (a throttle, a budget, a lock-out) for `retry_after` seconds; the
    HTTP layer answers 429 with Retry-After where nothing else in the response succeeded."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one input field."""

    field: str
    message: str
    code: str


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "Some fields are not valid.", field=problems[0].field if problems else None
        )
        self.problems = problems
