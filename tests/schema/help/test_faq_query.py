"""`faq` over GraphQL: public, searchable, by claim step, with links to the H5 page."""

from __future__ import annotations

from tests.conftest import GraphQLClient, error_codes

QUERY = """
query ($q: String, $step: ClaimHelpStep) {
  faq(query: $q, step: $step) { id source steps questionZh answerEn urlEn urlZh }
}
"""


def test_faq_answers_without_sign_in_with_both_languages(gql: GraphQLClient) -> None:
    body = gql(QUERY, {"q": "病历"})
    entries = body["data"]["faq"]
    assert entries[0]["id"] == "no-medical-record"
    assert entries[0]["questionZh"] == "上传理赔资料时，没有病历怎么办？"
    assert "medical record" in entries[0]["answerEn"]
    assert entries[0]["source"] == "§12 Q1"
    assert entries[0]["urlEn"].endswith("/h5/en/faq#no-medical-record")
    assert entries[0]["urlZh"].endswith("/h5/zh/faq#no-medical-record")


def test_faq_by_claim_step(gql: GraphQLClient) -> None:
    body = gql(QUERY, {"step": "UPLOAD"})
    ids = [e["id"] for e in body["data"]["faq"]]
    assert ids == ["no-medical-record", "where-prescriptions-go"]
    assert all("UPLOAD" in e["steps"] for e in body["data"]["faq"])


def test_faq_question_too_long_is_a_user_error(gql: GraphQLClient) -> None:
    body = gql(QUERY, {"q": "x" * 101})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None
