"""The FAQ: public, no sign-in; the same entries as /h5/<lang>/faq."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from schema.context import Info
from server.help import faq


@strawberry.enum(description="A step of the claim flow that FAQ entries can answer.")
class ClaimHelpStep(Enum):
    CONTACT = "contact"
    BASICS = "basics"
    AMOUNT = "amount"
    UPLOAD = "upload"
    CONFIRM = "confirm"
    SUCCESS = "success"
    PROGRESS = "progress"


@strawberry.type(description="A question claimants ask, answered in Chinese and English.")
class FaqEntry:
    id: strawberry.ID = strawberry.field(
        description="Stable id, also the anchor on the FAQ page (e.g. no-medical-record)."
    )
    source: str = strawberry.field(
        description="The section of the insurer's claims guide the answer comes from."
    )
    topics: list[str] = strawberry.field(description="Topic words, e.g. upload, sms.")
    steps: list[ClaimHelpStep] = strawberry.field(
        description="The claim steps this entry answers: show a link to it beside them."
    )
    question_zh: str = strawberry.field(description="The question in Chinese.")
    answer_zh: str = strawberry.field(description="The answer in Chinese.")
    question_en: str = strawberry.field(description="The question in English.")
    answer_en: str = strawberry.field(description="The answer in English.")
    url_zh: str = strawberry.field(description="The entry on the Chinese FAQ page.")
    url_en: str = strawberry.field(description="The entry on the English FAQ page.")


def _view(e: faq.FaqEntry, base_url: str) -> FaqEntry:
    return FaqEntry(
        id=strawberry.ID(e.id),
        source=e.source,
        topics=list(e.topics),
        steps=[ClaimHelpStep(s) for s in e.answers],
        question_zh=e.question["zh"],
        answer_zh=e.answer["zh"],
        question_en=e.question["en"],
        answer_en=e.answer["en"],
        url_zh=f"{base_url}/h5/zh/faq#{e.id}",
        url_en=f"{base_url}/h5/en/faq#{e.id}",
    )


@strawberry.type
class HelpQuery:
    @strawberry.field(
        description="The claimants' FAQ: every entry, those matching a question (Chinese, English or pinyin words), or those that answer one claim step."
    )
    def faq(
        self,
        info: Info,
        query: Annotated[
            str | None,
            strawberry.argument(description="Words of a question, at most 100 characters."),
        ] = None,
        step: Annotated[
            ClaimHelpStep | None,
            strawberry.argument(description="Only the entries that answer this claim step."),
        ] = None,
    ) -> list[FaqEntry]:
        found = faq.search(query)
        if step is not None:
            wanted = {e.id for e in faq.for_step(step.value)}
            found = [e for e in found if e.id in wanted]
        base_url = info.context.services.settings.base_url
        return [_view(e, base_url) for e in found]
