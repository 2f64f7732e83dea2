"""Every template compiles, every string comes from both translation files."""

from __future__ import annotations

import json
import re

import pytest

from h5.i18n import LANGUAGES, Translator, strings
from h5.templating import TEMPLATES, env
from server.directory.models import Category, FacilityKind


@pytest.mark.parametrize("name", sorted(env.list_templates()))
def test_every_template_compiles(name: str) -> None:
    assert env.get_template(name) is not None


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, zh = strings("en"), strings("zh")
    assert set(en) == set(zh)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
        assert en[key].strip() and zh[key].strip(), key


def test_every_key_used_in_templates_exists() -> None:
    used: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_.]+[a-z_])["']""", path.read_text(encoding="utf-8"))
        )
    assert used, "templates take their strings from the translations"
    assert used - set(strings("en")) == set()


def test_keys_built_from_enums_exist() -> None:
    keys = set(strings("en"))
    for kind in FacilityKind:
        assert {f"kind.{kind.value}.title", f"kind.{kind.value}.short"} <= keys
    for category in Category:
        assert f"category.{category.value}" in keys


def test_translator_fails_loudly_on_a_missing_key() -> None:
    with pytest.raises(KeyError):
        Translator("en")("no.such.key")
    with pytest.raises(ValueError):
        Translator("fr")
    assert Translator("en").count("results.count", 2) == "2 facilities"
    assert Translator("zh").count("results.count", 1) == "共 1 家机构"


def test_translation_files_are_valid_utf8_json() -> None:
    for lang in LANGUAGES:
        path = TEMPLATES.parent / "translations" / f"{lang}.json"
        assert isinstance(json.loads(path.read_bytes().decode("utf-8")), dict)
