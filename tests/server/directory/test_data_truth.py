"""The reviewed lists as shipped: complete addresses, a source for every fact, one point
per building, and every point inside its district."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from server.directory.directory import Directory
from server.directory.loader import load_directory
from server.directory.models import Ownership
from server.directory.outlines import OUTLINES_FILE, read_outlines
from server.directory.validation import FACTS_FILE
from server.settings import ROOT, Settings

DATA = ROOT / "directory_data"


@pytest.fixture(scope="module")
def curated() -> Directory:
    return load_directory(Settings(environment="test", directory_source="curated"))


def _facts() -> dict[str, dict[str, list[dict[str, str]]]]:
    out: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    with (DATA / FACTS_FILE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["facility_id"]][row["field"]].append(row)
    return out


def test_no_address_ends_in_a_truncation_mark(curated: Directory) -> None:
    for f in curated.facilities:
        for address in (f.address_zh, f.address_en):
            assert "..." not in address and "…" not in address, f.id


def test_every_row_has_a_source_and_every_point_a_recorded_one(curated: Directory) -> None:
    facts = _facts()
    for f in curated.facilities:
        assert f.source.strip(), f.id
        assert facts[f.id]["point"], f.id
        assert all(r["source"].strip() and r["method"].strip() for r in facts[f.id]["point"])
        if f.address_zh:
            assert facts[f.id]["address"], f.id
        if f.phone:
            assert facts[f.id]["phone"], f.id
        if f.ownership is not Ownership.UNKNOWN:
            assert facts[f.id]["ownership"], f.id


def test_no_two_facilities_share_a_point_unless_they_share_a_building(
    curated: Directory,
) -> None:
    by_point: dict[tuple[float, float], list[str]] = defaultdict(list)
    for f in curated.facilities:
        by_point[round(f.lat, 6), round(f.lng, 6)].append(f.id)
    for ids in by_point.values():
        if len(ids) > 1:
            buildings = {curated.get(i).building for i in ids}  # type: ignore[union-attr]
            assert len(buildings) == 1 and "" not in buildings, ids


def test_every_point_lies_in_its_district(curated: Directory) -> None:
    outlines = read_outlines(DATA / OUTLINES_FILE)
    with (DATA / "districts.csv").open(encoding="utf-8", newline="") as fh:
        osm_ids = {r["district_zh"]: r["osm_id"] for r in csv.DictReader(fh)}
    for f in curated.facilities:
        assert f.district, f"{f.id}: every seed facility's district is known"
        assert outlines[osm_ids[f.district]].contains(f.lat, f.lng), f.id


def test_no_more_than_two_rows_sit_on_a_district_centre(curated: Directory) -> None:
    # what the issue found: 8 of 15 facilities on a district or city centre
    centres = [f for f in curated.facilities if "centre of" in f.coordinate_method]
    assert len(centres) <= 3, [f.id for f in centres]
    assert all(f.approximate for f in centres)


def test_facts_name_only_known_facilities_and_fields(curated: Directory) -> None:
    ids = {f.id for f in curated.facilities}
    assert set(_facts()) <= ids


def test_the_outlines_file_is_the_one_the_validator_reads() -> None:
    assert Path(DATA / OUTLINES_FILE).is_file()
