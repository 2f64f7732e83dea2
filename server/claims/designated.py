"""A plan's designated hospitals, chosen by directory facility id when claiming.

The university plan (seed 002 三.1(1)-(2)) accepts outpatient claims online only from "南开
大学职工商业医疗保险门诊定点医院", and card-swipe costs at 南开大学医院 not at all. Its
designated hospitals are a network of the directory: `directory_data/plan_networks.csv`
lists them by facility id, with the source of each row. Where the list has rows, a claim
of those types names its hospital by id (typed names are refused) and the exclusion is
decided by id; while it is empty (see the file's notes) the typed name and the
name-based exclusion of the plan's TOML stay in force.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from server.claims.errors import ClaimRuleBroken
from server.claims.rules import PlanRules
from server.settings import ROOT

LIST = ROOT / "directory_data" / "plan_networks.csv"


@dataclass(frozen=True, slots=True)
class Member:
    network: str
    facility_id: str
    name: str
    source: str


@dataclass(frozen=True, slots=True)
class Chosen:
    facility_id: str
    name: str


@functools.cache
def load(path: Path = LIST) -> tuple[Member, ...]:
    """The rows of the list; lines starting with # are notes."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return tuple(
            Member(r["network"], r["facility_id"], r["name_zh"], r["source"]) for r in rows
        )


def network(code: str, members: tuple[Member, ...] | None = None) -> dict[str, Member]:
    return {m.facility_id: m for m in (load() if members is None else members) if m.network == code}


def check_choice(
    rules: PlanRules,
    claim_type: str,
    facility_id: str | None,
    facility_name: str | None,
    *,
    members: tuple[Member, ...] | None = None,
) -> Chosen | None:
    """The designated hospital a claim of `claim_type` names, or None where the plan does
    not name its hospitals by id for this type (the typed name then stands).

    Raises ClaimRuleBroken: FACILITY_ID_REQUIRED (a typed name where an id is needed),
    FACILITY_NOT_DESIGNATED, FACILITY_EXCLUDED."""
    rule = rules.designated
    fid = (facility_id or "").strip()
    if rule is None or claim_type not in rule.claim_types:
        if fid:
            raise ClaimRuleBroken(
                "FACILITY_NOT_DESIGNATED",
                "This claim type names its hospital by name, not by a directory id.",
                field="facilityId",
            )
        return None
    if fid in rule.excluded_for(claim_type):
        ctype = rules.claim_type(claim_type)
        raise ClaimRuleBroken(
            "FACILITY_EXCLUDED",
            ctype.excluded_reason if ctype else "Not claimable online at this hospital.",
            field="facilityId",
        )
    listed = network(rule.network, members)
    if not listed:
        if fid:
            raise ClaimRuleBroken(
                "FACILITY_NOT_DESIGNATED",
                "The plan's designated hospital list is not loaded; name the hospital.",
                field="facilityId",
            )
        return None
    if not fid:
        raise ClaimRuleBroken(
            "FACILITY_ID_REQUIRED",
            "Choose the hospital from the plan's designated hospitals (by id); "
            "a typed name is not accepted for this claim type.",
            field="facilityId" if not facility_name else "facilityName",
        )
    member = listed.get(fid)
    if member is None:
        raise ClaimRuleBroken(
            "FACILITY_NOT_DESIGNATED",
            "Not one of the plan's designated outpatient hospitals.",
            field="facilityId",
        )
    return Chosen(facility_id=member.facility_id, name=member.name)
