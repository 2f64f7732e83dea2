"""Distances: vectorised haversine for sorting, vectorised geodesic (WGS-84 ellipsoid) for display."""

from __future__ import annotations

import math

import numpy as np

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


# WGS-84, as geopy's geodesic uses by default.
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)
_VINCENTY_TOLERANCE = 1e-10  # radians of longitude on the auxiliary sphere: under a millimetre
_VINCENTY_ITERATIONS = 200


def _karney_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    # geopy's geodesic (Karney's solver), for the rare nearly antipodal pairs Vincenty's
    # series does not converge for; imported only then (geopy brings its geocoders along)
    from geopy.distance import geodesic

    return float(geodesic((lat1, lng1), (lat2, lng2)).km)


def geodesic_km(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Distance on the WGS-84 ellipsoid from one point to many (all in degrees), in km.

    Vincenty's inverse formula evaluated for every pair at once with numpy: within a
    millimetre of geopy's ``geodesic`` (Karney) wherever it converges, which is everywhere
    but nearly antipodal pairs; those few are handed to geopy.
    """
    lats = np.asarray(lats, dtype=np.float64)
    lngs = np.asarray(lngs, dtype=np.float64)
    f = WGS84_F
    big_l = np.radians(lngs - lng)
    big_l = (big_l + np.pi) % (2 * np.pi) - np.pi  # the shorter way round
    u1 = math.atan((1 - f) * math.tan(math.radians(lat)))
    u2 = np.arctan((1 - f) * np.tan(np.radians(lats)))
    sin_u1, cos_u1 = math.sin(u1), math.cos(u1)
    sin_u2, cos_u2 = np.sin(u2), np.cos(u2)
    lam = big_l.copy()
    converged = np.zeros(lats.shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(_VINCENTY_ITERATIONS):
            sin_lam, cos_lam = np.sin(lam), np.cos(lam)
            sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
            cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
            sigma = np.arctan2(sin_sigma, cos_sigma)
            sin_alpha = np.where(sin_sigma == 0, 0.0, cos_u1 * cos_u2 * sin_lam / sin_sigma)
            cos2_alpha = 1 - sin_alpha**2
            # on the equator cos2_alpha is 0 and the term is 0 too
            cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha)
            c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
            previous = lam
            lam = big_l + (1 - c) * f * sin_alpha * (
                sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
            )
            converged = np.abs(lam - previous) <= _VINCENTY_TOLERANCE
            if converged.all():
                break
        u_sq = cos2_alpha * (WGS84_A**2 - WGS84_B**2) / WGS84_B**2
        a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
        b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
        delta_sigma = (
            b
            * sin_sigma
            * (
                cos_2sm
                + b
                / 4
                * (
                    cos_sigma * (-1 + 2 * cos_2sm**2)
                    - b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
                )
            )
        )
        km = WGS84_B * a * (sigma - delta_sigma) / 1000.0
    fallback = ~(converged & np.isfinite(km))
    if fallback.any():
        for i in np.flatnonzero(fallback):
            km[i] = _karney_km(lat, lng, float(lats[i]), float(lngs[i]))
    return km


def display_kms(near: tuple[float, float], lats: np.ndarray, lngs: np.ndarray) -> list[float]:
    """Geodesic km from ``near`` to each point, one decimal: a page's distances at once."""
    return [round(float(km), 1) for km in geodesic_km(near[0], near[1], lats, lngs)]


def display_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lat, lng) points, km with one decimal."""
    return display_kms(a, np.array([b[0]]), np.array([b[1]]))[0]


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
