"""Real-name verification (实名认证) and WeChat mini-program binding.

Name and document find the insured person; the mobile number on the insurer's record then
confirms it before the identity is bound (the account's own mobile when it is that one,
else an SMS code sent there). Tries are counted per member, client address and identity
aimed at (server/accounts/identity_tries.py) before anything is looked up.
"""

from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import identity_tries as tries
from server.accounts.errors import (
    AlreadyVerified,
    IdentityNotInsured,
    IdentityTaken,
    MobileNotOnRecord,
    NoMobileOnRecord,
    RealNameRequired,
    SecondFactorRequired,
    WechatAlreadyBound,
    WechatNotBound,
)
from server.accounts.models import Account, Identity, IdentityAudit, WechatBinding
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
from server.crypto import Vault, mask_phone
from server.errors import FieldProblem, ValidationFailed
from server.limits import Limiter
from server.notify.outbox import Channel, enqueue
from server.notify.templates import HOTLINE
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
        sms_code: str | None = None,
        client: str | None = None,
    ) -> Account:
        """Binds the insured person with this document to the account, once the mobile on
        the insurer's record confirms it: the account's own mobile, or a VERIFY_IDENTITY
        code sent there (the first call without `sms_code` sends it and raises
        SecondFactorRequired). An identity held by another account moves here the same way.

        `client` is the caller's address; every call that gets to the look-up is a try.
        """
        now = self.accounts.clock()
        today = now.date()
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
        if sms_code is not None:
            problems.append(sms_code_problem(sms_code))
        number = self._validate(id_type, name, id_number, problems)
        if account.person_id is not None:
            raise AlreadyVerified("This account has completed real-name verification already.")
        self._take_try(db, account.phone_hash, client, id_type, name, number, now)
        person = self.find_insured(db, id_type, name, number)
        holder = self._holder(db, person, account)
        record_phone = self._record_phone(person)
        if record_phone is None:
            if holder is not None:
                raise IdentityTaken(
                    f"This identity is verified on another account and no mobile number is on your policy record; call the service hotline {HOTLINE}."
                )
            raise NoMobileOnRecord(
                f"No mobile number is on your policy record, so real-name verification cannot be completed online; call the service hotline {HOTLINE}."
            )
        if person.phone_hash == account.phone_hash:
            factor = "same_mobile"
        elif sms_code is None:
            self._ask_for_code(db, account, record_phone, taken=holder is not None)
        else:
            self.accounts.codes.consume(
                db, record_phone, Purpose.VERIFY_IDENTITY, sms_code, account_id=account.id
            )
            factor = "sms_code"
        if holder is not None:
            self._reclaim(db, person, holder, account, factor=factor, channel="app", now=now)
        account.person_id = person.id
        db.add(
            Identity(
                account_id=account.id,
                id_type=id_type,
                name_enc=self.vault.encrypt(name.strip()),
                id_number_enc=self.vault.encrypt(number),
                id_number_hash=self.id_hash(number),
                valid_from=valid_from,
                valid_to=valid_to,
                verified_at=now,
            )
        )
        tries.forget(self.accounts.limiter, db, tries.member_key(account.phone_hash))
        db.flush()
        return account

    def _take_try(
        self,
        db: Session,
        member_phone_hash: str,
        client: str | None,
        id_type: IdType,
        name: str,
        number: str,
        now: datetime.datetime,
    ) -> None:
        keys = tries.try_keys(
            self.vault,
            member_phone_hash=member_phone_hash,
            client=client,
            id_type=id_type,
            name=_norm_name(name),
            number=number,
        )
        tries.take_try(self.accounts.limiter, db, keys, now)

    def _holder(self, db: Session, person: Person, account: Account | None) -> Account | None:
        """Another account than `account` that holds the person's identity now."""
        holder = db.scalar(select(Account).where(Account.person_id == person.id))
        if holder is None or (account is not None and holder.id == account.id):
            return None
        return holder

    def _record_phone(self, person: Person) -> str | None:
        return self.vault.decrypt(person.phone_enc) if person.phone_enc else None

    def _ask_for_code(
        self, db: Session, account: Account, record_phone: str, *, taken: bool
    ) -> None:
        """Sends a VERIFY_IDENTITY code, for this account only, to the record mobile."""
        # an undelivered code must not start the resend wait
        with db.begin_nested():
            sent = self.accounts.codes.issue(
                db, record_phone, Purpose.VERIFY_IDENTITY, account_id=account.id
            )
        masked = mask_phone(record_phone)
        moved = (
            " This identity is verified on another account now; the code moves it to this one."
            if taken
            else ""
        )
        raise SecondFactorRequired(
            f"Enter the code sent to {masked}, the mobile number on your policy record, to complete real-name verification.{moved}",
            masked,
            taken=taken,
            resend_after=sent.resend_after_seconds,
            expires_in=sent.expires_in_seconds,
        )

    def _reclaim(
        self,
        db: Session,
        person: Person,
        holder: Account,
        account: Account,
        *,
        factor: str,
        channel: str,
        now: datetime.datetime,
    ) -> None:
        """Takes the identity from the account that holds it: the person proved the record
        mobile. The holder keeps its log-in, loses the identity (and its WeChat binding of
        it), the event is audited and the holder is told by SMS."""
        earlier = db.scalar(select(Identity).where(Identity.account_id == holder.id))
        audit = IdentityAudit(
            at=now,
            event="reclaimed",
            person_id=person.id,
            account_id=account.id,
            previous_account_id=holder.id,
            factor=factor,
            channel=channel,
            previous_id_number_hash=earlier.id_number_hash if earlier is not None else None,
            previous_verified_at=earlier.verified_at if earlier is not None else None,
        )
        db.add(audit)
        if earlier is not None:
            db.delete(earlier)
        bound = db.scalar(
            select(WechatBinding).where(
                WechatBinding.person_id == person.id, WechatBinding.account_id == holder.id
            )
        )
        if bound is not None:
            db.delete(bound)
            self.accounts.revoke_all(db, holder.id, channel="wechat")
        holder.person_id = None
        db.flush()  # the person is free before it is bound again (account.person_id is unique)
        holder_phone = self.accounts.phone_of(holder)
        enqueue(
            db,
            Channel.SMS,
            holder_phone,
            "",
            f"【健康保险】您的账号{mask_phone(holder_phone)}上的实名认证已由被保险人本人通过保单预留手机号验证后解除，该账号不再显示其保单。如有疑问，请致电客服热线{HOTLINE}。",
            f"identity-reclaimed:{audit.id}",
            vault=self.vault,
            now=now,
        )

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
        client: str | None = None,
    ) -> SignIn:
        """Binds the WeChat user to the insured identity and signs in the mobile's account.

        The BIND_WECHAT code proves the mobile; an identity not yet held by that mobile's
        account binds only when the mobile is the one on the insurer's record (and then it
        moves from any account holding it, as in verify_real_name). Tries count as there.
        """
        phone = normalise_mobile(mobile)
        number = self._validate(
            id_type, name, id_number, [mobile_problem(phone), sms_code_problem(sms_code)]
        )
        now = self.accounts.clock()
        phone_hash = self.accounts.phone_hash(phone)
        self._take_try(db, phone_hash, client, id_type, name, number, now)
        openid = self.wechat.openid(login_code)
        openid_hash = self.vault.lookup(openid, kind="openid")
        # the mobile first: each identity looked up costs a code that reached this phone
        self.accounts.codes.consume(db, phone, Purpose.BIND_WECHAT, sms_code)
        person = self.find_insured(db, id_type, name, number)
        account = self.accounts.find_by_phone(db, phone)
        if account is not None and account.person_id not in (None, person.id):
            raise IdentityTaken("This mobile number belongs to an account of another identity.")
        holder = self._holder(db, person, account)
        held_here = account is not None and account.person_id == person.id
        if not held_here and person.phone_hash != phone_hash:
            if holder is not None:
                raise IdentityTaken(
                    "This identity is verified on another account; bind with that account's mobile number or with the one on your policy record."
                )
            record_phone = self._record_phone(person)
            if record_phone is None:
                raise NoMobileOnRecord(
                    f"No mobile number is on your policy record, so the binding cannot be completed online; call the service hotline {HOTLINE}."
                )
            masked = mask_phone(record_phone)
            raise MobileNotOnRecord(
                f"Bind with the mobile number on your policy record ({masked}), or complete real-name verification in the app first.",
                masked,
            )
        bound = db.scalar(select(WechatBinding).where(WechatBinding.person_id == person.id))
        if bound is not None and holder is not None and bound.account_id == holder.id:
            bound = None  # goes with the holder's claim on the identity below
        if bound is not None and bound.openid_hash != openid_hash:
            raise WechatAlreadyBound(
                "This identity is bound to another WeChat account; unbind it there first."
            )
        if bound is None and db.scalar(
            select(WechatBinding.id).where(
                WechatBinding.openid_hash == openid_hash, WechatBinding.person_id != person.id
            )
        ):
            raise WechatAlreadyBound(
                "This WeChat account is bound to another identity; unbind it first."
            )
        if account is None:
            account = Account(
                phone_hash=phone_hash,
                phone_enc=self.vault.encrypt(phone),
                created_at=now,
            )
            db.add(account)
            db.flush()
        if holder is not None:
            self._reclaim(db, person, holder, account, factor="sms_code", channel="wechat", now=now)
        if not held_here:
            account.person_id = person.id
            tries.forget(self.accounts.limiter, db, tries.member_key(phone_hash))
        if bound is None:
            db.add(
                WechatBinding(
                    openid_hash=openid_hash,
                    person_id=person.id,
                    account_id=account.id,
                    bound_at=now,
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


# --- a reviewed change of personal details ---------------------------------------------------


def identity_free(
    db: Session, vault: Vault, account: Account, id_type: IdType, number: str
) -> bool:
    """Whether the document may become this member's: no other insured person has it and no
    other account verified with it."""
    key = vault.lookup(normalise_id_number(number), kind="id")
    other_person = db.scalar(
        select(Person.id).where(
            Person.id_type == id_type,
            Person.id_number_hash == key,
            Person.id != account.person_id,
        )
    )
    other_account = db.scalar(
        select(Identity.id).where(Identity.id_number_hash == key, Identity.account_id != account.id)
    )
    return other_person is None and other_account is None


def apply_details_change(
    db: Session,
    vault: Vault,
    limiter: Limiter,
    account: Account,
    person: Person,
    *,
    name: str,
    id_type: IdType,
    id_number: str,
    mobile: str,
    now: datetime.datetime,
) -> None:
    """A change of personal details the back office approved (server/claims/details_change.py),
    in the caller's transaction: the insured person's record, the account's log-in mobile
    and its real-name identity take the new values and their keyed hashes.

    The identity stays bound to the same person and account, so real-name verification
    holds with the new document, a later verifyRealName or bindWechat finds the person by
    the new name and document only, and the WeChat binding (kept by person) goes on signing
    in this account. The real-name try budgets counted under the old and the new mobile
    start afresh. The caller ends the account's sign-in sessions.
    """
    number = normalise_id_number(id_number)
    old_phone_hash = account.phone_hash
    phone_hash = vault.lookup(mobile, kind="phone")
    person.name_enc = vault.encrypt(name)
    person.name_hash = vault.lookup(_norm_name(name), kind="name")
    person.id_type = id_type
    person.id_number_enc = vault.encrypt(number)
    person.id_number_hash = vault.lookup(number, kind="id")
    person.phone_enc = vault.encrypt(mobile)  # the mobile on the insurer's record
    person.phone_hash = phone_hash
    account.phone_enc = vault.encrypt(mobile)
    account.phone_hash = phone_hash
    identity = db.scalar(select(Identity).where(Identity.account_id == account.id))
    if identity is not None:
        identity.id_type = id_type
        identity.name_enc = vault.encrypt(name)
        identity.id_number_enc = vault.encrypt(number)
        identity.id_number_hash = person.id_number_hash
        identity.verified_at = now
    for key in {old_phone_hash, phone_hash}:
        tries.forget(limiter, db, tries.member_key(key))
    db.flush()
