"""Build the public OpenStreetMap corpus folder from the bundled GeoJSON export.

    .venv/bin/python -m scripts.import_osm                 # -> var/osm
    .venv/bin/python -m scripts.import_osm --out /tmp/osm --health my_export.geojson

``--vendor-from DIR`` refreshes directory_data/sources/osm_shanghai/ from a new
export (the health sites copied as they are, the district outlines simplified).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from server.directory import osm
from server.settings import ROOT

SOURCES = ROOT / "directory_data" / "sources" / "osm_shanghai"
# ~20 m: far below the distance between any mapped facility and a district border.
SIMPLIFY_TOLERANCE_DEG = 0.0002


def vendor(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / osm.HEALTH_FILE, dest / osm.HEALTH_FILE)
    points = src / "shanghai_health_osm_points.csv"
    if points.is_file():
        shutil.copyfile(points, dest / points.name)
    data = json.loads((src / osm.DISTRICTS_FILE).read_text(encoding="utf-8"))
    small = osm.simplify_district_geojson(data, SIMPLIFY_TOLERANCE_DEG)
    # one feature per line keeps diffs of a refreshed export readable
    body = ",\n".join(
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in small["features"]
    )
    head = {k: v for k, v in small.items() if k != "features"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + body + "\n]}\n"
    (dest / osm.DISTRICTS_FILE).write_text(text, encoding="utf-8")
    print(f"wrote {dest} (district outlines simplified at {SIMPLIFY_TOLERANCE_DEG} degrees)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.import_osm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--health", type=Path, default=SOURCES / osm.HEALTH_FILE, help="OSM GeoJSON of health sites"
    )
    parser.add_argument(
        "--districts",
        type=Path,
        default=SOURCES / osm.DISTRICTS_FILE,
        help="OSM GeoJSON of district outlines",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=ROOT / "directory_data",
        help="folder with districts.csv and departments.csv",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "var" / "osm", help="corpus folder to (re)write"
    )
    parser.add_argument(
        "--vendor-from",
        type=Path,
        help="copy a new export into directory_data/sources/osm_shanghai and stop",
    )
    args = parser.parse_args(argv)

    if args.vendor_from:
        vendor(args.vendor_from, SOURCES)
        return 0
    for path in (
        args.health,
        args.districts,
        args.reference / "districts.csv",
        args.reference / "departments.csv",
    ):
        if not path.is_file():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
    try:
        report = osm.import_osm(args.health, args.districts, args.reference, args.out)
    except (ValueError, KeyError) as e:
        print(f"error: {args.health} is not an OpenStreetMap GeoJSON export ({e})", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"wrote {args.out}; credit: {osm.ATTRIBUTION} (ODbL 1.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
