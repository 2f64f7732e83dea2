"""Input rules of the product: mobile numbers, passwords, identity documents."""

from __future__ import annotations

import datetime
import re
import string

from server.errors import FieldProblem
from server.policies.models import IdType

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SYMBOLS = set(string.punctuation)
# The most common passwords that would pass the class rule (lower-cased); the list is short
# on purpose: the class rule and the lock-out already stop the long tail.
COMMON_PASSWORDS = frozenset(
    [
        "password1",
        "password12",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "1password",
        "12345678a",
        "a12345678",
        "123456789a",
        "a123456789",
        "12345abc",
        "abc12345",
        "abc123456",
        "abcd1234",
        "1234abcd",
        "qwer1234",
        "1q2w3e4r",
        "1qaz2wsx",
        "qaz123456",
        "zxc123456",
        "qwe123456",
        "qwerty123",
        "qwerty12",
        "123qwe123",
        "aa123456",
        "aa12345678",
        "a1234567",
        "a123456",
        "a12345",
        "woaini1314",
        "woaini520",
        "iloveyou1",
        "iloveyou12",
        "admin123",
        "admin12345",
        "abc123abc",
        "1a2b3c4d",
        "147258369a",
        "5201314a",
        "q1w2e3r4",
        "asd123456",
        "123456qq",
        "qq123456",
        "zxcvbnm123",
    ]
)


def normalise_mobile(value: str) -> str:
    v = re.sub(r"[\s-]", "", value or "")
    if v.startswith("+86"):
        v = v[3:]
    return v


def mobile_problem(value: str, field: str = "mobile") -> FieldProblem | None:
    if not _MOBILE.match(value):
        return FieldProblem(
            field, "Enter an 11-digit mainland mobile number (1xxxxxxxxxx).", "INVALID_MOBILE"
        )
    return None


def password_problem(value: str, field: str = "password") -> FieldProblem | None:
    if not 8 <= len(value) <= 16:
        return FieldProblem(field, "The password must have 8 to 16 characters.", "PASSWORD_LENGTH")
    classes = 0
    classes += any(c.isascii() and c.isalpha() for c in value)
    classes += any(c.isdigit() and c.isascii() for c in value)
    classes += any(c in _SYMBOLS for c in value)
    if any(not (c.isascii() and (c.isalnum() or c in _SYMBOLS)) for c in value):
        return FieldProblem(
            field, "Use only letters, digits and symbols (no spaces).", "PASSWORD_CHARACTERS"
        )
    if classes < 2:
        return FieldProblem(
            field, "Use at least two of: letters, digits, symbols.", "PASSWORD_TOO_SIMPLE"
        )
    if value.lower() in COMMON_PASSWORDS:
        return FieldProblem(
            field, "This password is too common; choose another.", "PASSWORD_COMMON"
        )
    return None


def sms_code_problem(value: str, field: str = "smsCode") -> FieldProblem | None:
    if not re.fullmatch(r"\d{6}", value or ""):
        return FieldProblem(field, "The SMS code has 6 digits.", "INVALID_SMS_CODE")
    return None


# GB 11643-1999: 17 digits weighted, MOD 11-2 check character.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def gb11643_check(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def resident_id_birth_date(number: str) -> datetime.date | None:
    """Birth date of a valid 18-character resident / permanent-residence ID, else None."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return None
    if gb11643_check(number[:17]) != number[17]:
        return None
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born.year < 1900 or born > datetime.date.today():
        return None
    return born


_PATTERNS = {
    IdType.PASSPORT: re.compile(r"^[A-Z0-9]{5,17}$"),
    IdType.HK_MACAO_PERMIT: re.compile(r"^[HM]\d{8}(\d{2})?$"),
    IdType.TAIWAN_PERMIT: re.compile(r"^\d{8}(\d{2})?$"),
}


def normalise_id_number(value: str) -> str:
    return re.sub(r"\s", "", value or "").upper()


def id_number_problem(id_type: IdType, number: str, field: str = "idNumber") -> FieldProblem | None:
    if id_type in (IdType.RESIDENT_ID, IdType.FOREIGNER_PERMANENT_ID):
        if resident_id_birth_date(number) is None:
            return FieldProblem(
                field,
                "The ID number is not valid (18 characters, a real birth date and a matching check digit).",
                "INVALID_ID_NUMBER",
            )
        if id_type is IdType.FOREIGNER_PERMANENT_ID and not number.startswith("9"):
            # the 2023 permanent-residence ID numbers start with 9
            return FieldProblem(
                field, "A permanent-residence ID number starts with 9.", "INVALID_ID_NUMBER"
            )
        return None
    if not _PATTERNS[id_type].match(number):
        return FieldProblem(
            field, "The document number does not have the expected form.", "INVALID_ID_NUMBER"
        )
    return None


def name_problem(value: str, field: str = "name") -> FieldProblem | None:
    v = value.strip()
    if not 1 <= len(v) <= 60 or any(c.isdigit() or c in "<>{}\\" for c in v):
        return FieldProblem(field, "Enter the name as on the document.", "INVALID_NAME")
    return None
