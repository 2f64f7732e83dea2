from __future__ import annotations

from typing import Any

from tests.db import Api, FakeClock
from tests.schema.accounts.helpers import log_in

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
    api: Api, demo: Any, clock: FakeClock
) -> None:
    token = log_in(api, "13800000001")
    link = path(urls(api, token)["DEMO-G-0001-01"]["html"])
    pid, aid, exp, mac = link.removeprefix("certificates/").removesuffix(".html").split(".")
    # another policy id with the same signature
    forged = f"certificates/{int(pid) + 1}.{aid}.{exp}.{mac}.html"
    assert api.client.get("/" + forged).status_code == 404
    assert api.client.get("/certificates/garbage.html").status_code == 404
    assert api.client.get("/" + link.replace(".html", ".exe")).status_code == 404
    clock.advance(minutes=11)
    r = api.client.get("/" + link)
    assert r.status_code == 404 and r.json()["error"]["code"] == "CERTIFICATE_LINK_INVALID"
