"""Searching around a point without collecting every match in the city.

Sorting by distance only needs the matches near the point. Asking an engine
for every match of 医院 in a million facilities and measuring all of them
costs far more than asking for the matches inside a box around the point,
widening the box until it holds enough: that is what ``nearest`` does, with
any engine that honours ``SearchFilters.within``. Distances are haversine km,
as the directory service sorts by.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, replace

import numpy as np

from server.directory.directory import Directory
from server.directory.geo import EARTH_RADIUS_KM, haversine_km
from server.search import BBox, SearchEngine, SearchFilters

_EMPTY_I = np.empty(0, dtype=np.int64)
_EMPTY_F = np.empty(0, dtype=np.float64)
_MIN_RADIUS_KM = 0.2
_MARGIN = 1.000001  # boxes err on the large side; the exact test is the distance


@dataclass(frozen=True, slots=True)
class NearbyHits:
    ordinals: np.ndarray  # int64
    distances_km: np.ndarray  # haversine km, same order as ordinals
    total: int  # all matches, or all within max_km when one was given


def box_around(lat: float, lng: float, km: float) -> BBox:
    """The smallest latitude/longitude box holding every point within ``km`` of (lat, lng)."""
    angle = km / EARTH_RADIUS_KM * _MARGIN
    south = max(-90.0, lat - math.degrees(angle))
    north = min(90.0, lat + math.degrees(angle))
    phi = math.radians(lat)
    if angle >= math.pi / 2 - abs(phi) or south == -90.0 or north == 90.0:
        return BBox(south, -180.0, north, 180.0)  # the circle reaches a pole
    # widest longitude of a spherical cap of this angular radius
    half = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(phi))))
    west, east = lng - half, lng + half
    if west < -180.0 or east > 180.0:
        return BBox(south, -180.0, north, 180.0)  # never near China; keep it simple
    return BBox(south, west, north, east)


def within(
    engine: SearchEngine,
    directory: Directory,
    text: str | None,
    filters: SearchFilters,
    lat: float,
    lng: float,
    max_km: float,
) -> NearbyHits:
    """Every match within ``max_km`` of the point, in the engine's order."""
    ordinals, distances = _around(engine, directory, text, filters, lat, lng, max_km)
    inside = distances <= max_km
    ordinals, distances = ordinals[inside], distances[inside]
    return NearbyHits(ordinals, distances, int(ordinals.size))


def nearest(
    engine: SearchEngine,
    directory: Directory,
    text: str | None,
    filters: SearchFilters,
    lat: float,
    lng: float,
    k: int,
    max_km: float | None = None,
) -> NearbyHits:
    """The ``k`` nearest matches, nearest first (equal distances in the engine's
    order), and how many match in all (within ``max_km`` when given)."""
    if max_km is not None:
        around = within(engine, directory, text, filters, lat, lng, max_km)
        ordinals, distances = _closest(around.ordinals, around.distances_km, k)
        return NearbyHits(ordinals, distances, around.total)

    total = engine.search(text, filters, 1).total
    if total == 0 or k <= 0:
        return NearbyHits(_EMPTY_I, _EMPTY_F, total)
    radius = _first_radius(directory, total, k)
    while True:
        ordinals, distances = _around(engine, directory, text, filters, lat, lng, radius)
        if ordinals.size == total:  # the box holds every match
            break
        inside = distances <= radius
        if int(inside.sum()) >= k:
            # any match outside the circle is farther than all of these
            ordinals, distances = ordinals[inside], distances[inside]
            break
        radius *= 2.0
    ordinals, distances = _closest(ordinals, distances, k)
    return NearbyHits(ordinals, distances, total)


def _around(
    engine: SearchEngine,
    directory: Directory,
    text: str | None,
    filters: SearchFilters,
    lat: float,
    lng: float,
    km: float,
) -> tuple[np.ndarray, np.ndarray]:
    box = box_around(lat, lng, km)
    if filters.within is not None:
        box = _intersection(box, filters.within)
    hits = engine.search(text, replace(filters, within=box), None)
    ordinals = hits.ordinals
    distances = haversine_km(lat, lng, directory.lat_rad[ordinals], directory.lng_rad[ordinals])
    return ordinals, distances


def _closest(ordinals: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if k <= 0:
        return _EMPTY_I, _EMPTY_F
    if k < ordinals.size:
        # Everything up to the k-th distance, ties included (argpartition alone
        # would pick among equal distances at random), still in the engine's order.
        kth = np.partition(distances, k - 1)[k - 1]
        head = np.flatnonzero(distances <= kth)
        ordinals, distances = ordinals[head], distances[head]
    order = np.argsort(distances, kind="stable")[:k]
    return ordinals[order], distances[order]


def _intersection(a: BBox, b: BBox) -> BBox:
    return BBox(
        max(a.south, b.south), max(a.west, b.west), min(a.north, b.north), min(a.east, b.east)
    )


_areas: dict[int, tuple[weakref.ref[Directory], float]] = {}


def _area_km2(directory: Directory) -> float:
    """Area of the box around every facility, remembered per directory."""
    key = id(directory)
    seen = _areas.get(key)
    if seen is not None and seen[0]() is directory:
        return seen[1]
    if len(directory) == 0:
        area = 1.0
    else:
        lat, lng = directory.lat_rad, directory.lng_rad
        height = (lat.max() - lat.min()) * EARTH_RADIUS_KM
        width = (lng.max() - lng.min()) * EARTH_RADIUS_KM * math.cos(float(lat.mean()))
        area = max(float(height * width), 1.0)
    _areas[key] = (weakref.ref(directory, lambda _: _areas.pop(key, None)), area)
    return area


def _first_radius(directory: Directory, matches: int, k: int) -> float:
    # The radius holding about 2k matches were they spread evenly; clustered
    # matches take a doubling or two more.
    density = matches / _area_km2(directory)
    return max(_MIN_RADIUS_KM, math.sqrt(2.0 * k / (math.pi * density)))
