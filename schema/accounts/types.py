"""GraphQL types of the signed-in member (`viewer`) and of sign-in results."""

from __future__ import annotations

import datetime
from typing import Annotated

import strawberry

from schema.accounts.auth import members
from schema.accounts.errors import RealNameRequiredError
from schema.claims.member_admin_types import (
    ServiceRequestList,
    ServiceRequestsResult,
    request_list,
)
from schema.claims.payee_types import PayeeList, PayeesResult, payee_list
from schema.claims.preauth_types import PreAuthList, PreAuthsResult, preauth_list
from schema.context import Info
from schema.directory.types import FacilityType, Network, facility_type
from schema.messages.types import (
    Language,
    MemberMessageConnection,
    MemberMessageEdge,
    message_node,
)
from schema.paging import PageInfo, cursor_offset, offset_cursor
from schema.policies.types import (
    PoliciesResult,
    PolicyList,
    PolicyResult,
    PolicyStatus,
    PolicyType,
    policy_type,
)
from schema.results import ResultUnion
from server.accounts.errors import PolicyNotFound
from server.accounts.models import Account
from server.crypto import mask_id, mask_name, mask_phone
from server.messages import service as message_service
from server.policies import models


@strawberry.type(description="The identity confirmed by real-name verification, masked.")
class VerifiedIdentity:
    name: str = strawberry.field(description="Masked name.")
    id_type: str = strawberry.field(description="Kind of document (IdType name).")
    id_number: str = strawberry.field(description="Masked document number.")
    valid_to: datetime.date | None = strawberry.field(
        description="Last valid day of the document; null for long-term."
    )


@strawberry.type(description="The directory networks of the member's in-force group plans.")
class NetworkList:
    networks: list[Network] = strawberry.field(
        description="Pass an id to `facilities(network:)` to list the plan's facilities."
    )


NetworksResult = ResultUnion(
    "NetworksResult",
    NetworkList,
    RealNameRequiredError,
    description="The networks, or why they cannot be shown.",
)


