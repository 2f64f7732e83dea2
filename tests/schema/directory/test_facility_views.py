"""A facility's API view is built once per loaded directory and goes with it."""

from __future__ import annotations

import gc
from datetime import date

from schema.directory import types
from schema.directory.types import facility_type
from server.directory.directory import make_directory
from server.directory.models import Category, Facility, FacilityKind, Ownership


def _facility(i: int) -> Facility:
    return Facility(
        id=f"f{i}",
        kind=FacilityKind.MEDICAL,
        name_zh=f"诊所{i}",
        name_en=f"Clinic {i}",
        address_zh="上海市",
        address_en="Shanghai",
        city="上海",
        district="黄浦区",
        lat=31.23,
        lng=121.47,
        ownership=Ownership.PRIVATE,
        grade="",
        category=Category.GENERAL,
        departments=(),
        phone="",
        opening_hours="",
        languages=("zh", "en"),
        networks=(),
        source="test row",
        verified_on=date(2026, 11, 23),
    )


def test_a_view_is_built_once_per_directory() -> None:
    f = _facility(1)
    directory = make_directory([f, _facility(2)])
    first = facility_type(f, directory)
    assert facility_type(f, directory) is first
    assert first.name_en == "Clinic 1"
    # an equal directory loaded again (e.g. a reload) gets views of its own
    again = make_directory([f, _facility(2)])
    assert facility_type(f, again) is not first


def test_the_views_go_with_their_directory() -> None:
    directory = make_directory([_facility(1)])
    facility_type(directory.facilities[0], directory)
    key = id(directory)
    assert key in types._memos
    del directory
    gc.collect()
    assert key not in types._memos
