"""No-login H5 pages: the directory lists, facility and driver cards, favourites, QR codes."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from h5 import help, qr
from h5.ecard import ecard_page
from h5.forms import DEFAULT_SIZE, MAX_SIZE, FieldError, parse_list_form
from h5.i18n import LANGUAGES, Translator
from h5.maps import map_links, map_view
from h5.present import Phone, card, district_label, network_names, phones
from h5.supplement.routes import routes as supplement_routes
from h5.templating import PAGE_HEADERS, STATIC, CachedStatic, render, static_version
from server.directory.models import Facility, FacilityKind
from server.directory.provenance import (
    BOOKING_LINE,
    BOOKING_LINE_INTL,
    INSURER,
    list_notes,
    source_line,
)
from server.directory.service import MAX_TEXT, DirectoryService
from server.errors import InvalidInput
from server.services import Services

KINDS = tuple(k.value for k in FacilityKind)
HTML_LANG = {"en": "en", "zh": "zh-CN"}
_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
MAX_FAVOURITES = 100


def routes() -> list[BaseRoute]:
    return [
        Route("/", root),
        Mount("/static", app=CachedStatic(directory=STATIC), name="h5-static"),
        Route("/en/qr/{name}", qr_image),
        *supplement_routes(),  # before /{lang}: "supplement" is not a language
        Route("/e-card/{token}", ecard_page),
        Route("/{lang}", index),
        Route("/{lang}/favourites", favourites),
        Route("/{lang}/faq", faq),
        Route("/{lang}/facility/{facility_id}", facility_page),
        Route("/{lang}/facility/{facility_id}/driver", driver_page),
        Route("/{lang}/{kind}", list_page),
        Route("/{lang}/{kind}/map", map_page),
        Route("/{path:path}", not_found),
    ]


def _service(request: Request) -> DirectoryService:
    services: Services = request.app.state.services
    return services.directory


def _base(request: Request) -> str:
    # the /h5 mount (plus any proxy prefix): links stay right wherever the app is mounted
    return str(request.scope.get("root_path", "")).rstrip("/")


def _context(request: Request, lang: str, **extra: Any) -> dict[str, Any]:
    base = _base(request)
    other = _other(lang)
    path = request.url.path
    other_url = ""
    prefix = f"{base}/{lang}"
    if path == prefix or path.startswith(prefix + "/"):
        # pages that keep a query pass a cleaned-up switch link; raw input is never echoed
        other_url = f"{base}/{other}{path[len(prefix) :]}"
    directory = _service(request).directory
    context: dict[str, Any] = {
        "t": Translator(lang),
        "insurer": INSURER[lang],
        "list_date": directory.list_date(),
        "public_corpus": directory.public_corpus,
        "booking": Phone(
            f"{BOOKING_LINE} ({BOOKING_LINE_INTL})", "tel:" + BOOKING_LINE_INTL.replace(" ", "")
        ),
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "other_html_lang": HTML_LANG[other],
        "other_lang_url": other_url,
        "base": base,
        "static": lambda name: f"{base}/static/{name}?v={static_version(name)}",
        "attribution": directory.attribution,
        "kinds": KINDS,
    }
    context.update(extra)
    return context


def _other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


async def root(request: Request) -> Response:
    lang = preferred_language(request.headers.get("accept-language", ""))
    return RedirectResponse(
        f"{_base(request)}/{lang}", status_code=302, headers={"Vary": "Accept-Language"}
    )


def preferred_language(header: str) -> str:
    """``zh`` or ``en`` from an Accept-Language header (highest q first; English by default)."""
    best, best_q = "en", -1.0
    for i, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-", 1)[0]
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q - i * 1e-6  # ties: the earlier one wins
    return best


async def landing(request: Request) -> Response:
    """The site's front door (``/``): the three lists in both languages."""
    base = str(request.scope.get("root_path", "")).rstrip("/") + "/h5"
    context = _context(request, "en", base=base, landing=True)
    context["other_lang_url"] = ""
    context["t_zh"] = Translator("zh")
    return render("directory/landing.html", context)


