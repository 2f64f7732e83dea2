"""What a verified member may read: their policies, dependants' policies, network, favourites."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, selectinload

from server.accounts.errors import FacilityNotFound, PolicyNotFound
from server.accounts.models import Account, Favourite
from server.crypto import Vault, mask_id, mask_name
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import Person, Policy, PolicyStatus

MAX_FAVOURITES = 200


@dataclass(frozen=True, slots=True)
class PersonView:
    """An insured person as a member may see them: masked."""

    name_masked: str
    id_type: str
    id_number_masked: str
    birth_date: datetime.date
    is_minor: bool


def age_on(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class PoliciesService:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def person_view(self, person: Person, today: datetime.date) -> PersonView:
        return PersonView(
            name_masked=mask_name(self.vault.decrypt(person.name_enc)),
            id_type=person.id_type.name,
            id_number_masked=mask_id(self.vault.decrypt(person.id_number_enc)),
            birth_date=person.birth_date,
            is_minor=age_on(person.birth_date, today) < 18,
        )

    def holder_name(self, policy: Policy) -> str:
        return self.vault.decrypt(policy.holder_name_enc)

    def full_name(self, person: Person) -> str:
        """Unmasked: only for the member's own certificate (a privileged output)."""
        return self.vault.decrypt(person.name_enc)

    def policies(
        self, db: Session, person_id: int, status: PolicyStatus | None = None
    ) -> list[Policy]:
        """The member's own policies and those of their dependants (连带被保人)."""
        q = (
            select(Policy)
            .where(or_(Policy.insured_id == person_id, Policy.main_insured_id == person_id))
            .options(
                selectinload(Policy.insured),
                selectinload(Policy.plan),
                selectinload(Policy.benefits),
            )
            .order_by(Policy.main_insured_id.is_not(None), Policy.start_date.desc(), Policy.id)
        )
        if status is not None:
            q = q.where(Policy.status == status)
        return list(db.scalars(q))

    def policy(self, db: Session, person_id: int, policy_id: int) -> Policy:
        p = db.get(Policy, policy_id)
        # someone else's policy answers exactly like a missing one: ids reveal nothing
        if p is None or person_id not in (p.insured_id, p.main_insured_id):
            raise PolicyNotFound("No such policy among yours.")
        return p

    def policy_by_no(self, db: Session, person_id: int, policy_no: str) -> Policy:
        p = db.scalar(select(Policy).where(Policy.policy_no == policy_no))
        if p is None:
            raise PolicyNotFound("No such policy among yours.")
        return self.policy(db, person_id, p.id)

    @staticmethod
    def is_dependant_view(policy: Policy, person_id: int) -> bool:
        """The 连带 tag: a dependant's policy as the main insured sees it."""
        return policy.main_insured_id == person_id and policy.insured_id != person_id

    def networks(self, db: Session, person_id: int) -> list[str]:
        """Directory network ids of the member's in-force group plans, own policies first."""
        out: list[str] = []
        for p in self.policies(db, person_id, PolicyStatus.IN_FORCE):
            if p.plan is not None and p.plan.network_id and p.plan.network_id not in out:
                out.append(p.plan.network_id)
        return out

    # --- favourites (我的收藏) ---------------------------------------------------------------

    def favourites(self, db: Session, account: Account) -> list[str]:
        return list(
            db.scalars(
                select(Favourite.facility_id)
                .where(Favourite.account_id == account.id)
                .order_by(Favourite.created_at.desc(), Favourite.id.desc())
            )
        )

    def add_favourite(self, db: Session, account: Account, facility_id: str, exists: bool) -> None:
        if not exists:
            raise FacilityNotFound("No facility has this id.")
        current = self.favourites(db, account)
        if facility_id in current:
            return  # adding twice is not an error: the star is simply on
        if len(current) >= MAX_FAVOURITES:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "facilityId",
                        f"At most {MAX_FAVOURITES} favourites; remove one first.",
                        "TOO_MANY_FAVOURITES",
                    )
                ]
            )
        db.add(Favourite(account_id=account.id, facility_id=facility_id))
        db.flush()

    def remove_favourite(self, db: Session, account: Account, facility_id: str) -> None:
        result = db.execute(
            delete(Favourite).where(
                Favourite.account_id == account.id, Favourite.facility_id == facility_id
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise FacilityNotFound("This facility is not among your favourites.")
