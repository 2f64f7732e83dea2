"""Check a directory folder and print every problem (file, row, field, message).

    .venv/bin/python -m scripts.validate_data                   # directory_data/
    .venv/bin/python -m scripts.validate_data var/osm
    .venv/bin/python -m scripts.validate_data bench_data/10k --allow-synthetic

Exit status 0 when the folder is valid (a summary is printed), 1 when it is not.
Synthetic rows are refused unless --allow-synthetic is given: they are for
benchmark folders only and never ship as real data.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from server.directory.models import CoordinatePrecision
from server.directory.validation import check_folder
from server.settings import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.validate_data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "directory_data")
    parser.add_argument(
        "--allow-synthetic", action="store_true", help="accept rows whose source is synthetic"
    )
    args = parser.parse_args(argv)

    data, problems = check_folder(args.folder, allow_synthetic=args.allow_synthetic)
    if problems:
        print(f"{args.folder}: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1

    kinds = Counter(f.kind.value for f in data.facilities)
    approximate = sum(
        f.coordinate_precision is CoordinatePrecision.APPROXIMATE for f in data.facilities
    )
    print(f"{args.folder}: valid")
    print(
        f"  {len(data.facilities)} facilities ("
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + f"); {approximate} with approximate coordinates"
    )
    print(
        f"  {len(data.districts)} districts, {len(data.networks)} networks, "
        f"{len(data.departments)} departments"
    )
    for net in data.networks:
        members = sum(net.id in f.networks for f in data.facilities)
        print(f"  network {net.id} ({net.name_zh}): {members} facilities")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
