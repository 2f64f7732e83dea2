from __future__ import annotations

from typing import Any

from server import signing
from server.settings import Settings
from tests.db import Api, FakeClock
from tests.schema.accounts.helpers import log_in
from tests.server.claims.files_helpers import tampered

URLS = """{ viewer { policies { ... on PolicyList { policies {
  policyNo html: certificateUrl pdf: certificateUrl(format: PDF) } } } } }"""


def urls(api: Api, token: str) -> dict[str, dict[str, str]]:
    rows = api(URLS, token=token)["data"]["viewer"]["policies"]["policies"]
    return {r["policyNo"]: r for r in rows}


def path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1]


def test_certificate_as_printable_html_and_pdf(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000001")
    links = urls(api, token)["DEMO-G-0001-03"]  # the minor child's, seen by the main insured
    html = api.client.get("/" + path(links["html"]))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "健康险团险个人电子凭证" in html.text and "DEMO-G-0001-03" in html.text
    child = demo.people["child"]
    assert child.id_number not in html.text  # the ID number stays masked
    assert child.id_number[:4] + "*" * 10 + child.id_number[-4:] in html.text
    assert html.headers["cache-control"] == "private, no-store"
    pdf = api.client.get("/" + path(links["pdf"]))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
    individual = api.client.get("/" + path(urls(api, token)["DEMO-I-8001"]["html"]))
    assert "健康险个险电子保单" in individual.text and "齿科保健" in individual.text


def test_certificate_links_expire_and_cannot_be_forged(
    api: Api, demo: Any, clock: FakeClock, member_settings: Settings
) -> None:
    token = log_in(api, "13800000001")
    link = path(urls(api, token)["DEMO-G-0001-01"]["html"])
    signed = link.removeprefix("certificates/").removesuffix(".html")
    read = signing.read(member_settings.secret_key, "certificate", signed, now=clock.now)
    assert read is not None and api.client.get("/" + link).status_code == 200
    (policy_id,) = read.subject
    # another policy id with the same signature
    other = tampered(signed, s=[int(policy_id) + 1])
    assert api.client.get(f"/certificates/{other}.html").status_code == 404
    # padding appended, and a token for another purpose made with the same key
    assert api.client.get(f"/certificates/{signed}==.html").status_code == 404
    claim_file = signing.sign(
        member_settings.secret_key,
        "claim-file",
        read.subject,
        session_id=read.session_id,
        now=clock.now,
    )
    assert api.client.get(f"/certificates/{claim_file}.html").status_code == 404
    assert api.client.get("/certificates/garbage.html").status_code == 404
    assert api.client.get("/" + link.replace(".html", ".exe")).status_code == 404
    clock.advance(minutes=11)
    r = api.client.get("/" + link)
    assert r.status_code == 404 and r.json()["error"]["code"] == "CERTIFICATE_LINK_INVALID"


def test_a_certificate_link_ends_with_the_session_that_asked_for_it(api: Api, demo: Any) -> None:
    # given a link made out to a signed-in member
    token = log_in(api, "13800000001")
    link = "/" + path(urls(api, token)["DEMO-G-0001-01"]["pdf"])
    assert api.client.get(link).status_code == 200
    # when the member signs out
    assert api("mutation { logOut { ok } }", token=token)["data"]["logOut"]["ok"]
    # then the link, still within its ten minutes, opens nothing
    r = api.client.get(link)
    assert r.status_code == 404 and r.json()["error"]["code"] == "CERTIFICATE_LINK_INVALID"
    # and a new sign-in does not bring it back
    log_in(api, "13800000001")
    assert api.client.get(link).status_code == 404
