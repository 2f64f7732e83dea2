"""GraphQL types of U享赔: the authorisation, visit records and the hospital list."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

import strawberry
from strawberry import relay

from schema.claims.auth import claim_env
from schema.context import Info
from schema.directory.types import FacilityType, facility_type
from server.claims import uxiang
from server.claims.uxiang_models import UxiangAuthorisation
from server.directory.directory import Directory
from server.errors import DomainError
from server.hospital_records import INPATIENT, Visit

UXIANG_NETWORK = "uxiang"
UPDATING_NOTE = "U享赔医院清单待更新。The U-Claim hospital list is being updated."


@strawberry.type(description="U享赔客户授权书: the text the member ticks and signs.")
class UxiangAuthorisationText:
    version: str = strawberry.field(
        description="Send it back with authoriseUxiang; a new text has a new version."
    )
    text: str = strawberry.field(description="The authorisation, Chinese.")
    text_en: str = strawberry.field(description="The authorisation, English.")


def text_type() -> UxiangAuthorisationText:
    t = uxiang.authorisation_text()
    return UxiangAuthorisationText(version=t.version, text=t.text, text_en=t.text_en)


@strawberry.type(
    name="UxiangAuthorisation",
    description="A U享赔 authorisation the member ticked; live once signed (the image to "
    "POST /api/uxiang/authorisations/{id}/signature) while its text is current.",
)
class UxiangAuthorisationNode(relay.Node):
    authorisation_pk: relay.NodeID[str] = strawberry.field(
        description="Internal key of the authorisation."
    )
    version: str = strawberry.field(description="The version of the text ticked.")
    accepted_at: datetime.datetime = strawberry.field(description="When it was ticked.")
    signed_at: datetime.datetime | None = strawberry.field(
        description="When it was signed; null until the signature is uploaded."
    )
    revoked_at: datetime.datetime | None = strawberry.field(description="When it was withdrawn.")
    live: bool = strawberry.field(
        description="Signed, of the current text and not withdrawn: records can be fetched."
    )

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UxiangAuthorisationNode | None]:
        _cx, db, account = claim_env(info)
        out: list[UxiangAuthorisationNode | None] = []
        for raw in node_ids:
            try:
                out.append(authorisation_node(uxiang.own_authorisation(db, account, int(raw))))
            except (DomainError, ValueError):
                out.append(None)
        return out


def authorisation_node(row: UxiangAuthorisation) -> UxiangAuthorisationNode:
    return UxiangAuthorisationNode(
        authorisation_pk=str(row.id),
        version=row.version,
        accepted_at=row.accepted_at,
        signed_at=row.signed_at,
        revoked_at=row.revoked_at,
        live=uxiang.is_live(row),
    )


@strawberry.type(description="One line of a visit's itemised charges (费用明细).")
class VisitCharge:
    name: str = strawberry.field(description="Item, as the hospital names it.")
    category: str = strawberry.field(description="Kind of charge, e.g. 西药费, 检查费.")
    quantity: int = strawberry.field(description="Quantity.")
    unit_price: Decimal = strawberry.field(description="Unit price, yuan.")
    amount: Decimal = strawberry.field(description="Line amount, yuan.")


@strawberry.type(description="A visit (就诊记录) the hospital records service has for the member.")
class VisitRecord:
    record_id: strawberry.ID = strawberry.field(
        description="The record's id: claimFromUxiangRecord takes it."
    )
    visit_date: datetime.date = strawberry.field(description="就诊日期.")
    inpatient: bool = strawberry.field(description="True for a hospital stay, else outpatient.")
    hospital_id: str = strawberry.field(description="The directory's facility id of the hospital.")
    hospital_name: str = strawberry.field(description="The hospital.")
    department: str = strawberry.field(description="科室.")
    diagnosis: str = strawberry.field(description="诊断.")
    invoice_no: str = strawberry.field(description="发票号.")
    amount: Decimal = strawberry.field(description="The invoice amount, yuan.")
    charges: list[VisitCharge] = strawberry.field(description="费用明细.")
    claimed: bool = strawberry.field(description="A claim was made from it already (已申请).")
    claim_id: strawberry.ID | None = strawberry.field(
        description="`Claim.id` of the claim made from it, when one was."
    )


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def visit_record(view: uxiang.RecordView) -> VisitRecord:
    v: Visit = view.visit
    return VisitRecord(
        record_id=strawberry.ID(v.record_id),
        visit_date=v.visit_date,
        inpatient=v.visit_type == INPATIENT,
        hospital_id=v.hospital_id,
        hospital_name=v.hospital_name,
        department=v.department,
        diagnosis=v.diagnosis,
        invoice_no=v.invoice_no,
        amount=_yuan(v.amount_fen),
        charges=[
            VisitCharge(
                name=c.name,
                category=c.category,
                quantity=c.quantity,
                unit_price=_yuan(c.unit_price_fen),
                amount=_yuan(c.amount_fen),
            )
            for c in v.items
        ],
        claimed=view.claim_id is not None,
        claim_id=strawberry.ID(relay.to_base64("Claim", view.claim_id))
        if view.claim_id is not None
        else None,
    )


@strawberry.type(description="The member's visit records for a period, newest first.")
class VisitRecordList:
    start_date: datetime.date = strawberry.field(description="【起期】 searched.")
    end_date: datetime.date = strawberry.field(description="【止期】 searched.")
    records: list[VisitRecord] = strawberry.field(description="The visits.")
    total_count: int = strawberry.field(description="How many.")


@strawberry.type(
    description="The U享赔 hospital list: a network of the directory. The seed says it is "
    "待更新 (being updated): while it names no facility, `updating` is true and `note` says so."
)
class UxiangHospitalList:
    network_id: strawberry.ID = strawberry.field(
        description="The network's id, usable as `facilities(network:)`."
    )
    updating: bool = strawberry.field(description="True while the list names no facility.")
    note: str | None = strawberry.field(
        description="What to tell the member while the list is being updated (zh and en)."
    )
    facilities: list[FacilityType] = strawberry.field(description="The hospitals on the list.")


def hospital_list(directory: Directory) -> UxiangHospitalList:
    listed = [f for f in directory.facilities if UXIANG_NETWORK in f.networks]
    return UxiangHospitalList(
        network_id=strawberry.ID(UXIANG_NETWORK),
        updating=not listed,
        note=None if listed else UPDATING_NOTE,
        facilities=[facility_type(f, directory) for f in listed],
    )


@strawberry.type(description="U享赔 for one policy: the authorisation and where it stands.")
class UxiangInfo:
    policy_id: strawberry.ID = strawberry.field(description="The policy asked about.")
    authorisation_text: UxiangAuthorisationText = strawberry.field(
        description="The current text to tick and sign."
    )
    authorisation: UxiangAuthorisationNode | None = strawberry.field(
        description="The member's newest authorisation, live or not; null before the first."
    )
    authorised: bool = strawberry.field(
        description="A live authorisation stands: records can be fetched."
    )
