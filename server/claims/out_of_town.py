"""Out-of-town claims of the university plan, detected from the hospital (seed 002 三.2(3)).

"异地发生的急诊、住院费用，异地安置职工发生门诊、门特和住院垫付费用" must be claimed at the
medical-insurance office. A claim of one of the plan's `[out_of_town]` types is refused
online with that case's code and reason (OFFICE_ONLY, as when the member picks the case
themselves) when its hospital is found outside the home province:

- a hospital named by directory id: the facility's city and district;
- a typed name: any mainland province, city or district name in it (server/divisions),
  full (北京市, 河北省, 朝阳区) or short (北京, 河北, 石家庄: the 2-3 character prefix of
  北京协和医院, 上海交通大学医学院附属仁济医院). District names are used in full only; a
  district name found in the home province and elsewhere too (和平区) decides nothing.

Any home-province name in the text keeps the claim online (天津市河北区…, 南开区…). A name
with no place in it (协和医院, 仁济医院) is NOT detected: the claim stays as today, and the
member's declared case (OUT_OF_TOWN) and the office's review remain the safeguard.

天津市急诊留观 (三.2(2) "在医院发生急诊观察数日，由于病情严重直接办理住院手续") is not
detected: a claim records its type, one incident date, invoice numbers without dates and
uploaded files by category (门急诊/病历 is one category for outpatient and emergency
records), so nothing in it shows an emergency stay of several days before the admission.
It stays a declared case (EMERGENCY_OBSERVATION).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from server.claims.errors import ClaimRuleBroken
from server.claims.rules import PlanRules
from server.divisions import Level, divisions

# suffixes whose removal gives the short form people write (北京市 -> 北京, 河北省 -> 河北)
_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
_CITY_SUFFIXES = ("地区", "市", "盟")

# where a claim's hospital is: facility id -> its place text (city and district), or None
FacilityPlace = Callable[[str], str | None]


def _short(name: str, suffixes: Iterable[str]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@functools.cache
def place_names() -> dict[str, frozenset[str]]:
    """Every place name and short form -> the province codes it may stand for."""
    found: dict[str, set[str]] = {}

    def add(name: str | None, province: str) -> None:
        if name:
            found.setdefault(name, set()).add(province)

    table = divisions()
    for province in table.provinces():
        add(province.name, province.code)
        add(_short(province.name, _PROVINCE_SUFFIXES), province.code)
        for city in table.children(province.code):
            add(city.name, province.code)
            add(_short(city.name, _CITY_SUFFIXES), province.code)
            for district in table.children(city.code):
                if district.level is Level.DISTRICT:
                    add(district.name, province.code)
    return {name: frozenset(codes) for name, codes in found.items()}


def provinces_in(text: str, not_places: Iterable[str] = ()) -> list[frozenset[str]]:
    """The place names in `text`, longest first at each position, as their province sets."""
    names = place_names()
    skip = set(not_places)
    longest = max(map(len, names))
    out: list[frozenset[str]] = []
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 1, -1):
            word = text[i : i + size]
            if word in names and word not in skip:
                out.append(names[word])
                i += size
                break
        else:
            i += 1
    return out


def home_code(home: str) -> str:
    code = next((p.code for p in divisions().provinces() if p.name == home), None)
    if code is None:
        raise ValueError(f"{home} is not a province in server/divisions.")
    return code


def is_out_of_town(text: str, home: str, not_places: Iterable[str] = ()) -> bool | None:
    """True: a place outside `home` is named and none inside it; False: `home` is named;
    None: no place that decides (nothing found, or only names shared with `home`)."""
    code = home_code(home)
    found = provinces_in(text, not_places)
    if any(codes == {code} for codes in found):
        return False
    if any(code not in codes for codes in found):
        return True
    return None


def check(
    rules: PlanRules,
    claim_type: str | None,
    facility_name: str | None,
    facility_id: str | None = None,
    facility_place: FacilityPlace | None = None,
) -> None:
    """Raises ClaimRuleBroken OFFICE_ONLY (the case's reason) for an out-of-town hospital."""
    rule = rules.out_of_town
    if rule is None or claim_type not in rule.claim_types:
        return
    text = None
    field = "facilityName"
    if facility_id and facility_place is not None:
        text = facility_place(facility_id)
        field = "facilityId"
    if text is None:
        text = facility_name or ""
        field = "facilityName"
    if is_out_of_town(text, rule.home, rule.not_places):
        office = rules.office_case(rule.office_case)
        assert office is not None  # checked when the rules were read
        raise ClaimRuleBroken("OFFICE_ONLY", office.reason, field=field)
