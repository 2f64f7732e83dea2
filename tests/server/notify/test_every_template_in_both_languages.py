"""Every text a member is sent (SMS, e-mail, in-app message) exists in Chinese and English,
and each one renders whole: every placeholder filled, the Chinese one in Chinese, the
English one without a Chinese character. One test per template set, event and language.

Issue 15: "every template exists in both languages and a test renders each".
"""

from __future__ import annotations

import datetime
import re
import string
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from server.billing import advance, notices, reissue
from server.claims import announcements, details_change, preauth
from server.notify import templates
from server.notify.templates import EmailContent
from server.service_supplements import Notice, email_text, sms_text

LANGS = ("zh", "en")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class Sample(dict[str, str]):
    """Fills every placeholder with a latin sample value named after it."""

    def __missing__(self, key: str) -> str:
        return f"x-{key}"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    else:
        for v in value:
            yield from _texts(v)


def _by_language(table: Mapping[Any, Any]) -> dict[str, dict[str, Any]]:
    """{template set: {lang: texts}} from a table keyed by event then language, or by
    (event, language)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if isinstance(key, tuple):
            event, lang = key
            out.setdefault(str(event), {})[lang] = value
        else:
            out[str(key)] = dict(value)
    return out


TABLES: dict[str, Mapping[Any, Any]] = {
    "claim": announcements.TEXTS,
    "appointment": notices.TEXTS,
    "card_reissue": reissue._TEXTS,
    "details_change": details_change._TEXT,
    "advance_payment": advance._TEXTS,
    "pre_auth_decision": preauth._NOTICES,
    "pre_auth_title": {s: {"zh": zh, "en": en} for s, (zh, en) in preauth._TEXT.items()},
}
CASES = [
    (name, event, lang)
    for name, table in TABLES.items()
    for event in _by_language(table)
    for lang in LANGS
]


@pytest.mark.parametrize(("name", "event", "lang"), CASES)
def test_each_template_exists_and_renders_in_each_language(
    name: str, event: str, lang: str
) -> None:
    sets = _by_language(TABLES[name])[event]
    assert set(sets) == set(LANGS), f"{name} {event}: languages {sorted(sets)}"
    texts = [t for t in _texts(sets[lang]) if t]
    assert texts, f"{name} {event} {lang}: empty"
    other = [t for t in _texts(sets["en" if lang == "zh" else "zh"]) if t]
    # the same channels in both languages (an SMS in one is an SMS in the other)
    assert len(texts) == len(other), f"{name} {event}: channels differ between languages"
    for text in texts:
        rendered = text.format_map(Sample())
        assert "{" not in rendered and "}" not in rendered, rendered
        if lang == "zh":
            assert CJK.search(rendered), f"{name} {event} zh has no Chinese: {rendered!r}"
        else:
            assert not CJK.search(rendered), f"{name} {event} en has Chinese: {rendered!r}"
    # the placeholders of one language are those of the other (none lost in translation),
    # but for the Chinese SMS's unsubscribe line and names the English ones leave out
    zh_fields = set().union(*(_fields(t) for t in _texts(sets["zh"])))
    en_fields = set().union(*(_fields(t) for t in _texts(sets["en"])))
    assert en_fields - zh_fields == set(), f"{name} {event}: English asks for more"


def test_the_claim_announcements_render_through_their_renderer() -> None:
    facts = announcements.Facts(
        name="Li Ming",
        claim_no="VSHH26030200001",
        approved="1,200.00",
        paid="1,150.00",
        reason="Not covered",
        deadline="6 March 2026",
        paid_on="9 March 2026",
        payee="ICBC (****1234)",
    )
    for event in announcements.Event:
        for lang in LANGS:
            text = announcements.render(event, lang, facts)
            assert text.title and text.message
            for part in (text.title, text.message, text.sms, text.email_subject, text.email_body):
                assert "{" not in part and (lang == "zh" or not CJK.search(part)), part


NOTICE = templates.SupplementNotice(
    claimant_name="Li Ming",
    claim_no="VSHH26030200001",
    instructions="Please send the medical record.",
    deadline=datetime.date(2026, 3, 4),
    link="https://example.com/h5/supplement/abcdefghijklmnop",
    claim_type="Outpatient",
)
SERVICE = Notice(
    name="Li Ming",
    service="advance payment",
    reference="AP-000001",
    missing="discharge summary",
    instructions="Please send the discharge summary.",
    deadline="4 March 2026",
    working_days=2,
    link="https://example.com/h5/supplement/r/abcdefghijklmnop",
)


@pytest.mark.parametrize("lang", LANGS)
def test_the_supplement_notices_exist_in_each_language(lang: str) -> None:
    sms = templates.supplement_sms(NOTICE, lang=lang)
    mail = templates.supplement_email(NOTICE, lang=lang)
    service_sms = sms_text(SERVICE, lang)
    service_mail: EmailContent = email_text(SERVICE, lang)
    for text in (
        sms,
        mail.subject,
        mail.body,
        service_sms,
        service_mail.subject,
        service_mail.body,
    ):
        assert NOTICE.link in text or "VSHH" in text or "AP-000001" in text or "Li Ming" in text
        if lang == "zh":
            assert CJK.search(text), text
        else:
            assert not CJK.search(text), text
