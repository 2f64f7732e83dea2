"""/h5/<lang>/faq: the claimants' questions, searchable with no JavaScript."""

from __future__ import annotations

import pytest

from tests.h5.conftest import Fetch


@pytest.mark.parametrize(
    ("lang", "html_lang", "question"),
    [
        ("en", "en", "I have no medical record. What do I upload?"),
        ("zh", "zh-CN", "上传理赔资料时，没有病历怎么办？"),
    ],
)
def test_the_faq_page_lists_every_question_in_its_language(
    get: Fetch, lang: str, html_lang: str, question: str
) -> None:
    page = get(f"/h5/{lang}/faq")
    assert page.status == 200
    assert f'<html lang="{html_lang}">' in page.html
    assert page.html.count('<li id="') == 9
    assert question in page.html
    assert 'href="tel:10108686"' in page.html


def test_searching_keeps_the_query_and_shows_matches_first(get: Fetch) -> None:
    page = get("/h5/en/faq", q="bingli")
    assert page.status == 200
    assert 'value="bingli"' in page.html
    assert page.html.index('id="no-medical-record"') < page.html.index(
        'id="where-prescriptions-go"'
    )
    assert 'id="post-originals"' not in page.html
    assert "2 of 9 questions match" in page.html


def test_no_match_says_so_and_offers_every_question(get: Fetch) -> None:
    page = get("/h5/zh/faq", q="zzzqqq")
    assert page.status == 200
    assert "没有与“zzzqqq”相关的问题" in page.html
    assert 'href="/h5/zh/faq"' in page.html


def test_a_too_long_query_is_a_400_that_says_what_to_fix(get: Fetch) -> None:
    page = get("/h5/en/faq", q="x" * 101)
    assert page.status == 400
    assert "Type at most 100 characters." in page.html
    assert "x" * 101 not in page.html


def test_an_unknown_language_is_a_404(get: Fetch) -> None:
    assert get("/h5/fr/faq").status == 404
