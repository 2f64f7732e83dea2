"""The claimants' FAQ: content from the claims guide, searchable in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.errors import InvalidInput
from server.help import faq

SEED = next(
    (Path(__file__).resolve().parents[3] / ".." / "shared" / "seeds").glob("000_*.txt"), None
)


def test_every_entry_has_both_languages_and_a_source() -> None:
    for e in faq.entries():
        for lang in faq.LANGUAGES:
            assert e.question[lang].strip() and e.answer[lang].strip()
        assert e.source.startswith("§")
        assert re.fullmatch(r"[a-z0-9-]+", e.id)


@pytest.mark.skipif(SEED is None, reason="the claims guide is not beside the project")
def test_the_chinese_text_of_section_12_is_the_guides_own() -> None:
    # given the guide's §12 (常见问题), whitespace aside
    assert SEED is not None
    guide = re.sub(r"\s+", "", SEED.read_text(encoding="utf-8"))
    # then every §12 question and answer appears in it word for word
    section_12 = [e for e in faq.entries() if e.source.startswith("§12")]
    assert len(section_12) == 7  # Q1-Q7
    for e in section_12:
        assert re.sub(r"\s+", "", e.question["zh"]) in guide
        assert re.sub(r"\s+", "", e.answer["zh"]) in guide


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("病历", "no-medical-record"),
        ("bingli", "no-medical-record"),  # pinyin
        ("no medical record", "no-medical-record"),
        ("验证码", "sms-code-not-arriving"),
        ("SMS code", "sms-code-not-arriving"),
        ("post the originals", "post-originals"),
        ("多久", "how-long-a-claim-takes"),
        ("how long", "how-long-a-claim-takes"),
        ("补材", "supplement-request"),
        ("direct billing", "direct-billing-booking"),
    ],
)
def test_a_question_in_either_language_finds_its_entry_first(query: str, first: str) -> None:
    found = faq.search(query)
    assert found and found[0].id == first


def test_an_empty_question_lists_everything_in_order_and_noise_finds_nothing() -> None:
    assert faq.search("") == list(faq.entries())
    assert faq.search("   ") == list(faq.entries())
    assert faq.search("zzzqqq") == []
    assert faq.search("the what how") == []  # words in every question tell nothing


def test_a_too_long_question_is_refused_with_its_field() -> None:
    with pytest.raises(InvalidInput) as e:
        faq.search("x" * (faq.MAX_QUERY + 1))
    assert e.value.field == "query"


def test_the_upload_step_links_to_the_medical_record_answer() -> None:
    ids = [e.id for e in faq.for_step("upload")]
    assert "no-medical-record" in ids and "where-prescriptions-go" in ids
    with pytest.raises(InvalidInput):
        faq.for_step("nowhere")
