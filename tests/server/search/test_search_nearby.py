from __future__ import annotations

import math
import random

import numpy as np
import pytest
from geopy.distance import great_circle

from server.directory.directory import Directory
from server.directory.geo import EARTH_RADIUS_KM, haversine_km
from server.directory.models import FacilityKind
from server.search import BBox, SearchEngine, SearchFilters
from server.search.memory import passes
from server.search.nearby import box_around, nearest, within

NONE = SearchFilters()
PEOPLE_SQUARE = (31.2304, 121.4737)


def brute_force(
    engine: SearchEngine,
    directory: Directory,
    text: str | None,
    filters: SearchFilters,
    point: tuple[float, float],
) -> tuple[list[int], np.ndarray]:
    hits = engine.search(text, filters, None)
    d = haversine_km(*point, directory.lat_rad[hits.ordinals], directory.lng_rad[hits.ordinals])
    order = np.argsort(d, kind="stable")
    return hits.ordinals[order].tolist(), d[order]


@pytest.mark.parametrize(
    ("lat", "lng"), [(31.23, 121.47), (39.9, 116.4), (3.5, 110.0), (53.5, 125.0)]
)
@pytest.mark.parametrize("km", [0.05, 1.0, 30.0, 800.0])
def test_the_box_holds_the_whole_circle(lat: float, lng: float, km: float) -> None:
    box = box_around(lat, lng, km)
    rng = random.Random(7)
    for _ in range(500):
        bearing = rng.uniform(0, 2 * math.pi)
        # a point exactly km away along a great circle
        p = great_circle(kilometers=km, radius=EARTH_RADIUS_KM).destination(
            (lat, lng), math.degrees(bearing)
        )
        assert box.contains(p.latitude, p.longitude), (p.latitude, p.longitude)
    # and it is not much bigger than the circle
    assert (box.north - box.south) == pytest.approx(
        2 * math.degrees(km / EARTH_RADIUS_KM), rel=1e-4
    )


def test_a_circle_round_a_pole_takes_every_longitude() -> None:
    box = box_around(89.9, 10.0, 50.0)
    assert (box.west, box.east, box.north) == (-180.0, 180.0, 90.0)


@pytest.mark.parametrize(
    "box",
    [
        BBox(31.20, 121.45, 31.25, 121.55),
        BBox(31.0, 121.0, 31.5, 122.0),
        BBox(39.0, 116.0, 40.5, 117.0),
        BBox(10.0, 10.0, 11.0, 11.0),
        BBox(31.2090, 121.5179, 31.2090, 121.5179),  # a single point, edges included
    ],
)
def test_engines_filter_by_box(engine: SearchEngine, directory: Directory, box: BBox) -> None:
    for base in (NONE, SearchFilters(kind=FacilityKind.MEDICAL)):
        filters = SearchFilters(kind=base.kind, within=box)
        expected = [i for i, f in enumerate(directory.facilities) if passes(f, filters)]
        assert engine.search(None, filters, None).ordinals.tolist() == expected
        found = engine.search("医院", filters, None)
        assert set(found.ordinals.tolist()) == {
            i for i in engine.search("医院", base, None).ordinals.tolist() if i in set(expected)
        }
        assert found.total == len(found.ordinals)


@pytest.mark.parametrize("text", [None, "医院", "仁济", "hospital", "齿科", "hemujia", "xyzzy"])
@pytest.mark.parametrize("k", [1, 3, 10, 100])
def test_nearest_is_the_brute_force_answer(
    engine: SearchEngine, directory: Directory, text: str | None, k: int
) -> None:
    rng = random.Random(f"{text}-{k}")
    # many random points: facilities sharing a building tie on distance
    for point in [PEOPLE_SQUARE, (31.0, 121.2), (39.9, 116.4)] + [
        (rng.uniform(30.9, 31.4), rng.uniform(121.2, 121.7)) for _ in range(40)
    ]:
        expected, distances = brute_force(engine, directory, text, NONE, point)
        got = nearest(engine, directory, text, NONE, *point, k=k)
        assert got.ordinals.tolist() == expected[:k]
        assert np.allclose(got.distances_km, distances[:k])
        assert got.total == len(expected)


@pytest.mark.parametrize("max_km", [0.5, 3.0, 10.0, 2000.0])
def test_within_and_nearest_with_a_radius(
    engine: SearchEngine, directory: Directory, max_km: float
) -> None:
    filters = SearchFilters(kind=FacilityKind.MEDICAL)
    all_hits = engine.search("医院", filters, None).ordinals
    d = haversine_km(*PEOPLE_SQUARE, directory.lat_rad[all_hits], directory.lng_rad[all_hits])
    inside = all_hits[d <= max_km]

    around = within(engine, directory, "医院", filters, *PEOPLE_SQUARE, max_km)
    assert around.ordinals.tolist() == inside.tolist()  # relevance order kept
    assert around.total == inside.size
    assert (around.distances_km <= max_km).all()

    expected, _ = brute_force(engine, directory, "医院", filters, PEOPLE_SQUARE)
    expected = [i for i in expected if i in set(inside.tolist())]
    close = nearest(engine, directory, "医院", filters, *PEOPLE_SQUARE, k=4, max_km=max_km)
    assert close.ordinals.tolist() == expected[:4]
    assert close.total == inside.size


def test_a_box_from_the_caller_is_kept(engine: SearchEngine, directory: Directory) -> None:
    pudong = BBox(31.15, 121.50, 31.30, 121.65)
    filters = SearchFilters(within=pudong)
    expected, _ = brute_force(engine, directory, None, filters, PEOPLE_SQUARE)
    got = nearest(engine, directory, None, filters, *PEOPLE_SQUARE, k=5)
    assert got.ordinals.tolist() == expected[:5]
    assert got.total == len(expected)
    assert all(
        pudong.contains(directory.facilities[i].lat, directory.facilities[i].lng)
        for i in got.ordinals
    )


def test_nothing_near_nothing(engine: SearchEngine, directory: Directory) -> None:
    got = nearest(engine, directory, "xyzzy", NONE, *PEOPLE_SQUARE, k=5)
    assert got.total == 0
    assert got.ordinals.size == 0
    assert nearest(engine, directory, None, NONE, *PEOPLE_SQUARE, k=0).ordinals.size == 0


def test_a_tie_at_the_cut_keeps_the_more_relevant(
    engine: SearchEngine, directory: Directory
) -> None:
    # t002 and t003 share 北园路33号; with k=1 the better match for the text must win
    beiyuan = (31.2090, 121.5179)
    for text in ("仁济", "北园路", "浦东 医院", None):
        expected, distances = brute_force(engine, directory, text, NONE, beiyuan)
        assert distances[0] == distances[1] == 0.0
        got = nearest(engine, directory, text, NONE, *beiyuan, k=1)
        assert got.ordinals.tolist() == expected[:1]
