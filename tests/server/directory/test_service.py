from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from geopy.distance import geodesic, great_circle

from server.directory.directory import District, make_directory
from server.directory.geo import display_km, haversine_km
from server.directory.models import Category, Facility, FacilityKind, Ownership
from server.directory.service import DirectoryService, FacilityQuery, Sort
from server.errors import InvalidInput
from server.search.memory import MemoryEngine

POINTS = [
    (31.2317, 121.4726),  # 人民广场
    (31.2397, 121.4998),  # 陆家嘴
    (31.1443, 121.8083),  # 浦东机场
    (39.9042, 116.4074),  # 北京
    (22.5431, 114.0579),  # 深圳
]


@pytest.mark.parametrize("origin", POINTS)
def test_haversine_agrees_with_geopy_great_circle(origin: tuple[float, float]) -> None:
    lat = np.radians([p[0] for p in POINTS])
    lng = np.radians([p[1] for p in POINTS])
    ours = haversine_km(origin[0], origin[1], lat, lng)
    theirs = [great_circle(origin, p).km for p in POINTS]
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-6)
    # and within 0.5 % of the ellipsoidal distance that is displayed
    for o, p in zip(ours, POINTS, strict=True):
        g = geodesic(origin, p).km
        assert math.isclose(o, g, rel_tol=5e-3, abs_tol=1e-6)


def test_display_distance_is_geodesic_with_one_decimal() -> None:
    a, b = POINTS[0], POINTS[1]
    assert display_km(a, b) == round(geodesic(a, b).km, 1)
    assert display_km(a, a) == 0.0


def _facility(i: int, lat: float, lng: float, name: str) -> Facility:
    return Facility(
        id=f"f{i}",
        kind=FacilityKind.MEDICAL,
        name_zh=name,
        name_en=f"Clinic {i}",
        address_zh="上海市",
        address_en="Shanghai",
        city="上海",
        district="黄浦区",
        lat=lat,
        lng=lng,
        ownership=Ownership.PRIVATE,
        grade="",
        category=Category.GENERAL,
        departments=(),
        phone="",
        opening_hours="",
        languages=("zh", "en"),
        networks=(),
        source="test row",
        verified_on=date(2026, 11, 23),
    )


@pytest.fixture
def service() -> DirectoryService:
    rows = [
        _facility(0, 31.20, 121.40, "远诊所"),
        _facility(1, 31.2317, 121.4726, "近诊所"),
        _facility(2, 31.30, 121.50, "中诊所"),
        _facility(3, 31.2320, 121.4730, "近诊所二"),
    ]
    d = make_directory(rows, [District("上海", "Shanghai", "黄浦区", "Huangpu", "310101")])
    return DirectoryService(d, MemoryEngine(d))


def test_distance_sort_orders_by_distance_and_pages(service: DirectoryService) -> None:
    q = FacilityQuery(near=(31.2317, 121.4726), sort=Sort.DISTANCE, limit=2)
    first = service.search(q)
    assert [r.facility.id for r in first.results] == ["f1", "f3"]
    assert first.has_next and first.total == 4
    second = service.search(FacilityQuery(near=q.near, sort=Sort.DISTANCE, limit=2, offset=2))
    assert [r.facility.id for r in second.results] == ["f0", "f2"]  # 7.7 km, then 8.0 km
    assert not second.has_next


def test_distance_sort_keeps_text_filter(service: DirectoryService) -> None:
    page = service.search(FacilityQuery(text="近诊所", near=(31.30, 121.50), sort=Sort.DISTANCE))
    assert [r.facility.id for r in page.results] == ["f3", "f1"]


def test_max_distance_counts_only_what_is_within(service: DirectoryService) -> None:
    page = service.search(FacilityQuery(near=(31.2317, 121.4726), max_distance_km=1.0))
    assert page.total == 2
    assert {r.facility.id for r in page.results} == {"f1", "f3"}


@pytest.mark.parametrize(
    "query",
    [
        FacilityQuery(sort=Sort.DISTANCE),
        FacilityQuery(limit=0),
        FacilityQuery(limit=101),
        FacilityQuery(offset=-1),
        FacilityQuery(text="x" * 101),
        FacilityQuery(near=(float("nan"), 121.0)),
        FacilityQuery(near=(31.0, 200.0)),
        FacilityQuery(max_distance_km=3.0),
        FacilityQuery(near=(31.2, 121.4), max_distance_km=0.0),
    ],
)
def test_bad_queries_raise_invalid_input(service: DirectoryService, query: FacilityQuery) -> None:
    with pytest.raises(InvalidInput):
        service.search(query)


def test_a_pages_distances_are_measured_together_and_match_geopy(
    service: DirectoryService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a distance page, and a count of the display-distance calls
    from server.directory import service as service_module

    calls: list[int] = []
    real = service_module.display_kms

    def counted(near: tuple[float, float], lats: np.ndarray, lngs: np.ndarray) -> list[float]:
        calls.append(len(lats))
        return real(near, lats, lngs)

    monkeypatch.setattr(service_module, "display_kms", counted)
    near = (31.2317, 121.4726)
    page = service.search(FacilityQuery(near=near, sort=Sort.DISTANCE))
    assert calls == []  # nothing measured until shown
    # when every row's km is shown
    shown = [r.distance_km for r in page.results]
    # then one call measured the whole page, and each row is geopy's km to one decimal
    assert calls == [4]
    assert shown == [
        round(geodesic(near, (r.facility.lat, r.facility.lng)).km, 1) for r in page.results
    ]
