"""The claimants' FAQ page: /h5/<lang>/faq, searchable without JavaScript."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from h5.i18n import Translator
from h5.templating import render
from server.errors import InvalidInput
from server.help import faq


async def faq_page(request: Request, context: dict[str, Any]) -> Response:
    """``context`` is the page context h5/routes.py builds for every directory page."""
    lang = context["lang"]
    t = Translator(lang)
    query = request.query_params.get("q", "").strip()
    error = None
    try:
        found = faq.search(query)
    except InvalidInput:
        error, found = t("faq.too_long", max=faq.MAX_QUERY), []
    context.update(
        title=t("faq.title"),
        query=query[: faq.MAX_QUERY],
        entries=[
            {"id": e.id, "question": e.question[lang], "answer": e.answer[lang], "source": e.source}
            for e in found
        ],
        error=error,
        total=len(faq.entries()),
        max_query=faq.MAX_QUERY,
    )
    return render("help/faq.html", context, 400 if error else 200)
