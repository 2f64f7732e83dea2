"""Result unions: a resolver's domain errors become the typed errors its union declares."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError

from schema.accounts.errors import (
    LoginFailedError,
    RetryLaterError,
    SmsCodeInvalidError,
    ValidationError,
)
from schema.adjusters.errors import AdjusterClaimNotFoundError, AdjusterClaimRuleError
from schema.claims.errors import ClaimNotFoundError, ClaimRuleError
from schema.errors import INTERNAL, format_error
from schema.results import Error, ResultUnion, UndeclaredError
from server.accounts import errors as accounts
from server.claims.errors import AdjusterUnauthenticated, ClaimNotFound, ClaimRuleBroken
from server.claims.supplements import DocumentsMissing
from server.errors import DomainError, FieldProblem, InvalidInput, ValidationFailed
from tests.db import Api


@strawberry.type(description="Done.")
class Done:
    ok: bool = strawberry.field(description="Always true.")


MEMBER = ResultUnion(
    "ProbePayload",
    Done,
    ValidationError,
    RetryLaterError,
    ClaimRuleError,
    ClaimNotFoundError,
    description="A probe.",
)
ADJUSTER = ResultUnion(
    "AdjusterProbePayload",
    Done,
    AdjusterClaimNotFoundError,
    AdjusterClaimRuleError,
    description="A probe.",
)


def answer(union: ResultUnion[Done], exc: DomainError) -> Any:
    @union.resolver
    def resolve() -> Done:
        raise exc

    return resolve()


def test_the_declared_type_answers_with_the_domain_errors_details() -> None:
    # given a union with errors that carry more than a message and a code
    # when the service raises domain errors they represent
    wait = answer(MEMBER, accounts.LoginLocked("Too many tries.", retry_after=90))
    invalid = answer(
        MEMBER,
        ValidationFailed([FieldProblem("mobile", "Not a mobile number.", "INVALID_MOBILE")]),
    )
    rule = answer(MEMBER, ClaimRuleBroken("AMOUNT_OVER_LIMIT", "Over.", field="invoiceTotal"))
    missing = answer(MEMBER, DocumentsMissing(["INVOICE"]))  # a subclass of ClaimRuleBroken
    # then each becomes its typed error, details included
    assert isinstance(wait, RetryLaterError)
    assert (wait.code, wait.retry_after_seconds) == ("LOGIN_LOCKED", 90)
    assert isinstance(invalid, ValidationError) and invalid.code == "VALIDATION_FAILED"
    assert [(f.field, f.code) for f in invalid.field_errors] == [("mobile", "INVALID_MOBILE")]
    assert isinstance(rule, ClaimRuleError)
    assert (rule.code, rule.field, rule.message) == ("AMOUNT_OVER_LIMIT", "invoiceTotal", "Over.")
    assert isinstance(missing, ClaimRuleError) and missing.code == "DOCUMENTS_MISSING"


def test_each_union_answers_a_domain_error_with_its_own_type() -> None:
    exc = ClaimNotFound("No such claim.")
    assert type(answer(MEMBER, exc)) is ClaimNotFoundError
    assert type(answer(ADJUSTER, exc)) is AdjusterClaimNotFoundError


@pytest.mark.parametrize(
    "exc",
    [
        accounts.Unauthenticated("Sign in first."),
        AdjusterUnauthenticated("Sign in as an adjuster first."),
        InvalidInput("'after' is not a cursor this API gave out.", field="after"),
    ],
)
def test_errors_about_the_request_stay_top_level(exc: DomainError) -> None:
    with pytest.raises(type(exc)) as raised:
        answer(MEMBER, exc)
    assert raised.value is exc


def test_an_undeclared_domain_error_names_the_union_and_what_it_declares() -> None:
    # given a domain error no member of the union represents
    exc = accounts.SmsCodeInvalid("The code is wrong.")
    # when a resolver raises it
    with pytest.raises(UndeclaredError) as raised:
        answer(ADJUSTER, exc)
    # then the failure says where and what to do
    message = str(raised.value)
    assert "AdjusterProbePayload" in message
    assert "SmsCodeInvalid (SMS_CODE_INVALID)" in message
    assert "AdjusterClaimNotFoundError, AdjusterClaimRuleError" in message
    assert raised.value.__cause__ is exc


def test_a_union_with_two_answers_to_one_domain_error_is_refused() -> None:
    with pytest.raises(TypeError, match="ClaimRuleError and AdjusterClaimRuleError"):
        ResultUnion(
            "TwoAnswers", Done, ClaimRuleError, AdjusterClaimRuleError, description="Refused."
        )


def test_an_error_type_that_represents_nothing_is_refused() -> None:
    @strawberry.type(description="Represents nothing.")
    class Vague(Error):
        pass

    with pytest.raises(TypeError, match="Vague represents no domain error"):
        ResultUnion("Vague", Done, Vague, description="Refused.")


@strawberry.input(description="What the probe raises.")
class ProbeInput:
    error: str = strawberry.field(description="A domain error code, or empty.")


_RAISES: dict[str, DomainError] = {
    "LOGIN_FAILED": accounts.LoginFailed("Mobile number or password wrong."),
    "SMS_CODE_INVALID": accounts.SmsCodeInvalid("The code is wrong."),
}
PROBE = ResultUnion(
    "ProbeResult",
    Done,
    LoginFailedError,
    SmsCodeInvalidError,
    description="A probe.",
)


@strawberry.type(description="Probe queries.")
class ProbeQuery:
    @strawberry.field(description="Raises the error named, when declared.")
    @PROBE.resolver
    def probe(self, input: ProbeInput) -> Done:
        if input.error:
            raise _RAISES.get(input.error) or accounts.WechatNotBound("No binding.")
        return Done(ok=True)


PROBE_QUERY = """query($e: String!) {
  probe(input: {error: $e}) { __typename ... on Done { ok } ... on Error { code message } }
}"""


def run_probe(error: str) -> tuple[Any, list[GraphQLError]]:
    result = strawberry.Schema(query=ProbeQuery).execute_sync(PROBE_QUERY, {"e": error})
    return result.data, list(result.errors or [])


def test_the_union_is_the_fields_type_with_its_members_in_order() -> None:
    sdl = strawberry.Schema(query=ProbeQuery).as_str()
    assert "probe(input: ProbeInput!): ProbeResult!" in sdl
    assert (
        '"""A probe."""\nunion ProbeResult = Done | LoginFailedError | SmsCodeInvalidError' in sdl
    )


@pytest.mark.parametrize(
    ("error", "typename"),
    [
        ("", "Done"),
        ("LOGIN_FAILED", "LoginFailedError"),
        ("SMS_CODE_INVALID", "SmsCodeInvalidError"),
    ],
)
def test_a_declared_error_is_data_not_an_error(error: str, typename: str) -> None:
    data, errors = run_probe(error)
    assert errors == []
    assert data["probe"]["__typename"] == typename
    if error:
        assert data["probe"]["code"] == error


def test_an_undeclared_error_is_masked_in_production_and_explained_in_development() -> None:
    # given a resolver whose service raises a domain error its union does not declare
    data, errors = run_probe("WECHAT_NOT_BOUND")
    assert data is None and len(errors) == 1
    # when the response is written
    production = format_error(errors[0], debug=False)
    development = format_error(errors[0], debug=True)
    # then production shows nothing of it, development says what to fix
    assert production["extensions"] == {"code": INTERNAL}
    assert "WechatNotBound" not in str(production["message"])
    assert development["extensions"]["code"] == INTERNAL
    assert "ProbeResult has no error type for WechatNotBound" in str(development["message"])


def test_the_api_masks_an_undeclared_error_and_logs_why(
    api: Api, members: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a service that raises a domain error logIn does not declare
    def login(*args: Any, **kwargs: Any) -> Any:
        raise accounts.WechatNotBound("No WeChat binding exists.")

    monkeypatch.setattr(members.accounts, "login", login)
    # when a client logs in
    with caplog.at_level(logging.ERROR):
        body = api(
            'mutation { logIn(input: {mobile: "13612341560", password: "x"}) { __typename } }'
        )
    # then the client sees an internal error and the log says which union lacks which type
    assert [e["extensions"]["code"] for e in body["errors"]] == [INTERNAL]
    assert "WechatNotBound" not in body["errors"][0]["message"]
    assert "LogInPayload has no error type for WechatNotBound" in caplog.text
