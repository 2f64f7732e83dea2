"""The facility record every part of the directory shares."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class FacilityKind(enum.Enum):
    MEDICAL = "medical"  # 直付医疗机构
    DENTAL = "dental"  # 直付齿科机构
    DESIGNATED = "designated"  # 特定医疗机构


class Ownership(enum.Enum):
    PUBLIC = "public"  # 公立
    PRIVATE = "private"  # 非公立
    UNKNOWN = "unknown"  # the source does not say; shown without an ownership tag


class Category(enum.Enum):
    GENERAL = "general"  # 综合
    SPECIALIST = "specialist"  # 专科
    TCM = "tcm"  # 中医
    DENTAL = "dental"  # 齿科


class CoordinatePrecision(enum.Enum):
    EXACT = "exact"  # matched to a mapped feature (e.g. OpenStreetMap)
    APPROXIMATE = "approximate"  # estimated; `coordinate_method` says how


@dataclass(frozen=True, slots=True)
class Department:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Facility:
    id: str
    kind: FacilityKind
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    city: str  # Chinese city name, e.g. 上海
    district: str  # Chinese district name, e.g. 浦东新区
    lat: float  # WGS-84
    lng: float  # WGS-84
    ownership: Ownership
    grade: str  # e.g. 三甲, empty when the source gives none
    category: Category
    departments: tuple[Department, ...]
    phone: str
    opening_hours: str
    languages: tuple[str, ...]  # e.g. ("zh", "en")
    networks: tuple[str, ...]  # ids of group-plan networks whose list names this facility
    source: str  # where the row comes from, e.g. "seed 000 §9.7; OSM way/123"
    verified_on: date
    coordinate_precision: CoordinatePrecision = CoordinatePrecision.EXACT
    coordinate_method: str = ""  # how the point was obtained
    tags: tuple[str, ...] = ()  # free labels shown in lists, e.g. 特需部
    note: str = ""
    building: str = ""  # rows sharing a point share this; "area:<district>" for area-only points
    # kinds of public source the row's facts were checked against (facts.csv), e.g. "osm"
    checked_with: tuple[str, ...] = ()

    @property
    def approximate(self) -> bool:
        return self.coordinate_precision is CoordinatePrecision.APPROXIMATE