async def index(request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in LANGUAGES:
        return _not_found(request)
    return render("directory/index.html", _context(request, lang))


async def list_page(request: Request) -> Response:
    return _list(request, "list")


async def map_page(request: Request) -> Response:
    return _list(request, "map")


def _list(request: Request, view: str) -> Response:
    lang, kind = request.path_params["lang"], request.path_params["kind"]
    if lang not in LANGUAGES or kind not in KINDS:
        return _not_found(request)
    service = _service(request)
    t = Translator(lang)
    form = parse_list_form(request.query_params, service.directory, service.places)
    facility_kind = FacilityKind(kind)

    results = None
    found: list[Facility] = []
    total = 0
    other_lists: list[dict[str, str]] = []
    if not form.errors:
        try:
            page = service.search(form.to_query(facility_kind))
        except InvalidInput as e:
            form.errors.append(_from_service(e))
        else:
            results = [_card(service, r.facility, t, r.distance_km) for r in page.results]
            found = [r.facility for r in page.results]
            total = page.total
            other_lists = [
                {
                    "label": t(
                        "results.other_list", list=t(f"kind.{c.kind.value}.short"), count=c.count
                    ),
                    "url": f"{_base(request)}/{lang}/{c.kind.value}?{urlencode({'q': form.q})}",
                }
                for c in service.other_lists(form.to_query(facility_kind))
            ]

    facets = service.facets(facility_kind)
    districts = [
        {"value": d.value, "label": d.value if lang == "zh" else d.label_en, "count": d.count}
        for d in facets.districts
        if d.value  # a facility whose district no source gives has no choice to offer
    ]
    if form.district and all(d["value"] != form.district for d in districts):
        # a real district with none of this kind: keep it chosen so the empty result makes sense
        label = district_label(service.directory, form.district, lang)
        districts.append({"value": form.district, "label": label, "count": 0})
    list_path = f"{_base(request)}/{lang}/{kind}"
    path = list_path if view == "list" else f"{list_path}/map"
    pages = max(1, math.ceil(total / form.size))
    if results is not None and total and form.page > pages:
        # past the end: say so (404) with a way back, rather than "Page 24 of 23"
        page_past = t("results.past_end", page=form.page, pages=pages)
        return _not_found(
            request, page_past, lang, links=[(form.url(path, page=pages), t("results.last_page"))]
        )
    public = service.directory.public_corpus
    context = _context(
        request,
        lang,
        kind=kind,
        title=t(f"kind.{kind}.osm_title" if public else f"kind.{kind}.title"),
        list_date=service.directory.list_date(facility_kind),
        form=form,
        errors=[(e.name, t(e.key, **e.values)) for e in form.errors],
        results=results,
        total=total,
        other_lists=other_lists,
        pages=pages,
        districts=districts,
        path=path,
        max_text=MAX_TEXT,
        default_size=DEFAULT_SIZE,
        view=view,
        list_url=form.url(list_path),
        map_url=form.url(f"{list_path}/map"),
    )
    other = f"{_base(request)}/{_other(lang)}/{kind}"
    context["other_lang_url"] = form.url(other if view == "list" else f"{other}/map")
    status = 400 if form.errors else 200
    if view == "list":
        return render("directory/list.html", context, status)
    settings = request.app.state.services.settings
    context["map"] = m = map_view(
        found, [c.name for c in results or []], form.near, lang, settings.map_tile_url
    )
    context["tile_attribution"] = settings.map_tile_attribution
    response = render("directory/map.html", context, status)
    if m.tile_origin:  # the tile server's images, and nothing else, are let in
        policy = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(
            "img-src 'self' data:", f"img-src 'self' data: {m.tile_origin}"
        )
    return response


def _card(service: DirectoryService, f: Facility, t: Translator, km: float | None = None) -> Any:
    en = district_label(service.directory, f.district, "en") if f.district else ""
    return card(f, t, km, en)


def _from_service(e: InvalidInput) -> FieldError:
    # The form checks everything the service does first; this maps what may still get
    # through (a rule tightened in the service later) to a message in the page language.
    by_field = {
        "text": FieldError("q", "error.q_too_long", {"max": MAX_TEXT}),
        "near": FieldError("lat", "error.outside_china"),
        "place": FieldError("place", "error.place_unknown"),
        "first": FieldError("size", "error.size", {"max": MAX_SIZE}),
        "after": FieldError("page", "error.page"),
    }
    return by_field.get(e.field or "", FieldError("q", "error.generic", {"message": e.message}))


async def facility_page(request: Request) -> Response:
    lang, facility_id = request.path_params["lang"], request.path_params["facility_id"]
    if lang not in LANGUAGES:
        return _not_found(request)
    service = _service(request)
    f = service.get(facility_id)
    if f is None:
        return _facility_not_found(request, lang, facility_id)
    t = Translator(lang)
    public = service.directory.public_corpus
    context = _context(
        request,
        lang,
        c=_card(service, f, t),
        district=district_label(service.directory, f.district, lang) if f.district else "",
        plans=network_names(service.directory, f, lang),
        source=source_line(f, lang, public_corpus=public),
        list_notes=[n.zh if lang == "zh" else n.en for n in list_notes(f.kind)],
        list_date=service.directory.list_date(f.kind),
        map_apps=map_links(f),
    )
    return render("directory/facility.html", context)


async def driver_page(request: Request) -> Response:
    lang, facility_id = request.path_params["lang"], request.path_params["facility_id"]
    if lang not in LANGUAGES:
        return _not_found(request)
    f = _service(request).get(facility_id)
    if f is None:
        return _facility_not_found(request, lang, facility_id)
    return render("directory/driver.html", _context(request, lang, f=f, phones=phones(f.phone)))


async def favourites(request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in LANGUAGES:
        return _not_found(request)
    service = _service(request)
    t = Translator(lang)
    # The list lives on the device; h5.js puts it in the URL. Anything that is not a
    # well-formed id is dropped rather than refused: the page only ever shows real rows.
    ids: list[str] = []
    for raw in request.query_params.get("ids", "").split(","):
        i = raw.strip()
        if _ID.match(i) and i not in ids:
            ids.append(i)
    ids = ids[:MAX_FAVOURITES]
    found = [f for f in (service.get(i) for i in ids) if f is not None]
    context = _context(
        request,
        lang,
        results=[_card(service, f, t) for f in found],
        missing=len(ids) - len(found),
    )
    if ids:
        context["other_lang_url"] += "?" + urlencode({"ids": ",".join(ids)})
    return render("directory/favourites.html", context)


async def faq(request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang not in LANGUAGES:
        return _not_found(request)
    return await help.faq_page(request, _context(request, lang))


async def qr_image(request: Request) -> Response:
    name = request.path_params["name"]
    kind, _, ext = name.rpartition(".")
    if kind not in qr.QR_KINDS or ext not in ("svg", "png"):
        return _not_found(request)
    services: Services = request.app.state.services
    base_url = services.settings.base_url
    if ext == "svg":
        body, media_type = qr.svg(base_url, kind), "image/svg+xml"
    else:
        body, media_type = qr.png(base_url, kind), "image/png"
    headers = {
        "Cache-Control": "public, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"],
    }
    return Response(body, media_type=media_type, headers=headers)


async def not_found(request: Request) -> Response:
    return _not_found(request)


def _not_found(
    request: Request,
    message: str | None = None,
    lang: str | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Response:
    if lang is None:
        first = request.url.path[len(_base(request)) :].strip("/").split("/", 1)[0]
        lang = first if first in LANGUAGES else "en"
    t = Translator(lang)
    context = _context(request, lang, message=message or t("notfound.body"), links=links or [])
    context["other_lang_url"] = f"{_base(request)}/{_other(lang)}"  # never echo a bad path
    return render("errors/not_found.html", context, 404)


def _facility_not_found(request: Request, lang: str, facility_id: str) -> Response:
    t = Translator(lang)
    shown = facility_id if len(facility_id) <= 100 else facility_id[:100] + "…"
    return _not_found(request, t("notfound.facility", id=shown), lang)
