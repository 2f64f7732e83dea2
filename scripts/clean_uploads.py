"""Remove stored uploads no claim refers to, and temporary files left by interrupted uploads.

An upload is stored before its record is committed, so a crash or a refused request in
between can leave an object behind; so can a replaced signature whose deletion failed.
Only what is older than --older-than-hours goes: an upload still streaming in, or stored
a moment before its record commits, is never touched. A thumbnail stays while its image
is referred to.

    .venv/bin/python -m scripts.clean_uploads                    # older than 24 hours
    .venv/bin/python -m scripts.clean_uploads --older-than-hours 6
"""

from __future__ import annotations

import argparse
import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.claims.core import make_storage
from server.claims.details_models import DetailsChangeFile
from server.claims.models import Claim, ClaimDocument, ClaimStatus
from server.claims.notice import stored_key
from server.claims.preauth_models import PreAuthDocument
from server.claims.uxiang_models import UxiangAuthorisation
from server.db import make_engine, make_sessionmaker, migrate, utcnow
from server.settings import from_env
from server.storage.backend import CleanupReport, Storage, cleanup_orphans, thumbnail_key


def known_keys(db: Session) -> set[str]:
    """Every storage key a claim document (file or thumbnail), a signature (of a claim or of
    a U享赔 authorisation), a pre-authorisation's file or a change of personal details'
    photo or signature names."""
    keys: set[str] = set()
    for key, thumb in db.execute(select(ClaimDocument.storage_key, ClaimDocument.thumbnail_key)):
        keys.add(key)
        if thumb:
            keys.add(thumb)
    for signature in db.scalars(
        select(Claim.signature_key).where(Claim.signature_key.is_not(None))
    ):
        if signature:
            # the signature's thumbnail is made with it and deleted with it
            keys.update((signature, thumbnail_key(signature)))
    # the signatures of U享赔 authorisations (server/claims/uxiang.py)
    for signature in db.scalars(
        select(UxiangAuthorisation.signature_key).where(
            UxiangAuthorisation.signature_key.is_not(None)
        )
    ):
        if signature:
            keys.update((signature, thumbnail_key(signature)))
    # a settled claim's notice PDF, kept once rendered (server/claims/files.py)
    for claim_id, decided_at in db.execute(
        select(Claim.id, Claim.decided_at).where(
            Claim.status.in_((ClaimStatus.SETTLED, ClaimStatus.PAID))
        )
    ):
        keys.add(stored_key(claim_id, decided_at))
    for key in db.scalars(select(PreAuthDocument.storage_key)):
        keys.update((key, thumbnail_key(key)))
    for key in db.scalars(select(DetailsChangeFile.storage_key)):
        keys.update((key, thumbnail_key(key)))
    return keys


def clean(
    factory: sessionmaker[Session],
    storage: Storage,
    *,
    now: datetime.datetime,
    older_than: datetime.timedelta,
) -> CleanupReport:
    with factory() as db:
        known = known_keys(db)
    return cleanup_orphans(storage, known, now - older_than)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.clean_uploads", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--older-than-hours",
        type=float,
        default=24.0,
        help="only files older than this go (at least 1 hour; default 24)",
    )
    args = parser.parse_args(argv)
    if args.older_than_hours < 1:
        parser.error("--older-than-hours must be at least 1, so uploads in progress are safe")

    settings = from_env()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        report = clean(
            make_sessionmaker(engine),
            make_storage(settings),
            now=utcnow(),
            older_than=datetime.timedelta(hours=args.older_than_hours),
        )
    finally:
        engine.dispose()
    print(
        f"removed {len(report.orphans)} orphaned stored files and "
        f"{len(report.temp_files)} temporary files"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
