"""What "exact first within a distance band" costs a nearest-first search.

    .venv/bin/python -m scripts.bench_distance_band --size 10k --queries 300

Loads a synthetic directory (scripts/bench_directory.py makes it), marks every other row
exact (synthetic rows are all approximate, which would hide the geodesic km), builds a
tantivy index, then runs the same distance queries with the band ordering on and off in
alternating rounds (so a busy machine slows both alike) and prints p50/p95 in ms. The
geodesic km of the rows shown is left out: the two orders show different rows (the
ordered one more exact rows, each with its km).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

from scripts.bench_directory import BENCH_DIR, ensure_synthetic, percentiles, queries
from server.directory.directory import make_directory
from server.directory.loader import load_folder
from server.directory.models import CoordinatePrecision
from server.directory.service import DirectoryService, Sort
from server.search.factory import build_engine


class _Unordered(DirectoryService):
    """Plain nearest first: no band ordering (the rows past the page are still fetched)."""

    def _exact_first_in_band(self, near):  # type: ignore[no-untyped-def]
        return near.ordinals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_distance_band")
    parser.add_argument("--size", default="10k")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)

    loaded = load_folder(ensure_synthetic(args.size), allow_synthetic=True)
    exact = CoordinatePrecision.EXACT
    facilities = [
        dataclasses.replace(f, coordinate_precision=exact) if i % 2 else f
        for i, f in enumerate(loaded.facilities)
    ]
    directory = make_directory(facilities, loaded.districts, loaded.networks, "bench")
    index = Path(tempfile.mkdtemp(prefix="bench-band-", dir=BENCH_DIR))
    try:
        engine = build_engine("tantivy", directory, index / "ix")
        on, off = DirectoryService(directory, engine), _Unordered(directory, engine)
        qs = [q for shape, q in queries(args.queries, seed=13) if q.sort is Sort.DISTANCE]
        samples: dict[str, list[float]] = {"band order on": [], "band order off": []}
        for r in range(args.rounds):
            for name, svc in (("band order on", on), ("band order off", off))[
                :: 1 if r % 2 else -1
            ]:
                for q in qs:
                    t = time.perf_counter()
                    svc.search(q)  # without the km: the two orders show different rows
                    samples[name].append(time.perf_counter() - t)
        engine.close()
    finally:
        shutil.rmtree(index, ignore_errors=True)
    print(f"{args.size}, tantivy, {len(qs)} distance queries x {args.rounds} rounds")
    for name, values in samples.items():
        p50, p95 = percentiles(values)
        print(f"  {name}: p50 {p50:.2f} ms, p95 {p95:.2f} ms (n={len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