@strawberry.type(description="The signed-in member.")
class Viewer:
    account: strawberry.Private[Account]

    @strawberry.field(description="The account's mobile number, masked (136****1560).")
    def mobile(self, info: Info) -> str:
        m, _ = members(info)
        return mask_phone(m.accounts.phone_of(self.account))

    @strawberry.field(description="Real-name verification is done; insurance features need it.")
    def real_name_verified(self) -> bool:
        return self.account.person_id is not None

    @strawberry.field(description="The verified identity (masked); null before verification.")
    def identity(self, info: Info) -> VerifiedIdentity | None:
        m, _ = members(info)
        ident = self.account.identity
        person = self.account.person
        if ident is None:
            if person is None:
                return None
            # verified through a WeChat binding: the insurer's record is the identity
            return VerifiedIdentity(
                name=mask_name(m.vault.decrypt(person.name_enc)),
                id_type=person.id_type.name,
                id_number=mask_id(m.vault.decrypt(person.id_number_enc)),
                valid_to=None,
            )
        return VerifiedIdentity(
            name=mask_name(m.vault.decrypt(ident.name_enc)),
            id_type=ident.id_type.name,
            id_number=mask_id(m.vault.decrypt(ident.id_number_enc)),
            valid_to=ident.valid_to,
        )

    @strawberry.field(
        description="The language of the member's SMS, e-mail, messages and H5 links (setPreferredLanguage)."
    )
    def preferred_language(self) -> Language:
        return Language(self.account.preferred_language)

    @strawberry.field(description="How many of the member's messages are unread (the badge).")
    def unread_message_count(self, info: Info) -> int:
        _, db = members(info)
        return message_service.unread_count(db, self.account.id)

    @strawberry.field(
        description="The message centre: what happened to the member's claims, newest first (claims of dependants included: the member made them)."
    )
    def messages(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1 to 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only the messages not read yet.")
        ] = False,
    ) -> MemberMessageConnection:
        _, db = members(info)
        offset = cursor_offset(after)
        page = message_service.page(
            db, self.account.id, offset=offset, limit=first, unread_only=unread_only
        )
        edges = [
            MemberMessageEdge(cursor=offset_cursor(offset + i), node=message_node(m))
            for i, m in enumerate(page.items)
        ]
        return MemberMessageConnection(
            edges=edges,
            page_info=PageInfo.of(edges, has_next=page.has_next),
            total_count=page.total,
            unread_count=page.unread,
        )

    @strawberry.field(description="A WeChat mini-program user is bound to this identity.")
    def wechat_bound(self, info: Info) -> bool:
        m, db = members(info)
        return m.identity.is_wechat_bound(db, self.account)

    @strawberry.field(
        description="Own and dependants' policies (我的保单), optionally of one status."
    )
    @PoliciesResult.resolver
    def policies(
        self,
        info: Info,
        status: Annotated[
            PolicyStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only this status; all when null."),
        ] = None,
    ) -> PolicyList:
        m, db = members(info)
        person_id = m.identity.require_verified(self.account)
        status_value: models.PolicyStatus | None = status
        rows = m.policies.policies(db, person_id, status_value)
        items = [policy_type(info, p, person_id) for p in rows]
        return PolicyList(policies=items, total_count=len(items))

    @strawberry.field(description="One of the member's policies by its global id.")
    @PolicyResult.resolver
    def policy(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="`Policy.id`.")],
    ) -> PolicyType:
        m, db = members(info)
        person_id = m.identity.require_verified(self.account)
        try:
            gid = strawberry.relay.GlobalID.from_id(id)
            if gid.type_name != "Policy":
                raise ValueError(id)
            pk = int(gid.node_id)
        except (ValueError, strawberry.relay.GlobalIDValueError):
            raise PolicyNotFound("No such policy among yours.") from None
        return policy_type(info, m.policies.policy(db, person_id, pk), person_id)

    @strawberry.field(
        description="收款人: the bank accounts the member's claims can be paid to, masked."
    )
    @PayeesResult.resolver
    def payees(self, info: Info) -> PayeeList:
        return payee_list(info)

    @strawberry.field(
        description="保全进度查询: the member's 自助保全 requests with their timelines, newest first."
    )
    @ServiceRequestsResult.resolver
    def service_requests(self, info: Info) -> ServiceRequestList:
        return request_list(info)

    @strawberry.field(
        description="预先授权: the member's pre-authorisation requests with their timelines."
    )
    @PreAuthsResult.resolver
    def pre_authorisations(self, info: Info) -> PreAuthList:
        return preauth_list(info)

    @strawberry.field(description="The facility networks of the member's in-force group plans.")
    @NetworksResult.resolver
    def networks(self, info: Info) -> NetworkList:
        m, db = members(info)
        person_id = m.identity.require_verified(self.account)
        directory = info.context.services.directory.directory
        known = {n.id: n for n in directory.networks}
        out = []
        for nid in m.policies.networks(db, person_id):
            n = known.get(nid)
            out.append(
                Network(
                    id=strawberry.ID(nid),
                    name_zh=n.name_zh if n else nid,
                    name_en=n.name_en if n else nid,
                )
            )
        return NetworkList(networks=out)

    @strawberry.field(description="我的收藏: favourite facilities, newest first.")
    def favourite_facilities(self, info: Info) -> list[FacilityType]:
        m, db = members(info)
        service = info.context.services.directory
        out = []
        for fid in m.policies.favourites(db, self.account):
            f = service.get(fid)
            if f is not None:  # a facility dropped from the directory simply disappears
                out.append(facility_type(f, service.directory))
        return out


@strawberry.type(description="Signed in: send `Authorization: Bearer <token>` from now on.")
class SignInSuccess:
    token: str = strawberry.field(description="Session token; keep it secret.")
    expires_at: datetime.datetime = strawberry.field(
        description="Latest end of the session (it ends sooner after 30 idle minutes)."
    )
    viewer: Viewer = strawberry.field(description="The signed-in member.")


__all__ = ["NetworkList", "PolicyList", "PolicyType", "SignInSuccess", "VerifiedIdentity", "Viewer"]
