from __future__ import annotations

import pytest

from server.directory.geo import display_km, gcj02_to_wgs84, wgs84_to_gcj02

# Published reference pairs of the standard transform (WGS-84 -> GCJ-02).
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_forward_matches_the_reference(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lat, lng = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lng == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), VECTORS)
def test_inverse_recovers_wgs84(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lat, lng = gcj02_to_wgs84(*gcj)
    assert lat == pytest.approx(wgs[0], abs=1e-7)
    assert lng == pytest.approx(wgs[1], abs=1e-7)


def test_the_shift_in_shanghai_is_a_few_hundred_metres() -> None:
    wgs = (31.2304, 121.4737)
    gcj = wgs84_to_gcj02(*wgs)
    assert gcj[1] - wgs[1] == pytest.approx(0.0045, abs=0.0005)  # east
    assert gcj[0] - wgs[0] == pytest.approx(-0.002, abs=0.0005)  # south
    assert 0.3 < display_km(wgs, gcj) < 0.6


def test_points_outside_china_are_not_shifted() -> None:
    assert wgs84_to_gcj02(51.5074, -0.1278) == (51.5074, -0.1278)
    assert gcj02_to_wgs84(51.5074, -0.1278) == (51.5074, -0.1278)
