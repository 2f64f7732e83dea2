"""Check a directory folder and print every problem (file, row, field, message).

    .venv/bin/python -m scripts.validate_data                   # directory_data/
    .venv/bin/python -m scripts.validate_data var/osm
    .venv/bin/python -m scripts.validate_data bench_data/10k --allow-synthetic
    .venv/bin/python -m scripts.validate_data --sources           # where each fact came from

Exit status 0 when the folder is valid (a summary is printed), 1 when it is not.
Synthetic rows are refused unless --allow-synthetic is given: they are for
benchmark folders only and never ship as real data.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

from server.directory.models import CoordinatePrecision, Facility
from server.directory.validation import FACTS_FILE, check_folder
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
    parser.add_argument(
        "--sources",
        action="store_true",
        help="list, for every facility, where each recorded fact comes from (facts.csv)",
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
    if args.sources:
        _print_sources(args.folder, data.facilities)
    return 0


def _print_sources(folder: Path, facilities: list[Facility]) -> None:
    facts: dict[str, list[tuple[str, str, str]]] = {}
    path = folder / FACTS_FILE
    if path.is_file():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                facts.setdefault(row["facility_id"], []).append(
                    (row["field"], row["source"], row["method"])
                )
    for f in facilities:
        print(f"\n{f.id} ({f.name_zh}): point {f.coordinate_precision.value}")
        for field, source, method in facts.get(f.id, []):
            print(f"  {field}: {source}\n      {method}")
        if f.id not in facts:
            print(f"  (no {FACTS_FILE}) row source: {f.source}")


if __name__ == "__main__":
    raise SystemExit(main())
