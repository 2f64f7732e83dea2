"""The calendar year's outpatient total, and what it allows online (seed 002 §三).

The university plan's 7,500 and 11,300 are not per-claim limits but thresholds of the
year's outpatient total: card-swipe costs are claimed online while the total is below
7,500 (三.1(1)), advance payments while it is between 7,500 and 11,300 (三.1(2)), and an
advance payment made while the total was still below 7,500 goes to the office (三.2(1)).
The total counts, for the insured person and the year of the visit, the invoice totals of
their outpatient claims that are sent and not withdrawn or rejected, plus what the plan
administrator loaded for spending outside the platform.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from server.claims.errors import ClaimRuleBroken
from server.claims.models import Claim, ClaimStatus, OutpatientYearTotal
from server.claims.rules import OutpatientYear, PlanRules
from server.crypto import Vault
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Person

COUNTED_STATUSES = (
    ClaimStatus.SUBMITTED,
    ClaimStatus.UNDER_REVIEW,
    ClaimStatus.PENDING_SUPPLEMENT,
    ClaimStatus.SETTLED,
    ClaimStatus.PAID,
)


@dataclass(frozen=True, slots=True)
class YearTotal:
    year: int
    claims_fen: int  # sent, not withdrawn or rejected, outpatient claims of the year
    loaded_fen: int  # the administrator's figure for spending outside the platform
    loaded_at: datetime.datetime | None

    @property
    def total_fen(self) -> int:
        return self.claims_fen + self.loaded_fen


def year_total(
    db: Session,
    rules: OutpatientYear,
    person_id: int,
    year: int,
    *,
    excluding_claim_id: int | None = None,
) -> YearTotal:
    q = select(func.coalesce(func.sum(Claim.invoice_total_fen), 0)).where(
        Claim.insured_id == person_id,
        Claim.status.in_(COUNTED_STATUSES),
        Claim.claim_type.in_(rules.counted),
        extract("year", Claim.incident_date) == year,
    )
    if excluding_claim_id is not None:
        q = q.where(Claim.id != excluding_claim_id)
    claims_fen = int(db.scalar(q) or 0)
    loaded = db.scalar(
        select(OutpatientYearTotal).where(
            OutpatientYearTotal.person_id == person_id, OutpatientYearTotal.year == year
        )
    )
    return YearTotal(
        year,
        claims_fen,
        loaded.amount_fen if loaded else 0,
        loaded.loaded_at if loaded else None,
    )


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def check(
    db: Session,
    rules: PlanRules,
    *,
    insured_id: int,
    claim_id: int | None,
    claim_type: str | None,
    incident_date: datetime.date | None,
    amount_fen: int | None,
) -> None:
    """Refuse what the year's total does not allow online (ClaimRuleBroken).

    Without an amount (the basics step) only the type is checked against the total so far;
    with one, the claim's own amount is placed in the year's band too. The claim itself
    (`claim_id`) is never part of the total it is measured against.
    """
    year_rules = rules.outpatient_year
    if year_rules is None or claim_type is None or incident_date is None:
        return
    if claim_type not in (year_rules.card_type, year_rules.advance_type):
        return
    year = incident_date.year
    before = year_total(db, year_rules, insured_id, year, excluding_claim_id=claim_id).total_fen
    if claim_type == year_rules.advance_type:
        if before < year_rules.advance_online_from_fen:
            office = rules.office_case(year_rules.advance_below_office_case)
            assert office is not None  # checked when the rules were loaded
            raise ClaimRuleBroken(
                "OFFICE_ONLY",
                f"{office.reason}（{year}年门诊累计 {_yuan(before)} 元）",
                field="claimType",
            )
        if amount_fen is not None and before + amount_fen > year_rules.advance_online_up_to_fen:
            room = max(0, year_rules.advance_online_up_to_fen - before)
            raise ClaimRuleBroken(
                "ABOVE_YEAR_BAND",
                f"Advance payments are claimed online up to a yearly outpatient total of CNY "
                f"{_yuan(year_rules.advance_online_up_to_fen)}; {year}'s total is "
                f"CNY {_yuan(before)}, so at most CNY {_yuan(room)} fits. Claim the rest at "
                "the medical-insurance office.",
                field="invoiceTotal",
            )
    elif before >= year_rules.card_online_below_fen:
        raise ClaimRuleBroken(
            "YEAR_TOTAL_REACHED",
            f"Card-swipe outpatient costs are claimed online while the year's outpatient total "
            f"is below CNY {_yuan(year_rules.card_online_below_fen)}; {year}'s total is "
            f"CNY {_yuan(before)}. Claim these costs as an outpatient advance payment.",
            field="claimType",
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """What a member sees before starting: the total and what it allows now."""

    total: YearTotal
    card_online: bool
    advance_online: bool
    advance_room_fen: int
    meaning: str
    meaning_en: str


def standing(db: Session, rules: OutpatientYear, person_id: int, year: int) -> Standing:
    total = year_total(db, rules, person_id, year)
    t = total.total_fen
    card = t < rules.card_online_below_fen
    advance = rules.advance_online_from_fen <= t < rules.advance_online_up_to_fen
    room = max(0, rules.advance_online_up_to_fen - t) if advance else 0
    below, upto = _yuan(rules.card_online_below_fen), _yuan(rules.advance_online_up_to_fen)
    if card:
        meaning = (
            f"{year}年门诊累计 {_yuan(t)} 元，未达 {below} 元：门诊刷卡费用可在线申报；"
            "此时发生的门诊垫付费用须到医保办申报。"
        )
        meaning_en = (
            f"Your {year} outpatient total is CNY {_yuan(t)}, below CNY {below}: card-swipe "
            "costs can be claimed online; advance payments made now go to the office."
        )
    elif advance:
        meaning = (
            f"{year}年门诊累计 {_yuan(t)} 元，在 {below} 元至 {upto} 元之间：门诊垫付费用可在线申报，"
            f"本年还可申报 {_yuan(room)} 元。"
        )
        meaning_en = (
            f"Your {year} outpatient total is CNY {_yuan(t)}, between CNY {below} and "
            f"{upto}: advance payments can be claimed online, up to CNY {_yuan(room)} more "
            "this year."
        )
    else:
        meaning = f"{year}年门诊累计 {_yuan(t)} 元，已达 {upto} 元：门诊费用请到医保办申报。"
        meaning_en = (
            f"Your {year} outpatient total is CNY {_yuan(t)}, at or above CNY {upto}: "
            "claim outpatient costs at the medical-insurance office."
        )
    return Standing(total, card, advance, room, meaning, meaning_en)


# --- the administrator's figures ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadReport:
    loaded: int
    unknown_lines: list[int]  # rows whose person is not insured here (line numbers only)


def load_totals(
    db: Session,
    vault: Vault,
    rows: Iterable[tuple[int, str, str, str]],
    *,
    source: str,
    now: datetime.datetime,
) -> LoadReport:
    """Set each person's outpatient spending outside the platform for a year.

    `rows` are (line number, ID number, year, amount in yuan). Every row is checked first
    and one bad row refuses the whole file (ValidationFailed naming its line, never the ID
    number); a person not insured here is skipped and reported by line. A row for a
    person and year already loaded replaces the figure.
    """
    problems: list[FieldProblem] = []
    parsed: list[tuple[int, str, int, int]] = []
    this_year = now.year
    for line, id_number, year_text, amount_text in rows:
        where = f"line {line}"
        try:
            year = int(year_text)
        except ValueError:
            problems.append(FieldProblem(where, "The year is not a number.", "INVALID_YEAR"))
            continue
        if not 2000 <= year <= this_year:
            problems.append(
                FieldProblem(where, f"The year {year} is out of range.", "INVALID_YEAR")
            )
            continue
        try:
            amount = Decimal(amount_text.strip())
        except InvalidOperation:
            problems.append(FieldProblem(where, "The amount is not a number.", "INVALID_AMOUNT"))
            continue
        if amount < 0 or amount > 10_000_000 or amount != amount.quantize(Decimal("0.01")):
            problems.append(
                FieldProblem(
                    where, "The amount must be 0 or more, in yuan and fen.", "INVALID_AMOUNT"
                )
            )
            continue
        parsed.append((line, id_number.strip().upper(), year, int(amount * 100)))
    if problems:
        raise ValidationFailed(problems)
    unknown: list[int] = []
    loaded = 0
    for line, id_number, year, fen in parsed:
        person_id = db.scalar(
            select(Person.id).where(Person.id_number_hash == vault.lookup(id_number, kind="id"))
        )
        if person_id is None:
            unknown.append(line)
            continue
        row = db.scalar(
            select(OutpatientYearTotal).where(
                OutpatientYearTotal.person_id == person_id, OutpatientYearTotal.year == year
            )
        )
        if row is None:
            row = OutpatientYearTotal(person_id=person_id, year=year)
            db.add(row)
        row.amount_fen, row.source, row.loaded_at = fen, source[:200], now
        loaded += 1
    db.flush()
    return LoadReport(loaded, unknown)
