from __future__ import annotations

import datetime

import pytest

from server.accounts.validation import (
    gb11643_check,
    id_number_problem,
    mobile_problem,
    normalise_mobile,
    password_problem,
    resident_id_birth_date,
)
from server.policies.models import IdType


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Health2026", None),
        ("abc!defgh", None),
        ("12345!!!", None),
        ("abcdefgh", "PASSWORD_TOO_SIMPLE"),
        ("12345678", "PASSWORD_TOO_SIMPLE"),
        ("Ab1", "PASSWORD_LENGTH"),
        ("Abcdefgh12345678X", "PASSWORD_LENGTH"),
        ("abc 12345", "PASSWORD_CHARACTERS"),
        ("密码abc12345", "PASSWORD_CHARACTERS"),
        ("Password1", "PASSWORD_COMMON"),
        ("abcd1234", "PASSWORD_COMMON"),
    ],
)
def test_password_rule(password: str, code: str | None) -> None:
    p = password_problem(password)
    assert (p.code if p else None) == code


def test_mobile_rule() -> None:
    assert mobile_problem("13612341560") is None
    assert normalise_mobile("+86 136-1234-1560") == "13612341560"
    for bad in ("12612341560", "1361234156", "136123415600", "abc"):
        assert mobile_problem(bad) is not None


def test_gb11643_checksum_and_birth_date() -> None:
    # the standard's own example
    assert gb11643_check("11010519491231002") == "X"
    assert resident_id_birth_date("11010519491231002X") == datetime.date(1949, 12, 31)
    assert resident_id_birth_date("110105194912310021") is None  # wrong check digit
    first17 = "11010519490230002"  # 30 February
    assert resident_id_birth_date(first17 + gb11643_check(first17)) is None
    future = "11010520991231002"
    assert resident_id_birth_date(future + gb11643_check(future)) is None


def test_document_numbers_by_type() -> None:
    assert id_number_problem(IdType.RESIDENT_ID, "11010519491231002X") is None
    assert id_number_problem(IdType.RESIDENT_ID, "110105194912310021") is not None
    pr = "93310019800517001"
    assert id_number_problem(IdType.FOREIGNER_PERMANENT_ID, pr + gb11643_check(pr)) is None
    assert id_number_problem(IdType.FOREIGNER_PERMANENT_ID, "11010519491231002X") is not None
    assert id_number_problem(IdType.PASSPORT, "E12345678") is None
    assert id_number_problem(IdType.PASSPORT, "E1") is not None
    assert id_number_problem(IdType.HK_MACAO_PERMIT, "H12345678") is None
    assert id_number_problem(IdType.TAIWAN_PERMIT, "12345678") is None
    assert id_number_problem(IdType.TAIWAN_PERMIT, "T1234567") is not None
