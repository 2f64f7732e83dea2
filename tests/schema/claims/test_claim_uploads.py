"""The app's own path: GraphQL for the steps, the HTTP endpoint for files and signature."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.claims.models import Adjuster, Claim
from tests.db import TEST_VAULT, Api
from tests.schema.claims.helpers import ONE, SUPPLEMENT, Claimant, pk
from tests.server.claims.drafts_helpers import image

MAIN = "13800000001"
CONFIRM = """query($id: ID!) { claimConfirmation(id: $id) {
  ... on ClaimConfirmation { ready problems { code } claim { signed signatureUrl
    materials { category { code } documents { id } } } } } }"""


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


def _upload(zhang: Claimant, claim_id: str, path: str, *files: bytes) -> Any:
    return zhang.api.client.post(
        f"/api/claims/{claim_id}/{path}",
        files=[("file", (f"photo{i}.png", data, "image/png")) for i, data in enumerate(files)],
        headers={"Authorization": f"Bearer {zhang.token}"},
    )


def test_a_claim_with_files_and_signature_sent_over_http(zhang: Claimant) -> None:
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    zhang.basics(claim_id)
    zhang.amount(claim_id, payee={"bankName": "中国建设银行", "accountNo": "6217001210019876789"})
    for category in ("MEDICAL_RECORD", "INVOICE"):
        r = _upload(zhang, claim_id, f"documents?category={category}", image(), image())
        assert r.status_code == 201, r.text
    view = zhang(CONFIRM, id=claim_id)["data"]["claimConfirmation"]
    assert [p["code"] for p in view["problems"]] == ["SIGNATURE_REQUIRED"]
    counts = {m["category"]["code"]: len(m["documents"]) for m in view["claim"]["materials"]}
    assert counts["MEDICAL_RECORD"] == 2 and counts["INVOICE"] == 2
    r = _upload(zhang, claim_id, "signature", image(size=(200, 60)))
    assert r.status_code == 200, r.text
    view = zhang(CONFIRM, id=claim_id)["data"]["claimConfirmation"]
    assert view["ready"] and view["claim"]["signed"] and view["claim"]["signatureUrl"]
    out = zhang.submit(claim_id, zhang.send_code(claim_id))
    assert out["__typename"] == "SubmitClaimSuccess"
    # a submitted claim takes no more files
    r = _upload(zhang, claim_id, "documents?category=OTHER", image())
    assert r.status_code == 409


def test_an_in_app_supplement_over_http(
    zhang: Claimant, claims: ClaimContext, db_factory: sessionmaker[Session]
) -> None:
    from server.claims import supplements

    claim = zhang.submitted()
    with db_factory() as s:
        who = Adjuster(
            username="uploads-reviewer",
            display_name_enc=TEST_VAULT.encrypt("王审核"),
            password_hash="x",
        )
        s.add(who)
        s.flush()
        row = s.get(Claim, pk(claim["id"]))
        assert row is not None
        supplements.request_supplement(s, claims, who, row, ["OTHER"], "请补充费用清单")
        s.commit()
    r = _upload(zhang, claim["id"], "documents?category=OTHER", image())
    assert r.status_code == 201, r.text
    out = zhang.run(SUPPLEMENT, "submitClaimSupplement", claimId=claim["id"], remark="见附件")
    assert out["__typename"] == "SubmitClaimSupplementSuccess"
    detail = zhang(ONE, id=claim["id"])["data"]["claim"]
    assert detail["status"] == "UNDER_REVIEW"
    assert len(detail["documents"]) == len(claim["documents"]) + 1
