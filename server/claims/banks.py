"""The mainland banks claims are paid to (banks.csv, source in banks_source.txt) and the
rule a payee's account number must meet at its bank.

Account numbers are digits only, 16 to 19 of them (UnionPay debit cards and passbook
accounts); at a bank whose cards carry a check digit (`luhn`) the last digit must be the
ISO/IEC 7812 (Luhn, mod 10) check digit of the others.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("banks.csv")
_DIGITS = re.compile(r"^\d{16,19}$")


@dataclass(frozen=True, slots=True)
class Bank:
    code: str  # CNAPS bank category code (行别代码)
    name: str
    name_en: str
    luhn: bool


@functools.cache
def banks() -> dict[str, Bank]:
    with SOURCE.open(encoding="utf-8", newline="") as f:
        return {
            r["code"]: Bank(r["code"], r["name"], r["name_en"], r["check_digit"] == "luhn")
            for r in csv.DictReader(f)
        }


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalise_account(value: str) -> str:
    return "".join(value.split()).replace("-", "")


def account_problem(bank: Bank, number: str) -> tuple[str, str] | None:
    """(code, message) when `number` (normalised) cannot be an account at `bank`."""
    if not _DIGITS.match(number):
        return "INVALID_BANK_ACCOUNT", "An account number has 16 to 19 digits."
    if bank.luhn and not luhn_ok(number):
        return (
            "BANK_ACCOUNT_CHECK_DIGIT",
            f"This is not a {bank.name} card number: check the digits (the last one is a check digit).",
        )
    return None
