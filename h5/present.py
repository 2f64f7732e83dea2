"""What a page shows of a facility, in the page's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from h5.i18n import Translator
from server.directory.directory import Directory
from server.directory.geo import wgs84_to_gcj02
from server.directory.models import CoordinatePrecision, Facility, Ownership
from server.directory.provenance import area_label
from server.directory.service import grade_en

_PHONE_KEEP = re.compile(r"[^0-9+]")


@dataclass(frozen=True, slots=True)
class Phone:
    display: str
    href: str  # tel: URI


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    name: str  # in the page language
    name_other: str  # the other language, shown smaller; may be empty
    tags: list[str]
    departments: list[str]
    address: str
    address_zh: str  # shown under an English address: it is what drivers and maps read
    distance_km: float | None  # None for an approximate point: `area` is shown instead
    approximate: bool
    area: str  # "Pudong, exact location not confirmed" for an approximate point, else ""
    phones: list[Phone]
    map_url: str
    map_is_search: bool
    geo_uri: str
    note: str
    facility: Facility


def card(
    f: Facility, t: Translator, distance_km: float | None = None, district_en: str = ""
) -> Card:
    en = t.lang == "en"
    name = (f.name_en or f.name_zh) if en else f.name_zh
    other = f.name_zh if en else f.name_en
    address = (f.address_en or f.address_zh) if en else f.address_zh
    return Card(
        id=f.id,
        name=name,
        name_other="" if other == name else other,
        tags=tags(f, t),
        departments=[d.en if en else d.zh for d in f.departments],
        address=address,
        address_zh=f.address_zh if en and f.address_en else "",
        distance_km=None if f.approximate else distance_km,
        approximate=f.approximate,
        area=area_label(f, district_en, t.lang) if f.approximate else "",
        phones=phones(f.phone),
        map_url=amap_url(f),
        map_is_search=f.coordinate_precision is CoordinatePrecision.APPROXIMATE,
        geo_uri=geo_uri(f),
        note=f.note,
        facility=f,
    )


def tags(f: Facility, t: Translator) -> list[str]:
    out: list[str] = []
    # UNKNOWN means the source does not say: showing no tag is truer than guessing one
    if f.ownership is Ownership.PUBLIC:
        out.append(t("tag.public"))
    elif f.ownership is Ownership.PRIVATE:
        out.append(t("tag.private"))
    if f.grade:
        out.append(grade_en(f.grade) if t.lang == "en" else f.grade)
    out.append(t(f"category.{f.category.value}"))
    out.extend(f.tags)
    return out


def phones(raw: str) -> list[Phone]:
    out = []
    for part in raw.split(";"):
        display = part.strip()
        digits = _PHONE_KEEP.sub("", display)
        if len(digits.lstrip("+")) >= 3:
            out.append(Phone(display, f"tel:{digits}"))
    return out


def amap_url(f: Facility) -> str:
    """An AMap (高德) web URI; on phones it hands over to the AMap app when installed.

    AMap, like every mainland map, works in GCJ-02, so the stored WGS-84 point is
    converted. An approximate point may be a district centre, so for those the link
    searches for the address (or name) near the point instead of planting a pin there.
    """
    lat, lng = wgs84_to_gcj02(f.lat, f.lng)
    position = f"{lng:.6f},{lat:.6f}"
    if f.coordinate_precision is CoordinatePrecision.APPROXIMATE:
        query = {
            "keyword": f.address_zh or f.name_zh,
            "center": position,
            "view": "map",
            "coordinate": "gaode",
            "callnative": "1",
        }
        return "https://uri.amap.com/search?" + urlencode(query)
    query = {"position": position, "name": f.name_zh, "coordinate": "gaode", "callnative": "1"}
    return "https://uri.amap.com/marker?" + urlencode(query)


def geo_uri(f: Facility) -> str:
    # RFC 5870 geo: URIs are WGS-84 by definition, so no conversion here.
    return f"geo:{f.lat:.6f},{f.lng:.6f}?q={f.lat:.6f},{f.lng:.6f}"


def district_label(directory: Directory, zh: str, lang: str) -> str:
    if lang == "zh":
        return zh
    d = directory.district(zh)
    return d.en if d else zh


def network_names(directory: Directory, f: Facility, lang: str) -> list[str]:
    by_id = {n.id: n for n in directory.networks}
    out = []
    for nid in f.networks:
        n = by_id.get(nid)
        if n is not None:
            out.append(n.name_en if lang == "en" else n.name_zh)
    return out
