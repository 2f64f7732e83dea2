"""Write the QR codes (SVG and PNG) that open the English medical and dental lists.

    .venv/bin/python -m scripts.make_qr [--base-url https://example.com] [--out var/qr]

The base URL defaults to the BASE_URL setting, so print codes with the public address.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from h5 import qr
from server.settings import ROOT, from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.make_qr", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--base-url", default=None, help="public address of the site")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "qr", help="output folder")
    args = parser.parse_args(argv)
    base_url = (args.base_url or from_env().base_url).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        parser.error("--base-url must start with http:// or https://")
    for path in qr.write_all(base_url, args.out):
        print(path)
    for kind in qr.QR_KINDS:
        print(f"{kind}: {qr.page_url(base_url, kind)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
