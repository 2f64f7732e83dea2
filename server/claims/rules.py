"""Claim rules per group plan, read from the reviewed TOML files in `plans/`.

Claim types, amount bands, the online limit, required documents, who may claim and
the cases that must go to the office are data, so a new plan is a new file, not code.
The files are checked when loaded: a broken file stops the server rather than letting
claims through under half a rule set.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

PLANS_DIR = Path(__file__).resolve().parent / "plans"
DEFAULT_CODE = "DEFAULT"


class InvalidRules(Exception):
    """A rules file is malformed; the message names the file and the entry."""


def yuan_to_fen(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    name_en: str
    hint: str = ""
    hint_en: str = ""


@dataclass(frozen=True, slots=True)
class ClaimType:
    code: str
    name: str
    name_en: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    min_fen: int | None = None
    max_fen: int | None = None
    excluded_facilities: tuple[str, ...] = ()
    excluded_reason: str = ""
    excluded_reason_en: str = ""

    @property
    def categories(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True, slots=True)
class OfficeOnly:
    """A case the plan does not accept online: the claimant is told why and where to go."""

    code: str
    name: str
    name_en: str
    reason: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class OutpatientYear:
    """What the calendar year's outpatient total allows online (the university plan)."""

    counted: tuple[str, ...]  # claim types whose invoice totals make up the year's total
    card_type: str
    card_online_below_fen: int
    advance_type: str
    advance_online_from_fen: int
    advance_online_up_to_fen: int
    advance_below_office_case: str


@dataclass(frozen=True, slots=True)
class Declaration:
    """The 授权与声明 the claimant accepts before sending; claims record the version."""

    version: str
    text: str
    text_en: str


@dataclass(frozen=True, slots=True)
class DesignatedRule:
    """The plan's designated hospitals (a directory network, by facility id) for some
    claim types, and the facilities a claim type excludes by id (server/claims/designated.py)."""

    network: str
    claim_types: tuple[str, ...]
    excluded: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (claim type, facility ids)

    def excluded_for(self, claim_type: str) -> tuple[str, ...]:
        return next((ids for code, ids in self.excluded if code == claim_type), ())


@dataclass(frozen=True, slots=True)
class OutOfTown:
    """Claims of some types whose hospital is found outside the plan's home province are an
    office-only case (server/claims/out_of_town.py)."""

    home: str  # the home province's full name in server/divisions, e.g. 天津市
    claim_types: tuple[str, ...]
    office_case: str
    not_places: tuple[str, ...] = ()  # short forms that are words in hospital names


@dataclass(frozen=True, slots=True)
class PlanRules:
    code: str
    name: str
    name_en: str
    plans: tuple[str, ...]
    online_limit_fen: int | None
    limit_note: str
    limit_note_en: str
    claim_for_minor_children: bool
    claim_for_adult_dependants: bool
    region_required: bool
    categories: tuple[Category, ...]
    claim_types: tuple[ClaimType, ...]
    office_only: tuple[OfficeOnly, ...] = ()
    originals_not_needed_up_to_fen: int | None = None
    settlement_working_days: int = 10
    payment_working_days: str = "2-3"
    outpatient_year: OutpatientYear | None = None
    declaration: Declaration | None = None
    # U享赔 (seed 000 §7): group policies under these rules have medical cover and may
    # fetch their hospital visit records and claim from them
    uxiang: bool = False
    designated: DesignatedRule | None = None
    out_of_town: OutOfTown | None = None

    def claim_type(self, code: str) -> ClaimType | None:
        return next((t for t in self.claim_types if t.code == code), None)

    def office_case(self, code: str) -> OfficeOnly | None:
        return next((o for o in self.office_only if o.code == code), None)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


