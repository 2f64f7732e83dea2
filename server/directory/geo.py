"""Distances: vectorised haversine for sorting, geodesic (WGS-84 ellipsoid) for display."""

from __future__ import annotations

import math

import numpy as np
from geopy.distance import geodesic

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)

# Mainland China with its islands, generously: used to reject points that cannot be ours.
CHINA_LAT = (3.0, 54.0)
CHINA_LNG = (73.0, 136.0)


def in_china(lat: float, lng: float) -> bool:
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1]


def haversine_km(lat: float, lng: float, lat_rad: np.ndarray, lng_rad: np.ndarray) -> np.ndarray:
    """Great-circle distance from one point (degrees) to many (radians), in km."""
    phi = np.radians(lat)
    dphi = lat_rad - phi
    dlmb = lng_rad - np.radians(lng)
    a = np.sin(dphi * 0.5) ** 2 + np.cos(phi) * np.cos(lat_rad) * np.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


# One measurer: geopy builds the WGS-84 ellipsoid solver per instance, which is a third of the cost.
_GEODESIC = geodesic()


def display_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lat, lng) points, km with one decimal."""
    return round(_GEODESIC.measure(a, b), 1)


# GCJ-02 ("Mars coordinates") is the obfuscated datum Chinese map providers publish; sources
# such as AMap-derived district centres use it. We store WGS-84, so such points are converted
# with the standard published transform (Krasovsky 1940 ellipsoid), inverted by iteration.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_offset(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += common
    dlng += common
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlng += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = math.radians(lat)
    magic = 1.0 - _GCJ_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def _gcj_applies(lat: float, lng: float) -> bool:
    # The shift is only defined (and only applied by providers) inside this box.
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not _gcj_applies(lat, lng):
        return lat, lng
    dlat, dlng = _gcj_offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Invert :func:`wgs84_to_gcj02` to within 1e-9 degrees (a few centimetres at most)."""
    if not _gcj_applies(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(30):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        e_lat, e_lng = g_lat - lat, g_lng - lng
        w_lat, w_lng = w_lat - e_lat, w_lng - e_lng
        if abs(e_lat) < 1e-10 and abs(e_lng) < 1e-10:
            break
    return w_lat, w_lng


# BD-09 is Baidu's datum: GCJ-02 shifted once more by Baidu's published transform.
_BD_X_PI = math.pi * 3000.0 / 180.0


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _BD_X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _BD_X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """What Baidu Maps needs for a WGS-84 point: GCJ-02 first, then BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))
