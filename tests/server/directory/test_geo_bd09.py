"""BD-09 (Baidu) conversions against published examples."""

from __future__ import annotations

import pytest

from server.directory.geo import (
    bd09_to_gcj02,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# wandergis/coordtransform's test fixture (test/app.js, also in its README): the same
# input, 116.404 E 39.915 N, through each transform. Given there as (lng, lat).
FIXTURE_IN = (39.915, 116.404)
GCJ_TO_BD = (39.92133699351021, 116.41036949371029)
BD_TO_GCJ = (39.90865673957631, 116.39762729119315)
WGS_TO_BD = (39.922699552216216, 116.41662724378733)


def test_gcj02_to_bd09_matches_the_published_fixture() -> None:
    assert gcj02_to_bd09(*FIXTURE_IN) == pytest.approx(GCJ_TO_BD, abs=1e-12)


def test_bd09_to_gcj02_matches_the_published_fixture() -> None:
    assert bd09_to_gcj02(*FIXTURE_IN) == pytest.approx(BD_TO_GCJ, abs=1e-12)


def test_wgs84_to_bd09_goes_through_gcj02() -> None:
    assert wgs84_to_bd09(*FIXTURE_IN) == pytest.approx(WGS_TO_BD, abs=1e-12)


def test_beijing_railway_station() -> None:
    # the example of the R package's bd2gcj: GCJ-02 (39.90245, 116.42703), BD-09 (39.90851, 116.43351)
    assert gcj02_to_bd09(39.90245, 116.42703) == pytest.approx((39.90851, 116.43351), abs=1e-5)


@pytest.mark.parametrize("point", [(31.2317, 121.4726), (31.2090, 121.5179), (30.9, 121.2)])
def test_round_trips_stay_within_a_metre(point: tuple[float, float]) -> None:
    gcj = wgs84_to_gcj02(*point)
    back = gcj02_to_wgs84(*bd09_to_gcj02(*gcj02_to_bd09(*gcj)))
    assert back == pytest.approx(point, abs=1e-5)  # ~1 m
    # and the shifts are what the datums are known for in Shanghai: a few hundred metres
    bd = wgs84_to_bd09(*point)
    assert 0.003 < bd[0] - point[0] < 0.01 and 0.008 < bd[1] - point[1] < 0.016
