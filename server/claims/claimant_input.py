"""Checks of what a claimant types: each returns a FieldProblem or the cleaned value.

Field names are the GraphQL input's, so a client can put each message beside its box.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from server.errors import FieldProblem, ValidationFailed

ADDRESS_MAX = 200
FACILITY_MAX = 200
REGION_MAX = 40
BANK_NAME_MAX = 100
REASON_MAX = 500
MAX_INVOICES = 50
# a claim is never near this; the bound keeps fen inside a 32-bit column
AMOUNT_MAX = Decimal("10000000")

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_INVOICE_NO = re.compile(r"^[A-Z0-9-]{1,40}$")
_BANK_ACCOUNT = re.compile(r"^\d{12,30}$")
_CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class Problems:
    """Collects every problem of one input, raised together."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, field: str, message: str, code: str) -> None:
        self.found.append(FieldProblem(field, message, code))

    def include(self, *found: FieldProblem | None) -> None:
        """Problems a rule function found (server/claims/claimant_rules.py), if any."""
        self.found.extend(p for p in found if p is not None)

    def raise_any(self) -> None:
        if self.found:
            raise ValidationFailed(self.found)


def text(
    problems: Problems, field: str, value: str | None, *, max_len: int, required: bool
) -> str | None:
    v = " ".join((value or "").split())
    if not v:
        if required:
            problems.add(field, "This is required.", "REQUIRED")
        return None
    if len(v) > max_len:
        problems.add(field, f"At most {max_len} characters.", "TOO_LONG")
        return None
    if any(c in v for c in "<>{}\\"):
        problems.add(field, "Remove the characters < > { } \\.", "INVALID_CHARACTERS")
        return None
    return v


def email(problems: Problems, field: str, value: str | None) -> str | None:
    v = (value or "").strip()
    if not v:
        problems.add(field, "This is required.", "REQUIRED")
        return None
    if len(v) > 254 or not _EMAIL.match(v):
        problems.add(field, "Enter an e-mail address such as name@example.com.", "INVALID_EMAIL")
        return None
    return v


def amount_fen(
    problems: Problems, field: str, value: Decimal | None, *, allow_zero: bool
) -> int | None:
    """Yuan with at most 2 decimals, to fen; zero only where `allow_zero`."""
    if value is None:
        problems.add(field, "This is required.", "REQUIRED")
        return None
    try:
        ok = value.is_finite() and value.as_tuple().exponent >= -2  # type: ignore[operator]
    except (InvalidOperation, TypeError):
        ok = False
    if not ok or value < 0 or value > AMOUNT_MAX or (value == 0 and not allow_zero):
        problems.add(
            field,
            f"Enter an amount in yuan with at most 2 decimals, "
            f"{'0' if allow_zero else 'above 0'} to {AMOUNT_MAX:,}.",
            "INVALID_AMOUNT",
        )
        return None
    return int(value * 100)


def invoice_numbers(problems: Problems, field: str, values: Sequence[str]) -> list[str]:
    out: list[str] = []
    if len(values) > MAX_INVOICES:
        problems.add(field, f"At most {MAX_INVOICES} invoice numbers.", "TOO_MANY")
        return out
    for raw in values:
        v = "".join((raw or "").split()).upper()
        if not _INVOICE_NO.match(v):
            problems.add(
                field,
                "An invoice number has 1 to 40 letters, digits or dashes.",
                "INVALID_INVOICE_NO",
            )
            return []
        if v not in out:
            out.append(v)
    return out


def bank_account(problems: Problems, field: str, value: str | None) -> str | None:
    v = "".join((value or "").split()).replace("-", "")
    if not v:
        problems.add(field, "This is required.", "REQUIRED")
        return None
    if not _BANK_ACCOUNT.match(v):
        problems.add(field, "A bank account number has 12 to 30 digits.", "INVALID_BANK_ACCOUNT")
        return None
    return v


def client_key(value: str) -> str:
    if not _CLIENT_KEY.match(value or ""):
        raise ValidationFailed(
            [
                FieldProblem(
                    "clientKey",
                    "A client key has 8 to 64 letters, digits, '-' or '_' (e.g. a UUID).",
                    "INVALID_CLIENT_KEY",
                )
            ]
        )
    return value


def normalise_facility(name: str) -> str:
    return "".join(name.split()).lower()
