"""Domain errors raised by services; the API and page layers translate them."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
