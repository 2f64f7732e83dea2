"""UI strings per page language, from h5/translations/<lang>.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh")
_DIR = Path(__file__).resolve().parent / "translations"


@cache
def strings(lang: str) -> Mapping[str, str]:
    with (_DIR / f"{lang}.json").open(encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
    return data


class Translator:
    """``t("key", n=3)``: the string for ``key`` with ``{n}`` filled in.

    A missing key raises: a page must never show a raw key to a user, and tests render
    every page, so a typo fails a test instead of shipping.
    """

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self._strings = strings(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self._strings[key]
        return text.format_map(values) if values else text

    def count(self, key: str, n: int) -> str:
        """Plural choice for English; Chinese uses the same ``_other`` form."""
        if n == 0:
            return self(f"{key}_zero", n=n)
        return self(f"{key}_one" if n == 1 else f"{key}_other", n=n)
