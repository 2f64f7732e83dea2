"""Write the printed GraphQL SDL to schema/schema.graphql (the published contract)."""

from __future__ import annotations

from schema import build_schema
from server.settings import ROOT

TARGET = ROOT / "schema" / "schema.graphql"


def sdl() -> str:
    return build_schema().as_str() + "\n"


def main() -> int:
    TARGET.write_text(sdl(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
