"""The H5 supplement portal (线上补材): log in from the SMS or e-mail link, upload what the
adjuster asked for, send it.

    GET/POST /supplement/{token}     log in: the claim number is shown, the insured
                                     person's name and a captcha are typed
    GET/POST /supplement             the same for a claimant who lost the link: the claim
                                     number is typed too
    GET  /supplement/captcha/{id}    the captcha's image or sound
    GET  /supplement/claim           the supplement page of the signed-in claim
    POST /supplement/claim/upload    files for one category (plain form or one file a request)
    POST /supplement/claim/remove    take a file back before sending
    POST /supplement/claim/submit    send the supplement
    GET  /supplement/claim/done      what was received
    POST /supplement/claim/logout    end the session
    /supplement/r/{token}, /supplement/request/...
                                     the same for documents asked for on a service
                                     request (advance payment, pre-authorisation):
                                     h5/supplement/requests.py

The session names no claim in its URLs: it opens its own claim only. Every page works
without JavaScript; supplement.js adds uploads one file at a time with progress bars and
shrinks large photos before they leave the phone. Chinese by default, `?lang=en` for
English. Failures of any kind give one answer in one time (see `_pace`); problems with
the link or the deadline give a page with the hotline and the offline route, never a
stack trace.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from h5.supplement import requests
from h5.supplement.login import captcha_media, lost_link, token_login
from h5.supplement.pages import done_page, logout, remove, submit, supplement_page
from h5.supplement.upload import guarded_upload
from h5.supplement.web import DEFAULT_CONFIG, PortalConfig

__all__ = ["DEFAULT_CONFIG", "PortalConfig", "routes"]


def routes() -> list[BaseRoute]:
    return [
        Route("/supplement", lost_link, methods=["GET", "POST"]),
        Route("/supplement/captcha/{challenge}", captcha_media),
        Route("/supplement/claim", supplement_page),
        Route("/supplement/claim/upload", guarded_upload, methods=["POST"]),
        Route("/supplement/claim/remove", remove, methods=["POST"]),
        Route("/supplement/claim/submit", submit, methods=["POST"]),
        Route("/supplement/claim/done", done_page),
        Route("/supplement/claim/logout", logout, methods=["POST"]),
        # documents asked for on a service request (h5/supplement/requests.py)
        Route("/supplement/r/{token}", requests.token_login, methods=["GET", "POST"]),
        Route("/supplement/request", requests.request_page),
        Route("/supplement/request/upload", requests.guarded_upload, methods=["POST"]),
        Route("/supplement/request/remove", requests.remove, methods=["POST"]),
        Route("/supplement/request/submit", requests.submit, methods=["POST"]),
        Route("/supplement/request/done", requests.done_page),
        Route("/supplement/request/logout", requests.logout, methods=["POST"]),
        Route("/supplement/{token}", token_login, methods=["GET", "POST"]),
    ]
