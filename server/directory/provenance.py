"""What the public sees of where a facility's facts come from, in plain words.

The curation detail (documents, sections, OSM ids, how each value was taken) stays in
``directory_data/`` (``source``, ``review_note``, ``facts.csv``); a page and the API show one
short line such as "Insurer's list, checked against OpenStreetMap, 2026-11".
"""

from __future__ import annotations

from dataclasses import dataclass

from server.directory.models import Facility, FacilityKind

# Who publishes the lists (seed 000 §9.2: 太保安联).
INSURER = {"en": "CPIC Allianz Health Insurance", "zh": "太保安联健康保险"}
# The direct-billing booking line (seed 000 §9.2: "提前2个工作日致电1010-8686预约就诊"), as
# printed and in the international form a foreign phone dials.
BOOKING_LINE = "1010-8686"
BOOKING_LINE_INTL = "+86 1010 8686"

_CHECKS = {
    "osm": {"en": "OpenStreetMap", "zh": "OpenStreetMap"},
    "wikipedia": {"en": "Wikipedia", "zh": "维基百科"},
    "operator": {"en": "the operator's website", "zh": "机构官网"},
    "government": {"en": "a Shanghai government site", "zh": "上海市政府网站"},
    "guide": {"en": "a city guide", "zh": "城市指南"},
    "map_listing": {"en": "published map listings", "zh": "公开地图资料"},
}


def _joined(parts: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(parts)
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def source_line(f: Facility, lang: str, *, public_corpus: bool = False) -> str:
    """e.g. "Insurer's list, checked against OpenStreetMap and Wikipedia, 2026-11"."""
    month = f.verified_on.strftime("%Y-%m")
    if public_corpus:
        if lang == "zh":
            return f"OpenStreetMap 公开地图数据（并非保险公司的直付网络），{month}"
        return f"OpenStreetMap public map data (not the insurer's network), {month}"
    checks = [_CHECKS[k][lang] for k in f.checked_with if k in _CHECKS]
    if lang == "zh":
        head = "保险公司清单"
        return f"{head}，已与{_joined(checks, lang)}核对，{month}" if checks else f"{head}，{month}"
    head = "Insurer's list"
    return (
        f"{head}, checked against {_joined(checks, lang)}, {month}"
        if checks
        else f"{head}, {month}"
    )


@dataclass(frozen=True, slots=True)
class ListNote:
    zh: str
    en: str


# The notes the designated list carries (seed 000 §9.8), shown with every designated facility.
LIST_NOTES: dict[FacilityKind, tuple[ListNote, ...]] = {
    FacilityKind.DESIGNATED: (
        ListNote(
            "* 特定医疗机构赔付比例根据每个客户的计划不同，请在去医疗机构就诊前查看您的福利条款或服务手册。",
            "* Reimbursement ratios at designated facilities depend on each client's plan. "
            "Please check your benefit terms or service handbook before you visit.",
        ),
        ListNote(
            "* 本公司会联合对此特定医疗机构列表进行适时增减；被保险人在选择和变更医疗机构接受医疗服务时，"
            "以公司APP当时公布的特定医疗机构列表为准，解释权归本公司所有。",
            "* The company may add facilities to or remove them from this list from time to time. "
            "When you choose or change a facility, the list published in the company's app at "
            "that time applies; the company reserves the right of final interpretation.",
        ),
    ),
}


def list_notes(kind: FacilityKind) -> tuple[ListNote, ...]:
    return LIST_NOTES.get(kind, ())


def area_label(f: Facility, district_en: str, lang: str) -> str:
    """Where an approximate facility is, said as its area: "Pudong, exact location not
    confirmed" instead of a precise-looking distance."""
    if lang == "zh":
        area = f.district or f.city
        return f"{area}，具体位置未确认"
    area = district_en or f.district or f.city
    return f"{area}, exact location not confirmed"
