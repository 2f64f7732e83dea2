"""Sign-in shortcuts for the schema tests."""

from __future__ import annotations

from typing import Any

from tests.db import Api

LOGIN = """mutation($m: String!, $p: String!) {
  logIn(input: {mobile: $m, password: $p}) { __typename ... on SignInSuccess { token } }
}"""


def log_in(api: Api, mobile: str, password: str = "Demo2026!") -> str:
    out = api(LOGIN, m=mobile, p=password)["data"]["logIn"]
    assert out["__typename"] == "SignInSuccess", out
    return str(out["token"])


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]
