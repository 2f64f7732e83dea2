"""GET /h5/e-card/{token}: the electronic direct-billing card, front and back.

The token is the signed link directBillingCard hands out (server/billing/ecard.py): it
names the policy and the member's sign-in session, which must still be live, and the
policy is checked again now. The two faces are two sections: without JavaScript they
stand one above the other; ecard.js turns them into one card that flips when tapped or
with its button (the card holds a link, so the card itself is not the control).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from h5.templating import render, static_version
from server.accounts.errors import PolicyNotFound, RealNameRequired
from server.accounts.models import Account
from server.billing import ecard
from server.billing.errors import AppointmentRuleBroken, HighEndRequired
from server.db import unit_of_work
from server.services import Services
from server.sessions import SessionKind
from server.workdays import china_date


def _static(name: str) -> str:
    return f"/h5/static/{name}?v={static_version(name)}"


async def ecard_page(request: Request) -> Response:
    services: Services = request.app.state.services
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    gone = {"lang": lang, "static": _static, "card": None}
    if services.db is None or services.members is None:
        return render("ecard/card.html", gone, status_code=404)
    members = services.members
    now = members.accounts.clock()
    link = ecard.read_link(services.settings.secret_key, request.path_params["token"], now)
    if link is None:
        return render("ecard/card.html", gone, status_code=404)
    policy_id, session_id = link
    with unit_of_work(services.db) as db:
        session = members.accounts.sessions.find(db, session_id)
        account = (
            db.get(Account, session.subject_id)
            if session is not None and session.kind is SessionKind.MEMBER
            else None
        )
        if account is None:
            return render("ecard/card.html", gone, status_code=404)
        try:
            card = ecard.card(
                db,
                members.vault,
                services.directory.directory,
                account,
                policy_id,
                china_date(now),
                payment_note=services.settings.ecard_payment_note,
            )
        except (PolicyNotFound, RealNameRequired, HighEndRequired, AppointmentRuleBroken):
            return render("ecard/card.html", gone, status_code=404)
    response = render("ecard/card.html", {"lang": lang, "static": _static, "card": card})
    response.headers["Cache-Control"] = "private, no-store"
    return response
