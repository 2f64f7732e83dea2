"""The vectorised display distance against geopy's geodesic (Karney), pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic

from server.directory.geo import display_km, display_kms, geodesic_km

ONE_METRE_KM = 0.001


def _reference(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    return np.array([geodesic((lat, lng), (a, b)).km for a, b in zip(lats, lngs, strict=True)])


@pytest.mark.parametrize("seed", range(5))
def test_within_a_metre_of_geopy_at_shanghai_scale(seed: int) -> None:
    # given points up to a few hundred km apart around Shanghai
    rng = np.random.default_rng(seed)
    lat, lng = rng.uniform(30.7, 31.9), rng.uniform(120.9, 122.0)
    lats = lat + rng.uniform(-2.5, 2.5, 400)
    lngs = lng + rng.uniform(-2.5, 2.5, 400)
    # when measured together
    ours = geodesic_km(lat, lng, lats, lngs)
    # then each agrees with geopy within a metre
    assert np.abs(ours - _reference(lat, lng, lats, lngs)).max() < ONE_METRE_KM


@pytest.mark.parametrize("seed", range(3))
def test_within_a_metre_of_geopy_worldwide(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    lat, lng = rng.uniform(-90, 90), rng.uniform(-180, 180)
    lats, lngs = rng.uniform(-90, 90, 400), rng.uniform(-180, 180, 400)
    ours = geodesic_km(lat, lng, lats, lngs)
    assert np.abs(ours - _reference(lat, lng, lats, lngs)).max() < ONE_METRE_KM


@pytest.mark.parametrize(
    ("origin", "point"),
    [
        ((0.0, 0.0), (0.5, 179.7)),  # nearly antipodal: Vincenty does not converge
        ((0.0, 0.0), (0.0, 180.0)),  # antipodal on the equator
        ((0.0, 10.0), (0.0, 20.0)),  # along the equator
        ((90.0, 0.0), (-90.0, 0.0)),  # pole to pole
        ((89.9, 10.0), (89.9, -170.0)),  # across a pole
        ((31.23, 179.9), (31.23, -179.9)),  # across the antimeridian
        ((31.2317, 121.4726), (31.2317, 121.4726)),  # the same point
    ],
)
def test_awkward_pairs_agree_with_geopy(
    origin: tuple[float, float], point: tuple[float, float]
) -> None:
    ours = geodesic_km(*origin, np.array([point[0]]), np.array([point[1]]))
    assert ours.shape == (1,)
    assert np.isfinite(ours).all()
    assert abs(float(ours[0]) - geodesic(origin, point).km) < ONE_METRE_KM


def test_display_km_rounds_to_one_decimal() -> None:
    near = (31.2317, 121.4726)
    lats = np.array([31.2397, 31.1443, 39.9042])
    lngs = np.array([121.4998, 121.8083, 116.4074])
    shown = display_kms(near, lats, lngs)
    assert shown == [round(geodesic(near, p).km, 1) for p in zip(lats, lngs, strict=True)]
    assert display_km(near, (31.2397, 121.4998)) == shown[0]
    assert display_kms(near, np.array([]), np.array([])) == []
