"""What every claim operation shares: the status machine, the timeline, claim numbers,
documents, duplicate checks and who may see a claim.
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Insert,
    ScalarSelect,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, joinedload

from server.accounts.models import Account
from server.accounts.sms_codes import SmsCodes
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimDocument,
    ClaimDuplicate,
    ClaimEvent,
    ClaimInvoice,
    ClaimNumberSequence,
    ClaimStatus,
    ContactProfile,
    SupplementRequest,
)
from server.claims.rules import RuleBook, rule_book
from server.clock import Clock
from server.crypto import Vault
from server.hospital_records import HospitalRecords
from server.limits import Limiter
from server.sessions import Lifetime, SessionStore
from server.settings import Settings
from server.storage.backend import LocalStorage, S3Storage, Storage
from server.storage.uploads import StoredUpload, check_quota
from server.workdays import CHINA_TZ

log = logging.getLogger(__name__)

S = ClaimStatus
# who may move a claim from one status to another
TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset(
        {S.UNDER_REVIEW, S.PENDING_SUPPLEMENT, S.SETTLED, S.REJECTED, S.WITHDRAWN}
    ),
    S.UNDER_REVIEW: frozenset({S.PENDING_SUPPLEMENT, S.SETTLED, S.REJECTED, S.WITHDRAWN}),
    S.PENDING_SUPPLEMENT: frozenset({S.UNDER_REVIEW, S.REJECTED, S.WITHDRAWN}),
    S.SETTLED: frozenset({S.PAID}),
    S.PAID: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
OPEN_STATUSES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.PENDING_SUPPLEMENT})
# the tables, for the Core statements that write several of them at once
CLAIM_TABLE = cast(Table, Claim.__table__)
EVENT_TABLE = cast(Table, ClaimEvent.__table__)
DOCUMENT_TABLE = cast(Table, ClaimDocument.__table__)
_CLAIM, _EVENT, _DOC = CLAIM_TABLE, EVENT_TABLE, DOCUMENT_TABLE
CLAIM_NO_PREFIX = "VSHH"


@dataclass
class ClaimContext:
    """The long-lived things claim operations need, built once per app."""

    settings: Settings
    vault: Vault
    clock: Clock
    storage: Storage
    rules: RuleBook
    codes: SmsCodes  # CONFIRM_CLAIM codes, sent to the applicant's mobile
    limiter: Limiter  # adjusters' log-ins, the supplement portal's tries and captchas
    # U享赔's visit records (server/hospital_records.py); None: not offered on this server
    hospital_records: HospitalRecords | None = None
    # a directory facility's city and district by id (server/claims/out_of_town.py)
    facility_place: Callable[[str], str | None] | None = None

    @property
    def max_file_bytes(self) -> int:
        return self.settings.upload_max_mb * 1024 * 1024

    @property
    def claim_cap_bytes(self) -> int:
        return self.settings.claim_upload_cap_mb * 1024 * 1024

    def now(self) -> datetime.datetime:
        return self.clock()

    @property
    def sessions(self) -> SessionStore:
        """Sign-in sessions (adjusters, the supplement portal; links check any kind)."""
        s = self.settings
        return SessionStore(
            self.clock, Lifetime.of(s.session_idle_minutes, s.session_absolute_hours)
        )


def claim_context(
    settings: Settings,
    vault: Vault,
    codes: SmsCodes,
    clock: Clock,
    *,
    storage: Storage | None = None,
    rules: RuleBook | None = None,
    limiter: Limiter | None = None,
    hospital_records: HospitalRecords | None = None,
    facility_place: Callable[[str], str | None] | None = None,
) -> ClaimContext:
    return ClaimContext(
        settings=settings,
        vault=vault,
        clock=clock,
        storage=storage or make_storage(settings),
        rules=rules or rule_book(),
        codes=codes,
        limiter=limiter or codes.limiter,  # the members' limiter: one per app
        hospital_records=hospital_records,
        facility_place=facility_place,
    )


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        if not settings.s3_bucket:
            raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET.")
        return S3Storage(
            settings.s3_bucket,
            temp_dir=Path(settings.uploads_dir) / "tmp",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
        )
    if settings.storage_backend != "local":
        raise RuntimeError(f"Unknown STORAGE_BACKEND {settings.storage_backend!r}: local or s3.")
    return LocalStorage(settings.uploads_dir)


# --- timeline and status ---------------------------------------------------------------------


def record(
    db: Session,
    claim: Claim,
    kind: str,
    *,
    actor: Actor,
    actor_id: int | None,
    now: datetime.datetime,
    note: str = "",
    channel: Channel | None = None,
    status_from: ClaimStatus | None = None,
    status_to: ClaimStatus | None = None,
) -> ClaimEvent:
    """Add a line to the claim's timeline (in the caller's transaction)."""
    event = ClaimEvent(
        claim_id=claim.id,
        at=now,
        kind=kind,
        actor=actor,
        actor_id=actor_id,
        channel=channel,
        note=note,
        status_from=status_from,
        status_to=status_to,
    )
    db.add(event)
    claim.updated_at = now
    return event


def create_claim(
    db: Session,
    values: dict[str, Any],
    kind: str,
    *,
    actor: Actor,
    actor_id: int | None,
    now: datetime.datetime,
    channel: Channel | None = None,
) -> Claim:
    """A new claim row with `values` and its first timeline line (`record`'s), in one
    statement on PostgreSQL: the claim's INSERT ... RETURNING is a CTE that the event's
    INSERT reads its id from. Elsewhere the session adds and flushes both."""
    if db.get_bind().dialect.name != "postgresql":
        claim = Claim(**values)
        db.add(claim)
        db.flush()
        record(db, claim, kind, actor=actor, actor_id=actor_id, now=now, channel=channel)
        db.flush()
        return claim
    params = {f"claim_{key}": value for key, value in values.items()}
    params |= record_params(kind, actor=actor, actor_id=actor_id, now=now, channel=channel)
    return db.scalars(_create_claim_statement(tuple(values)), params).one()


@functools.cache
def _create_claim_statement(keys: tuple[str, ...]) -> Select[Claim]:
    """`create_claim`'s statement for these columns, built once (its values are bound)."""
    new = (
        insert(_CLAIM)
        .values({key: bindparam(f"claim_{key}", type_=_CLAIM.c[key].type) for key in keys})
        .returning(*_CLAIM.c)
        .cte("new_claim")
    )
    return select(aliased(Claim, new)).add_cte(record_of(new.c.id).cte("new_event"))


_EVENT_COLUMNS = ("at", "kind", "actor", "actor_id", "channel", "note")


def record_of(claim_id: ColumnElement[int]) -> Insert:
    """`record`'s timeline line as an INSERT ... SELECT, for each claim id `claim_id` (a
    column of a CTE that writes the claim) gives: for PostgreSQL's one-statement writes.
    Its values are bound by name: pass `record_params` with the statement's parameters."""
    return insert(_EVENT).from_select(
        ["claim_id", *_EVENT_COLUMNS],
        select(
            claim_id,
            *(bindparam(f"event_{key}", type_=_EVENT.c[key].type) for key in _EVENT_COLUMNS),
        ),
    )


def record_params(
    kind: str,
    *,
    actor: Actor,
    actor_id: int | None,
    now: datetime.datetime,
    channel: Channel | None = None,
    note: str = "",
) -> dict[str, Any]:
    """The values of `record_of`'s line, as `record` takes them."""
    return {
        "event_at": now,
        "event_kind": kind,
        "event_actor": actor,
        "event_actor_id": actor_id,
        "event_channel": channel,
        "event_note": note,
    }


def transition(
    db: Session,
    claim: Claim,
    to: ClaimStatus,
    kind: str,
    *,
    actor: Actor,
    actor_id: int | None,
    now: datetime.datetime,
    note: str = "",
    channel: Channel | None = None,
) -> ClaimEvent:
    """Move the claim to `to` if the status machine allows it, and record the change."""
    if to not in TRANSITIONS[claim.status]:
        raise WrongClaimState(
            f"A claim that is {claim.status.value.replace('_', ' ')} cannot become "
            f"{to.value.replace('_', ' ')}."
        )
    before = claim.status
    claim.status = to
    return record(
        db,
        claim,
        kind,
        actor=actor,
        actor_id=actor_id,
        now=now,
        note=note,
        channel=channel,
        status_from=before,
        status_to=to,
    )


# --- claim numbers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _number_upsert(dialect: str) -> Any:
    """The day's counter raised by one (built once per dialect; the day is bound)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, ClaimNumberSequence.__table__)
    return (
        insert(table)
        .values(day=bindparam("seq_day", type_=table.c.day.type), last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )


def claim_day(now: datetime.datetime) -> str:
    """The yymmdd (China date) of a claim number made at `now`."""
    return now.astimezone(CHINA_TZ).strftime("%y%m%d")


def claim_no_in_sql() -> tuple[Any, Any]:
    """PostgreSQL: the day's counter raised by one as a CTE (the day bound as `seq_day`),
    and the claim number made from it in SQL, as `next_claim_no` makes it in Python, for a
    statement that writes the number with the claim."""
    number = _number_upsert("postgresql").cte("number")
    # read as a one-row subquery (a CTE is evaluated once however often it is read)
    digits = select(number.c.last.cast(Text)).scalar_subquery()
    claim_no = (
        literal(CLAIM_NO_PREFIX)
        + bindparam("seq_day", type_=Text)
        + func.lpad(digits, func.greatest(5, func.length(digits)), "0")
    )
    return number, claim_no


def next_claim_no(db: Session, now: datetime.datetime) -> str:
    """VSHH + yymmdd (China date) + a sequence of at least 5 digits, e.g. VSHH26030200001.

    One upsert raises the day's counter and returns it; the row stays locked until the
    caller's transaction ends, so concurrent submissions get distinct numbers on
    PostgreSQL, and SQLite serialises writers anyway.
    """
    day = claim_day(now)
    upsert = _number_upsert(db.get_bind().dialect.name)
    seq = db.execute(upsert, {"seq_day": day}).scalar_one()
    return f"{CLAIM_NO_PREFIX}{day}{seq:05d}"


# --- who may see a claim -------------------------------------------------------------------------


def member_claim(
    db: Session, account: Account, claim_id: int, *, with_parts: bool = False
) -> Claim:
    """A claim the member made, or one about them; anything else answers as missing.

    `with_parts`: its policy, payee account and applicant come in the same statement (the
    rules of every step read them; the amount step names a new payee after the applicant)."""
    options = (
        (joinedload(Claim.policy), joinedload(Claim.payee), joinedload(Claim.applicant))
        if with_parts
        else ()
    )
    claim = db.get(Claim, claim_id, options=options)
    if claim is None or not can_see(account, claim):
        raise ClaimNotFound("No such claim among yours.")
    return claim


def contact_of(db: Session, account_id: int) -> ContactProfile | None:
    # one read per database session (one request); the row, once there, stays in the
    # session and is changed through it (remember_contact)
    known: dict[int, ContactProfile] = db.info.setdefault("contact_of", {})
    seen = known.get(account_id)
    if seen is not None:
        state = inspect(seen)
        if not (state.deleted or state.was_deleted or state.detached):
            return seen
    found = db.scalar(select(ContactProfile).where(ContactProfile.account_id == account_id))
    if found is not None:
        known[account_id] = found
    return found


def remember_contact(db: Session, contact: ContactProfile) -> None:
    db.info.setdefault("contact_of", {})[contact.account_id] = contact


def can_see(account: Account, claim: Claim) -> bool:
    return claim.account_id == account.id or (
        account.person_id is not None and claim.insured_id == account.person_id
    )


def lock_claim(db: Session, claim: Claim) -> Claim:
    """Lock the claim's row for this transaction (PostgreSQL) and read it afresh.

    Two adjusters (or a double click) deciding at once then go one after the other, and
    the second sees the first one's status.
    """
    fresh = db.scalars(
        select(Claim)
        .where(Claim.id == claim.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    assert fresh is claim  # the session's one object for the row, now refreshed
    return claim


def member_claims_filter(account: Account):  # type: ignore[no-untyped-def]
    """The SQL condition for `can_see`, for lists."""
    if account.person_id is None:
        return Claim.account_id == account.id
    return or_(Claim.account_id == account.id, Claim.insured_id == account.person_id)


# --- documents -----------------------------------------------------------------------------------


def _used_of_claim(claim_id: Any = Claim.id) -> ScalarSelect[int]:
    """The bytes a claim's documents hold, as a column of a statement on `Claim`."""
    return (
        select(func.coalesce(func.sum(ClaimDocument.size), 0))
        .where(ClaimDocument.claim_id == claim_id, ClaimDocument.removed_at.is_(None))
        .scalar_subquery()
    )


# in a RETURNING clause SQLAlchemy writes SQLite's columns without their table, so the
# claim's id is written out (inside the subquery the document's columns are the nearer)
_RETURNING_CLAIM_ID: ColumnClause[int] = literal_column("claim.id")


def claim_with_used_bytes(
    db: Session,
    claim_id: int,
    *,
    touch: datetime.datetime | None = None,
) -> tuple[Claim, int] | None:
    """The claim and the bytes its documents hold; `touch`: its row locked by writing this
    time as its `updated_at` (rolled back with the transaction if the caller then refuses).

    SQLite (one writer) locks, reads and writes in one UPDATE ... RETURNING. On PostgreSQL
    the bytes are summed by a second statement once the lock is held: a statement's sum is
    of the moment it began, before any wait for the lock, and would miss an upload
    committed meanwhile."""
    if touch is None:
        row = db.execute(select(Claim, _used_of_claim()).where(Claim.id == claim_id)).first()
        return None if row is None else (row[0], int(row[1] or 0))
    postgres = db.get_bind().dialect.name == "postgresql"
    touched = update(Claim).where(Claim.id == claim_id).values(updated_at=touch)
    found = db.execute(
        touched.returning(Claim)
        if postgres
        else touched.returning(Claim, _used_of_claim(_RETURNING_CLAIM_ID)),
        execution_options={"populate_existing": True, "synchronize_session": False},
    ).first()
    if found is None:
        return None
    return (found[0], used_bytes(db, found[0]) if postgres else int(found[1] or 0))


def attach_to_draft(
    db: Session,
    claim_id: int,
    *,
    account_id: int,
    plan_rules: str,
    claim_type: str | None,
    category: str,
    stored: Sequence[StoredUpload],
    cap: int,
    channel: Channel,
    now: datetime.datetime,
) -> list[ClaimDocument]:
    """PostgreSQL: lock the claim by writing `now` as its `updated_at` (as
    `claim_with_used_bytes(touch=...)`) and record the stored uploads on it, in one
    statement, if the locked row is still the account's draft with these rules and claim
    type (for which the caller found `category` allowed) and the files fit under `cap`
    with the bytes its documents hold. An empty list: nothing was recorded (the claim is
    gone, changed, full, or written by another transaction since this statement began);
    the caller then locks and reads it (`claim_with_used_bytes(touch=...)`) to record
    the files or tell why not."""
    params: dict[str, Any] = {
        "up_claim_id": claim_id,
        "up_now": now,
        "up_account_id": account_id,
        "up_plan_rules": plan_rules,
        "up_claim_type": claim_type,
        "up_room": cap - sum(s.size for s in stored),
        "up_category": category,
        "up_channel": channel,
    }
    for i, s in enumerate(stored):
        params |= {
            f"up_storage_key_{i}": s.key,
            f"up_thumbnail_key_{i}": s.thumbnail_key,
            f"up_content_type_{i}": s.content_type,
            f"up_size_{i}": s.size,
            f"up_original_sha256_{i}": s.original_sha256,
            f"up_display_name_{i}": s.display_name,
            f"up_width_{i}": s.width,
            f"up_height_{i}": s.height,
        }
    return list(db.scalars(_attach_statement(len(stored)), params))


_PER_FILE = (
    "storage_key",
    "thumbnail_key",
    "content_type",
    "size",
    "original_sha256",
    "display_name",
    "width",
    "height",
)


@functools.cache
def _attach_statement(files: int) -> Select[ClaimDocument]:
    """`attach_to_draft`'s statement for this many files, built once (values bound)."""
    # The bytes the claim's documents hold are summed from the statement's snapshot,
    # taken before any wait for the row's lock: the row is written only if it is still
    # the version that snapshot saw (its xmin), so no upload that committed meanwhile is
    # missed. Otherwise nothing is written and the caller locks the row, then sums afresh.
    snapshot = _CLAIM.alias("seen")
    unchanged = literal_column("claim.xmin") == (
        select(literal_column("seen.xmin"))
        .select_from(snapshot)
        .where(snapshot.c.id == bindparam("up_claim_id"))
        .scalar_subquery()
    )
    touched = (
        update(_CLAIM)
        .where(_CLAIM.c.id == bindparam("up_claim_id"), unchanged)
        .values(updated_at=bindparam("up_now", type_=_CLAIM.c.updated_at.type))
        .returning(
            _CLAIM.c.id,
            _CLAIM.c.account_id,
            _CLAIM.c.status,
            _CLAIM.c.plan_rules,
            _CLAIM.c.claim_type,
            _used_of_claim(_RETURNING_CLAIM_ID).label("used"),
        )
        .cte("touched")
    )
    fits = and_(
        touched.c.account_id == bindparam("up_account_id"),
        touched.c.status == S.DRAFT,
        touched.c.plan_rules == bindparam("up_plan_rules"),
        touched.c.claim_type.is_not_distinct_from(
            bindparam("up_claim_type", type_=_CLAIM.c.claim_type.type)
        ),
        touched.c.used <= bindparam("up_room", type_=_DOC.c.size.type),
    )
    shared = (
        bindparam("up_category", type_=_DOC.c.category.type),
        bindparam("up_now", type_=_DOC.c.uploaded_at.type),
        bindparam("up_channel", type_=_DOC.c.channel.type),
    )
    rows = [
        select(
            touched.c.id,
            *(bindparam(f"up_{key}_{i}", type_=_DOC.c[key].type) for key in _PER_FILE),
            *shared,
        ).where(fits)
        for i in range(files)
    ]
    docs = (
        insert(_DOC)
        .from_select(
            ["claim_id", *_PER_FILE, "category", "uploaded_at", "channel"],
            rows[0] if files == 1 else union_all(*rows),
        )
        .returning(*_DOC.c)
        .cte("docs")
    )
    return select(aliased(ClaimDocument, docs)).order_by(docs.c.id)


def used_bytes(db: Session, claim: Claim) -> int:
    total = db.scalar(
        select(func.coalesce(func.sum(ClaimDocument.size), 0)).where(
            ClaimDocument.claim_id == claim.id, ClaimDocument.removed_at.is_(None)
        )
    )
    return int(total or 0)


def open_supplement(db: Session, claim: Claim) -> SupplementRequest | None:
    return db.scalar(
        select(SupplementRequest)
        .where(SupplementRequest.claim_id == claim.id, SupplementRequest.fulfilled_at.is_(None))
        .order_by(SupplementRequest.id.desc())
        .limit(1)
    )


def check_can_add_documents(db: Session, cx: ClaimContext, claim: Claim, category: str) -> None:
    """Documents go into a draft, or into a claim waiting for the supplement it asked for."""
    rules = cx.rules.get(claim.plan_rules)
    if rules.category(category) is None:
        raise ClaimRuleBroken(
            "CATEGORY_NOT_ALLOWED",
            f"Unknown document category {category!r}.",
            field="category",
        )
    if claim.status not in (S.DRAFT, S.PENDING_SUPPLEMENT):
        raise WrongClaimState(
            "Documents can be added to a draft, or when a supplement has been requested."
        )


def attach_document(
    db: Session,
    cx: ClaimContext,
    claim: Claim,
    category: str,
    stored: StoredUpload,
    *,
    channel: Channel,
    used: int | None = None,
    touched: bool = False,
) -> ClaimDocument:
    """Record a stored upload on the claim, within the per-claim cap.

    Call `check_can_add_documents` before receiving the bytes; this checks again, since
    the claim may have changed while the file streamed in. When it refuses, the caller
    deletes the stored objects. `used`: the bytes the claim's documents hold, when the
    caller has read them under the claim's lock (else they are read here); `touched`: the
    caller wrote the claim's `updated_at` already (`claim_with_used_bytes(touch=...)`).
    """
    check_can_add_documents(db, cx, claim, category)
    if used is None:
        used = used_bytes(db, claim)
    check_quota(used, stored.size, cx.claim_cap_bytes)
    supplement = open_supplement(db, claim) if claim.status is S.PENDING_SUPPLEMENT else None
    doc = ClaimDocument(
        claim_id=claim.id,
        category=category,
        storage_key=stored.key,
        thumbnail_key=stored.thumbnail_key,
        content_type=stored.content_type,
        size=stored.size,
        original_sha256=stored.original_sha256,
        display_name=stored.display_name,
        width=stored.width,
        height=stored.height,
        uploaded_at=cx.now(),
        channel=channel,
        supplement_id=supplement.id if supplement else None,
    )
    db.add(doc)
    if not touched:
        claim.updated_at = cx.now()
    db.flush()
    return doc


def active_documents(claim: Claim) -> list[ClaimDocument]:
    return [d for d in claim.documents if d.removed_at is None]


# --- duplicates ----------------------------------------------------------------------------------


def find_duplicates(db: Session, claim: Claim, now: datetime.datetime) -> list[ClaimDuplicate]:
    """Flag invoice images (same bytes as uploaded) or invoice numbers used in another claim.

    Drafts of others are ignored (they may never be sent); withdrawn claims count, since
    their invoices were sent once.
    """
    found: list[ClaimDuplicate] = []
    # the same photo bytes and the same invoice numbers in other claims, in one statement
    # (the numbers read where they are: the claim's invoices need not be loaded)
    mine = aliased(ClaimInvoice)
    by_number = (
        select(
            ClaimInvoice.claim_id.label("other"),
            literal("INVOICE_NO").label("basis"),
            ClaimInvoice.invoice_no.label("detail"),
        )
        .join(Claim, Claim.id == ClaimInvoice.claim_id)
        .where(
            ClaimInvoice.invoice_no.in_(select(mine.invoice_no).where(mine.claim_id == claim.id)),
            ClaimInvoice.claim_id != claim.id,
            Claim.status != S.DRAFT,
        )
    )
    hashes = {d.original_sha256 for d in active_documents(claim)}
    query: Any = by_number
    if hashes:
        by_image = (
            select(
                ClaimDocument.claim_id.label("other"),
                literal("IMAGE").label("basis"),
                ClaimDocument.original_sha256.label("detail"),
            )
            .join(Claim, Claim.id == ClaimDocument.claim_id)
            .where(
                ClaimDocument.original_sha256.in_(hashes),
                ClaimDocument.removed_at.is_(None),
                ClaimDocument.claim_id != claim.id,
                Claim.status != S.DRAFT,
            )
        )
        query = union_all(by_image, by_number)
    rows = db.execute(query).all()
    for other_id, basis, detail in sorted(rows, key=lambda r: r[1] != "IMAGE"):  # images first
        found.append(_flag(db, claim, other_id, basis, detail, now))
    if found:
        claim.duplicate_suspected = True
    return found


def _flag(
    db: Session, claim: Claim, other_id: int, basis: str, detail: str, now: datetime.datetime
) -> ClaimDuplicate:
    existing = db.scalar(
        select(ClaimDuplicate).where(
            ClaimDuplicate.claim_id == claim.id,
            ClaimDuplicate.other_claim_id == other_id,
            ClaimDuplicate.basis == basis,
            ClaimDuplicate.detail == detail,
        )
    )
    if existing is not None:
        return existing
    row = ClaimDuplicate(
        claim_id=claim.id, other_claim_id=other_id, basis=basis, detail=detail, found_at=now
    )
    db.add(row)
    return row


def duplicates_of(db: Session, claim: Claim) -> list[tuple[ClaimDuplicate, str | None]]:
    """The flags on a claim with the other claim's number."""
    rows = db.execute(
        select(ClaimDuplicate, Claim.claim_no)
        .join(Claim, Claim.id == ClaimDuplicate.other_claim_id)
        .where(ClaimDuplicate.claim_id == claim.id)
        .order_by(ClaimDuplicate.id)
    ).all()
    return [(d, no) for d, no in rows]
