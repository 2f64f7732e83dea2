"""Plan rules: the shipped files load, and broken files are refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.claims.rules import DEFAULT_CODE, InvalidRules, load_rule_book, rule_book


def test_the_default_rules_limit_online_claims_to_2000_yuan() -> None:
    rules = rule_book().for_plan(None)
    assert rules.code == DEFAULT_CODE
    assert rules.online_limit_fen == 2000_00
    assert rules.claim_for_minor_children and not rules.claim_for_adult_dependants
    outpatient = rules.claim_type("OUTPATIENT")
    assert outpatient is not None
    assert outpatient.required == ("MEDICAL_RECORD", "INVOICE")


def test_a_plan_without_a_file_of_its_own_uses_the_default() -> None:
    assert rule_book().for_plan("DEMO-GP-A").code == DEFAULT_CODE


def test_the_university_plan_has_the_notices_types_bands_and_office_cases() -> None:
    rules = rule_book().for_plan("NKU-STAFF-2019")
    assert rules.code == "NKU-STAFF"
    assert rules.online_limit_fen is None
    assert [t.code for t in rules.claim_types] == [
        "OUTPATIENT_CARD",
        "OUTPATIENT_ADVANCE",
        "SPECIAL_OUTPATIENT",
        "INPATIENT",
        "INPATIENT_RESIDENT_ELSEWHERE",  # 三.1(4) "异地安置职工异地联网住院费用"
    ]
    card = rules.claim_type("OUTPATIENT_CARD")
    advance = rules.claim_type("OUTPATIENT_ADVANCE")
    assert card is not None and advance is not None
    # 7,500 and 11,300 are the calendar year's outpatient totals (三.2(1) "自然年内门诊累计"),
    # not bands of one claim
    assert (card.min_fen, card.max_fen) == (None, None)
    assert (advance.min_fen, advance.max_fen) == (None, None)
    year = rules.outpatient_year
    assert year is not None
    assert year.counted == ("OUTPATIENT_CARD", "OUTPATIENT_ADVANCE")
    assert year.card_online_below_fen == 7500_00  # 三.1(1) "门诊刷医保卡费用(7500元以下"
    # 三.1(2) "门诊垫付费用（7500元至11300元）"
    assert (year.advance_online_from_fen, year.advance_online_up_to_fen) == (7500_00, 11300_00)
    assert year.advance_below_office_case == "OUTPATIENT_ADVANCE_BELOW_7500"
    assert rules.declaration is not None and rules.declaration.version
    assert "南开大学医院" in card.excluded_facilities
    office = rules.office_case("EMERGENCY_OBSERVATION")
    assert office is not None and "医保办" in office.reason


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


DEFAULT = """
code = "DEFAULT"
name = "n"
name_en = "n"
online_limit = 2000
[[categories]]
code = "INVOICE"
name = "发票"
name_en = "Invoice"
[[claim_types]]
code = "OUTPATIENT"
name = "门诊"
name_en = "Outpatient"
required = ["INVOICE"]
"""


def test_a_minimal_valid_folder_loads(tmp_path: Path) -> None:
    _write(tmp_path, "default.toml", DEFAULT)
    book = load_rule_book(tmp_path)
    assert book.get("DEFAULT").online_limit_fen == 200000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEFAULT.replace('required = ["INVOICE"]', 'required = ["XRAY"]'), "unknown document"),
        (DEFAULT.replace('required = ["INVOICE"]', "required = []"), "at least one category"),
        (DEFAULT.replace("online_limit = 2000", "online_limit = -5"), "non-negative amount"),
        (DEFAULT.replace('name_en = "Outpatient"\n', ""), "`name_en` is missing"),
        (DEFAULT + "min_amount = 9\nmax_amount = 1\n", "above `max_amount`"),
        (
            DEFAULT.replace(
                'code = "OUTPATIENT"', 'code = "OUTPATIENT"\nexcluded_facilities = ["x"]'
            ),
            "excluded_reason",
        ),
        ("code = [", "default.toml"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_file_and_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    _write(tmp_path, "default.toml", text)
    with pytest.raises(InvalidRules, match=r"default\.toml") as e:
        load_rule_book(tmp_path)
    assert message in str(e.value)


def test_the_default_rules_are_required(tmp_path: Path) -> None:
    _write(tmp_path, "other.toml", DEFAULT.replace('"DEFAULT"', '"OTHER"'))
    with pytest.raises(InvalidRules, match="DEFAULT rules file is missing"):
        load_rule_book(tmp_path)


def test_one_plan_cannot_have_two_rule_sets(tmp_path: Path) -> None:
    _write(tmp_path, "default.toml", DEFAULT)
    _write(tmp_path, "a.toml", 'plans = ["P1"]\n' + DEFAULT.replace('"DEFAULT"', '"A"'))
    _write(tmp_path, "b.toml", 'plans = ["P1"]\n' + DEFAULT.replace('"DEFAULT"', '"B"'))
    with pytest.raises(InvalidRules, match="already has rules"):
        load_rule_book(tmp_path)
