"""GET /certificates/<token>.html|.pdf: a policy's electronic certificate, from the signed
link the GraphQL API hands out (server/policies/certificate.py signs and reads it). The
link is checked against the database again when opened: the member's sign-in session it
names must still be live (signing out ends it), and the account still verified and still
seeing the policy.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from api.guard import Guarded
from server.accounts.errors import PolicyNotFound, RealNameRequired
from server.accounts.models import Account
from server.db import unit_of_work
from server.policies.certificate import certificate, read_link, render_html, render_pdf
from server.sessions import SessionKind


def _not_found() -> Response:
    return JSONResponse(
        {
            "error": {
                "code": "CERTIFICATE_LINK_INVALID",
                "message": "This link has expired or is not valid; open the certificate from your policies again.",
            }
        },
        status_code=404,
    )


async def certificate_view(request: Request) -> Response:
    services = request.app.state.services
    if services.db is None or services.members is None:
        return _not_found()
    members = services.members
    now = members.accounts.clock()
    fmt = request.path_params["fmt"]
    if fmt not in ("html", "pdf"):
        return _not_found()
    link = read_link(services.settings.secret_key, request.path_params["token"], now)
    if link is None:
        return _not_found()
    policy_id, session_id = link
    with unit_of_work(services.db) as db:
        # signed out, or the session ended: so did its links
        session = members.accounts.sessions.find(db, session_id)
        account = (
            db.get(Account, session.subject_id)
            if session is not None and session.kind is SessionKind.MEMBER
            else None
        )
        try:
            if account is None:
                raise PolicyNotFound("gone")
            person_id = members.identity.require_verified(account)
            policy = members.policies.policy(db, person_id, policy_id)
        except (PolicyNotFound, RealNameRequired):
            return _not_found()
        cert = certificate(members.policies, policy, now.date())
    headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    if fmt == "pdf":
        return Response(
            render_pdf(cert),
            media_type="application/pdf",
            headers={**headers, "Content-Disposition": f'inline; filename="{cert.policy_no}.pdf"'},
        )
    return HTMLResponse(render_html(cert), headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/certificates/{token}.{fmt:str}",
            Guarded(certificate_view, "/certificates/{token}.{fmt}"),
            methods=["GET"],
        )
    ]
