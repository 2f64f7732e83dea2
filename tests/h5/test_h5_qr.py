"""QR codes for the English quick-lookup pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from starlette.testclient import TestClient

from h5 import qr
from server.settings import ROOT, Settings


def test_qr_svg_route_serves_svg_for_the_configured_base_url(
    client: TestClient, settings: Settings
) -> None:
    for kind in ("medical", "dental", "designated"):
        r = client.get(f"/h5/en/qr/{kind}.svg")
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/svg+xml"
        assert r.content.startswith(b"<?xml")
        assert f"{settings.base_url}/h5/en/{kind}".encode() in r.content
        assert b"<svg" in r.content and b"<path" in r.content


def test_qr_png_route(client: TestClient) -> None:
    r = client.get("/h5/en/qr/dental.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_qr_encodes_the_page_url() -> None:
    import segno

    code = segno.make_qr(qr.page_url("https://example.org/", "medical"), error="m")
    # the same payload gives the same matrix: the route serves exactly this code
    assert qr.page_url("https://example.org/", "medical") == "https://example.org/h5/en/medical"
    assert code.matrix == segno.make_qr("https://example.org/h5/en/medical", error="m").matrix
    assert b"https://example.org/h5/en/medical" in qr.svg("https://example.org", "medical")


def test_make_qr_script_writes_svg_and_png(tmp_path: Path) -> None:
    out = tmp_path / "qr"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.make_qr",
            "--base-url",
            "https://cf.example",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "en-dental.png",
        "en-dental.svg",
        "en-designated.png",
        "en-designated.svg",
        "en-medical.png",
        "en-medical.svg",
    ]
    assert b"https://cf.example/h5/en/dental" in (out / "en-dental.svg").read_bytes()
    assert (out / "en-medical.png").read_bytes().startswith(b"\x89PNG")
    assert "medical: https://cf.example/h5/en/medical" in result.stdout


def test_make_qr_script_refuses_a_bad_base_url(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.make_qr",
            "--base-url",
            "example.org",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--base-url must start with http:// or https://" in result.stderr
