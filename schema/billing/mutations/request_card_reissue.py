from __future__ import annotations

from typing import Annotated

import strawberry

from schema.accounts.errors import PolicyNotFoundError, RealNameRequiredError, ValidationError
from schema.billing.auth import billing_env, policy_pk
from schema.billing.errors import AppointmentRuleError, HighEndRequiredError
from schema.billing.inputs import RequestCardReissueInput
from schema.billing.types import CardReissueNode, reissue_node
from schema.context import Info
from schema.results import ResultUnion
from server.billing import models as m
from server.billing import reissue


@strawberry.type(description="补卡申请提交成功.")
class RequestCardReissueSuccess:
    reissue: CardReissueNode = strawberry.field(description="The request, SUBMITTED.")


RequestCardReissuePayload = ResultUnion(
    "RequestCardReissuePayload",
    RequestCardReissueSuccess,
    ValidationError,
    HighEndRequiredError,
    AppointmentRuleError,
    PolicyNotFoundError,
    RealNameRequiredError,
    description="Result of requestCardReissue.",
)


@RequestCardReissuePayload.resolver
def request_card_reissue(
    info: Info,
    input: Annotated[RequestCardReissueInput, strawberry.argument(description="The request.")],
) -> RequestCardReissueSuccess:
    cx, db, account = billing_env(info)
    row = reissue.request(
        db,
        cx,
        account,
        policy_id=policy_pk(input.policy_id),
        mobile=input.mobile,
        province_code=input.province_code,
        city_code=input.city_code,
        district_code=input.district_code,
        street=input.street,
        postcode=input.postcode,
        reason=m.ReissueReason(input.reason.value),
        reason_text=input.reason_text,
    )
    return RequestCardReissueSuccess(reissue=reissue_node(db, cx, row))
