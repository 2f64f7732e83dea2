"""Real-name verification (实名认证) and WeChat mini-program binding."""

from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import (
    AlreadyVerified,
    IdentityNotInsured,
    IdentityTaken,
    RealNameRequired,
    WechatAlreadyBound,
    WechatNotBound,
)
from server.accounts.models import Account, Identity, WechatBinding
from server.accounts.service import AccountsService, SignIn
from server.accounts.sms_codes import Purpose
from server.accounts.validation import (
    id_number_problem,
    mobile_problem,
    name_problem,
    normalise_id_number,
    normalise_mobile,
    sms_code_problem,
)
from server.errors import FieldProblem, ValidationFailed
from server.policies.models import IdType, Person, Policy
from server.wechat import WechatExchanger


def _norm_name(name: str) -> str:
    return " ".join(name.split()).upper() if name.isascii() else "".join(name.split())


class IdentityService:
    def __init__(self, accounts: AccountsService, wechat: WechatExchanger) -> None:
        self.accounts = accounts
        self.vault = accounts.vault
        self.wechat = wechat

    def name_hash(self, name: str) -> str:
        return self.vault.lookup(_norm_name(name), kind="name")

    def id_hash(self, number: str) -> str:
        return self.vault.lookup(normalise_id_number(number), kind="id")

    def _validate(
        self, id_type: IdType, name: str, number: str, problems: list[FieldProblem | None]
    ) -> str:
        number = normalise_id_number(number)
        found = [
            p for p in [name_problem(name), id_number_problem(id_type, number), *problems] if p
        ]
        if found:
            raise ValidationFailed(found)
        return number

    def find_insured(self, db: Session, id_type: IdType, name: str, number: str) -> Person:
        """The insured person with this document and name, who is insured on some policy."""
        person = db.scalar(
            select(Person).where(
                Person.id_type == id_type, Person.id_number_hash == self.id_hash(number)
            )
        )
        if (
            person is None
            or person.name_hash != self.name_hash(name)
            or db.scalar(select(Policy.id).where(Policy.insured_id == person.id).limit(1)) is None
        ):
            raise IdentityNotInsured(
                "No insured member has this name and document; check them against the policy."
            )
        return person

    def verify_real_name(
        self,
        db: Session,
        account: Account,
        *,
        id_type: IdType,
        name: str,
        id_number: str,
        valid_from: datetime.date,
        valid_to: datetime.date | None,
    ) -> Account:
        today = self.accounts.clock().date()
        problems: list[FieldProblem | None] = []
        if valid_from > today:
            problems.append(
                FieldProblem("validFrom", "The document is not valid yet.", "NOT_YET_VALID")
            )
        if valid_to is not None and valid_to < today:
            problems.append(
                FieldProblem("validTo", "The document has expired.", "DOCUMENT_EXPIRED")
            )
        if valid_to is not None and valid_to <= valid_from:
            problems.append(
                FieldProblem("validTo", "The end date must follow the start date.", "INVALID_DATES")
            )
        number = self._validate(id_type, name, id_number, problems)
        if account.person_id is not None:
            raise AlreadyVerified("This account has completed real-name verification already.")
        person = self.find_insured(db, id_type, name, number)
        self._claim_person(db, account, person)
        db.add(
            Identity(
                account_id=account.id,
                id_type=id_type,
                name_enc=self.vault.encrypt(name.strip()),
                id_number_enc=self.vault.encrypt(number),
                id_number_hash=self.id_hash(number),
                valid_from=valid_from,
                valid_to=valid_to,
                verified_at=self.accounts.clock(),
            )
        )
        db.flush()
        return account

    def _claim_person(self, db: Session, account: Account, person: Person) -> None:
        other = db.scalar(select(Account).where(Account.person_id == person.id))
        if other is not None and other.id != account.id:
            raise IdentityTaken(
                "This identity is verified on another account; sign in with that mobile number."
            )
        account.person_id = person.id

    def require_verified(self, account: Account) -> int:
        if account.person_id is None:
            raise RealNameRequired(
                "Complete real-name verification to use health-insurance services."
            )
        return account.person_id

    # --- WeChat ---------------------------------------------------------------------------

    def bind_wechat(
        self,
        db: Session,
        *,
        login_code: str,
        name: str,
        id_type: IdType,
        id_number: str,
        mobile: str,
        sms_code: str,
    ) -> SignIn:
        phone = normalise_mobile(mobile)
        number = self._validate(
            id_type, name, id_number, [mobile_problem(phone), sms_code_problem(sms_code)]
        )
        openid = self.wechat.openid(login_code)
        openid_hash = self.vault.lookup(openid, kind="openid")
        person = self.find_insured(db, id_type, name, number)
        bound = db.scalar(select(WechatBinding).where(WechatBinding.person_id == person.id))
        if bound is not None and bound.openid_hash != openid_hash:
            raise WechatAlreadyBound(
                "This identity is bound to another WeChat account; unbind it there first."
            )
        if bound is None and db.scalar(
            select(WechatBinding.id).where(WechatBinding.openid_hash == openid_hash)
        ):
            raise WechatAlreadyBound(
                "This WeChat account is bound to another identity; unbind it first."
            )
        self.accounts.codes.consume(db, phone, Purpose.BIND_WECHAT, sms_code)
        account = self.accounts.find_by_phone(db, phone)
        owner = db.scalar(select(Account).where(Account.person_id == person.id))
        if owner is not None and (account is None or owner.id != account.id):
            raise IdentityTaken(
                "This identity is verified on another account; bind with that account's mobile number."
            )
        if account is None:
            account = Account(
                phone_hash=self.accounts.phone_hash(phone),
                phone_enc=self.vault.encrypt(phone),
                created_at=self.accounts.clock(),
            )
            db.add(account)
            db.flush()
        if account.person_id is not None and account.person_id != person.id:
            raise IdentityTaken("This mobile number belongs to an account of another identity.")
        self._claim_person(db, account, person)
        if bound is None:
            db.add(
                WechatBinding(
                    openid_hash=openid_hash,
                    person_id=person.id,
                    account_id=account.id,
                    bound_at=self.accounts.clock(),
                )
            )
        db.flush()
        return self.accounts._start_session(db, account, "wechat", None)

    def wechat_login(self, db: Session, login_code: str) -> SignIn:
        openid_hash = self.vault.lookup(self.wechat.openid(login_code), kind="openid")
        bound = db.scalar(select(WechatBinding).where(WechatBinding.openid_hash == openid_hash))
        if bound is None:
            raise WechatNotBound(
                "This WeChat account is not bound; bind it with your identity first."
            )
        account = db.get(Account, bound.account_id)
        assert account is not None
        return self.accounts._start_session(db, account, "wechat", None)

    def unbind_wechat(self, db: Session, account: Account) -> None:
        bound = db.scalar(select(WechatBinding).where(WechatBinding.account_id == account.id))
        if bound is None:
            raise WechatNotBound("No WeChat account is bound.")
        db.delete(bound)
        self.accounts.revoke_all(db, account.id, channel="wechat")
        db.flush()

    def is_wechat_bound(self, db: Session, account: Account) -> bool:
        return (
            db.scalar(select(WechatBinding.id).where(WechatBinding.account_id == account.id))
            is not None
        )