def _req(raw: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in raw:
        raise InvalidRules(f"{where}: `{key}` is missing.")
    value = raw[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise InvalidRules(
            f"{where}: `{key}` must be a non-empty {getattr(kind, '__name__', kind)}."
        )
    return value


def _amount(raw: dict[str, Any], key: str, where: str) -> int | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidRules(f"{where}: `{key}` must be a non-negative amount in yuan.")
    return yuan_to_fen(value)


def parse_rules(raw: dict[str, Any], source: str) -> PlanRules:
    code = _req(raw, "code", source)
    categories = tuple(
        Category(
            code=_req(c, "code", f"{source} categories[{i}]"),
            name=_req(c, "name", f"{source} categories[{i}]"),
            name_en=_req(c, "name_en", f"{source} categories[{i}]"),
            hint=c.get("hint", ""),
            hint_en=c.get("hint_en", ""),
        )
        for i, c in enumerate(raw.get("categories", []))
    )
    known = {c.code for c in categories}
    if len(known) != len(categories):
        raise InvalidRules(f"{source}: a category code appears twice.")
    types: list[ClaimType] = []
    for i, t in enumerate(raw.get("claim_types", [])):
        where = f"{source} claim_types[{i}]"
        required = tuple(t.get("required", []))
        optional = tuple(t.get("optional", []))
        unknown = [c for c in required + optional if c not in known]
        if unknown:
            raise InvalidRules(f"{where}: unknown document categories {unknown}.")
        if not required:
            raise InvalidRules(f"{where}: `required` must name at least one category.")
        lo, hi = _amount(t, "min_amount", where), _amount(t, "max_amount", where)
        if lo is not None and hi is not None and lo > hi:
            raise InvalidRules(f"{where}: `min_amount` is above `max_amount`.")
        excluded = tuple(t.get("excluded_facilities", []))
        if excluded and not t.get("excluded_reason"):
            raise InvalidRules(f"{where}: `excluded_facilities` needs an `excluded_reason`.")
        types.append(
            ClaimType(
                code=_req(t, "code", where),
                name=_req(t, "name", where),
                name_en=_req(t, "name_en", where),
                required=required,
                optional=optional,
                min_fen=lo,
                max_fen=hi,
                excluded_facilities=excluded,
                excluded_reason=t.get("excluded_reason", ""),
                excluded_reason_en=t.get("excluded_reason_en", ""),
            )
        )
    if not types:
        raise InvalidRules(f"{source}: at least one claim type is needed.")
    office = tuple(
        OfficeOnly(
            code=_req(o, "code", f"{source} office_only[{i}]"),
            name=_req(o, "name", f"{source} office_only[{i}]"),
            name_en=_req(o, "name_en", f"{source} office_only[{i}]"),
            reason=_req(o, "reason", f"{source} office_only[{i}]"),
            reason_en=_req(o, "reason_en", f"{source} office_only[{i}]"),
        )
        for i, o in enumerate(raw.get("office_only", []))
    )
    codes = [t.code for t in types] + [o.code for o in office]
    if len(set(codes)) != len(codes):
        raise InvalidRules(f"{source}: a claim type code appears twice.")
    outpatient_year = _outpatient_year(raw.get("outpatient_year"), source, types, office)
    declaration = None
    if "declaration" in raw:
        d = raw["declaration"]
        where = f"{source} declaration"
        declaration = Declaration(
            version=_req(d, "version", where),
            text=_req(d, "text", where),
            text_en=_req(d, "text_en", where),
        )
    designated = None
    if "designated" in raw:
        d = raw["designated"]
        where = f"{source} designated"
        known = {t.code for t in types}
        kinds = tuple(str(c) for c in d.get("claim_types", []))
        excluded = tuple(
            (str(k), tuple(str(i) for i in v)) for k, v in dict(d.get("excluded", {})).items()
        )
        if any(c not in known for c in kinds) or any(k not in known for k, _ in excluded):
            raise InvalidRules(f"{where}: names a claim type the plan does not have.")
        designated = DesignatedRule(
            network=_req(d, "network", where), claim_types=kinds, excluded=excluded
        )
    out_of_town = None
    if "out_of_town" in raw:
        d = raw["out_of_town"]
        where = f"{source} out_of_town"
        kinds = tuple(str(c) for c in d.get("claim_types", []))
        case = _req(d, "office_case", where)
        if any(c not in {t.code for t in types} for c in kinds):
            raise InvalidRules(f"{where}: names a claim type the plan does not have.")
        if case not in {o.code for o in office}:
            raise InvalidRules(f"{where}: `office_case` is not one of the plan's office_only.")
        out_of_town = OutOfTown(
            home=_req(d, "home", where),
            claim_types=kinds,
            office_case=case,
            not_places=tuple(str(x) for x in d.get("not_places", [])),
        )
    return PlanRules(
        code=code,
        name=_req(raw, "name", source),
        name_en=_req(raw, "name_en", source),
        plans=tuple(raw.get("plans", [])),
        online_limit_fen=_amount(raw, "online_limit", source),
        limit_note=raw.get("limit_note", ""),
        limit_note_en=raw.get("limit_note_en", ""),
        claim_for_minor_children=bool(raw.get("claim_for_minor_children", True)),
        claim_for_adult_dependants=bool(raw.get("claim_for_adult_dependants", False)),
        region_required=bool(raw.get("region_required", False)),
        categories=categories,
        claim_types=tuple(types),
        office_only=office,
        originals_not_needed_up_to_fen=_amount(raw, "originals_not_needed_up_to", source),
        settlement_working_days=int(raw.get("settlement_working_days", 10)),
        payment_working_days=str(raw.get("payment_working_days", "2-3")),
        outpatient_year=outpatient_year,
        declaration=declaration,
        uxiang=bool(raw.get("uxiang", False)),
        designated=designated,
        out_of_town=out_of_town,
    )


def _outpatient_year(
    raw: dict[str, Any] | None,
    source: str,
    types: list[ClaimType],
    office: tuple[OfficeOnly, ...],
) -> OutpatientYear | None:
    if raw is None:
        return None
    where = f"{source} outpatient_year"
    codes = {t.code for t in types}
    counted = tuple(_req(raw, "counted", where, list))
    card, advance = _req(raw, "card_type", where), _req(raw, "advance_type", where)
    unknown = [c for c in (*counted, card, advance) if c not in codes]
    if unknown:
        raise InvalidRules(f"{where}: unknown claim types {unknown}.")
    case = _req(raw, "advance_below_office_case", where)
    if case not in {o.code for o in office}:
        raise InvalidRules(f"{where}: {case} is not one of the plan's office_only cases.")
    amounts = {
        key: _amount(raw, key, where)
        for key in ("card_online_below", "advance_online_from", "advance_online_up_to")
    }
    missing = [k for k, v in amounts.items() if v is None]
    if missing:
        raise InvalidRules(f"{where}: {missing} missing.")
    card_below, adv_from, adv_to = (v or 0 for v in amounts.values())
    if adv_from > adv_to:
        raise InvalidRules(f"{where}: advance_online_from is above advance_online_up_to.")
    return OutpatientYear(
        counted=counted,
        card_type=card,
        card_online_below_fen=card_below,
        advance_type=advance,
        advance_online_from_fen=adv_from,
        advance_online_up_to_fen=adv_to,
        advance_below_office_case=case,
    )


@dataclass(frozen=True)
class RuleBook:
    """Every plan's rules, found by rules code or by group plan code."""

    by_code: dict[str, PlanRules]
    by_plan: dict[str, PlanRules]

    def for_plan(self, plan_code: str | None) -> PlanRules:
        if plan_code and plan_code in self.by_plan:
            return self.by_plan[plan_code]
        return self.by_code[DEFAULT_CODE]

    def get(self, code: str) -> PlanRules:
        return self.by_code.get(code) or self.by_code[DEFAULT_CODE]


def load_rule_book(folder: Path = PLANS_DIR) -> RuleBook:
    by_code: dict[str, PlanRules] = {}
    by_plan: dict[str, PlanRules] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise InvalidRules(f"{path.name}: {e}") from None
        rules = parse_rules(raw, path.name)
        if rules.code in by_code:
            raise InvalidRules(f"{path.name}: rules code {rules.code} is used twice.")
        by_code[rules.code] = rules
        for plan in rules.plans:
            if plan in by_plan:
                raise InvalidRules(f"{path.name}: plan {plan} already has rules.")
            by_plan[plan] = rules
    if DEFAULT_CODE not in by_code:
        raise InvalidRules(f"{folder}: the {DEFAULT_CODE} rules file is missing.")
    return RuleBook(by_code=by_code, by_plan=by_plan)


@functools.cache
def rule_book() -> RuleBook:
    return load_rule_book()
