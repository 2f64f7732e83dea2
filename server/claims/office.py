"""The claims office: where originals are posted and the hotline (seed 000 §4 12), the
success page of a submitted claim)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Office:
    address_zh: str
    address_en: str
    postcode: str
    hotline: str


OFFICE = Office(
    address_zh="上海市浦东新区世纪大道1229号世纪大都会13楼",
    address_en="13/F, Century Metropolis, 1229 Century Avenue, Pudong New Area, Shanghai",
    postcode="200122",
    hotline="10108686",
)
