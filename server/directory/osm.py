"""Build a public facility corpus from an OpenStreetMap GeoJSON export.

The corpus is written in the same CSV format as the curated lists (see
``directory_data/README.md``) so the loader, the validator and the search engines
treat it like any other folder. It is *not* an insurer's list: no row is placed in
a network, kinds are only medical or dental, and ownership is only set where OSM
says who operates the place.

English names come only from OSM's own ``name:en``-style tags. A pinyin
transliteration is not an English name, so none is written; the search index
already matches pinyin against the Chinese name.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.directory.models import Category, FacilityKind, Ownership
from server.directory.validation import FACILITY_COLUMNS, LIST_SEP, NETWORK_COLUMNS

ATTRIBUTION = "© OpenStreetMap contributors"
CITY_ZH = "上海"

HEALTH_FILE = "shanghai_health_osm.geojson"
DISTRICTS_FILE = "shanghai_districts_osm.geojson"
STAMP_FILE = "import.json"

Ring = list[tuple[float, float]]  # (lng, lat) pairs, GeoJSON order
Polygon = list[Ring]  # outer ring first, then holes


# --- geometry -------------------------------------------------------------------------


def _polygons(geometry: dict[str, Any]) -> list[Polygon]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        raw = [coords]
    elif kind == "MultiPolygon":
        raw = coords
    else:
        return []
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in poly] for poly in raw if poly]


def _ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    """Signed shoelace area and centroid of one ring (planar, in degrees)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    a *= 0.5
    if abs(a) < 1e-18:
        xs = [p[0] for p in ring]
        ys = [p[1] for p in ring]
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return a, cx / (6.0 * a), cy / (6.0 * a)


def feature_point(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """One (lat, lng) for a feature: the point itself, or the area-weighted centroid of
    the outer ring of its largest polygon (a campus mapped in parts keeps its main part)."""
    if geometry.get("type") == "Point":
        x, y, *_ = geometry["coordinates"]
        return float(y), float(x)
    best: tuple[float, float, float] | None = None
    for poly in _polygons(geometry):
        area, cx, cy = _ring_area_centroid(poly[0])
        if best is None or abs(area) > best[0]:
            best = (abs(area), cx, cy)
    if best is None:
        return None
    return best[2], best[1]


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@dataclass(frozen=True)
class DistrictOutline:
    zh: str
    en: str
    osm_id: str
    polygons: tuple[Polygon, ...]
    bbox: tuple[float, float, float, float]  # min lng, min lat, max lng, max lat

    def contains(self, lat: float, lng: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lng <= x1 and y0 <= lat <= y1):
            return False
        # even-odd over every ring: holes cancel their outer ring
        hits = sum(_in_ring(lng, lat, ring) for poly in self.polygons for ring in poly)
        return hits % 2 == 1


def load_district_outlines(path: Path) -> list[DistrictOutline]:
    """The district polygons of an OSM boundary export (label nodes are ignored)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    outlines = []
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        polys = _polygons(feature.get("geometry") or {})
        if not polys or not props.get("name"):
            continue
        xs = [x for poly in polys for x, _ in poly[0]]
        ys = [y for poly in polys for _, y in poly[0]]
        outlines.append(
            DistrictOutline(
                zh=props["name"],
                en=props.get("name:en", ""),
                osm_id=props.get("@id") or feature.get("id", ""),
                polygons=tuple(polys),
                bbox=(min(xs), min(ys), max(xs), max(ys)),
            )
        )
    return outlines


def district_at(outlines: Sequence[DistrictOutline], lat: float, lng: float) -> str:
    """The Chinese name of the district containing the point, or "" when none does."""
    for d in outlines:
        if d.contains(lat, lng):
            return d.zh
    return ""


def _simplify_ring(ring: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on a closed ring; keeps at least a triangle."""
    pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring[:]
    if len(pts) < 4:
        return ring
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    # a closed ring has no natural end points: split it at the vertex farthest from the start
    far = max(
        range(len(pts)), key=lambda i: (pts[i][0] - pts[0][0]) ** 2 + (pts[i][1] - pts[0][1]) ** 2
    )
    keep[far] = True
    stack = [(0, far), (far, len(pts) - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        (ax, ay), (bx, by) = pts[a], pts[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best_i, best_d = -1, -1.0
        for i in range(a + 1, b):
            px, py = pts[i]
            if norm == 0.0:
                d = math.hypot(px - ax, py - ay)
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if d > best_d:
                best_i, best_d = i, d
        if best_d > tolerance:
            keep[best_i] = True
            stack.append((a, best_i))
            stack.append((best_i, b))
    out = [p for p, k in zip(pts, keep, strict=True) if k]
    if len(out) < 3:
        return ring
    return [*out, out[0]]


def simplify_district_geojson(data: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """A smaller copy of a district export: only the outlines, a few name tags, and
    Douglas-Peucker-simplified rings with coordinates rounded to 1e-6 degrees (~0.1 m)."""
    keep_props = ("@id", "name", "name:en", "name:zh-Latn-pinyin", "admin_level", "wikidata")
    features = []
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        polys = _polygons(feature.get("geometry") or {})
        if not polys or not props.get("name"):
            continue
        simple = [
            [
                [[round(x, 6), round(y, 6)] for x, y in _simplify_ring(ring, tolerance)]
                for ring in poly
            ]
            for poly in polys
        ]
        geometry = (
            {"type": "Polygon", "coordinates": simple[0]}
            if len(simple) == 1
            else {"type": "MultiPolygon", "coordinates": simple}
        )
        features.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "properties": {k: props[k] for k in keep_props if k in props},
                "geometry": geometry,
            }
        )
    return {
        "type": "FeatureCollection",
        "copyright": data.get("copyright", ""),
        "timestamp": data.get("timestamp", ""),
        "features": features,
    }


# --- classification -------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff]")
_DENTAL = re.compile(r"齿科|口腔|牙|dental|dentist", re.IGNORECASE)
_TCM = re.compile(r"中医|中西医|国医|traditional chinese medicine|\btcm\b", re.IGNORECASE)
# Names of hospitals that serve one field only. Kept short and obvious on purpose:
# a wrong "specialist" tag misleads more than a missing one.
_SPECIALIST = re.compile(
    r"精神卫生|精神病|妇幼|妇婴|妇产|儿童医院|儿科|眼科|眼病|耳鼻喉|肿瘤|胸科|肺科|皮肤病|骨科|"
    r"传染病|公共卫生临床|质子|康复医院|护理院|男子医院|整形|eye hospital|plastic surgery|"
    r"maternity|children'?s hospital|pediatric|paediatric",
    re.IGNORECASE,
)
# A name has to look like a health facility to enter the corpus.
_FACILITY_WORD = re.compile(
    r"医|院|诊|卫生|保健|康复|护理|防治|科|疗|药|体检|"
    r"hospital|clinic|medical|health|dental|doctor|surgery|care|pediatric|paediatric",
    re.IGNORECASE,
)
_SKIP_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("veterinary", re.compile(r"动物|宠物|兽医|\banimal\b|\bpet\b|veterinar", re.IGNORECASE)),
    (
        "testing or quarantine site",
        re.compile(
            r"核酸|检测点|采样|隔离点|健康观察点|\bPCR\b|testing site|quarantine", re.IGNORECASE
        ),
    ),
    ("closed", re.compile(r"废弃|停业|已关闭|\(closed\)|（关闭）", re.IGNORECASE)),
    (
        "not a place of care",
        re.compile(
            r"停车场|行政办公|办公区|文化活动中心|足道|足浴|减肥|献血|疾病预防控制|疾控中心"
        ),
    ),
)
# Specialities that say nothing about a hospital being a specialist one.
_SPECIALITY_IGNORED = {"general", "community", "emergency", "急诊科", ""}
_OWNERSHIP = {
    "public": Ownership.PUBLIC,
    "government": Ownership.PUBLIC,
    "military": Ownership.PUBLIC,
    "private": Ownership.PRIVATE,
    "private_non_profit": Ownership.PRIVATE,
    "ngo": Ownership.PRIVATE,
    "religious": Ownership.PRIVATE,
}


@dataclass(frozen=True, slots=True)
class DepartmentVocabulary:
    """departments.csv: Chinese names, and which OSM ``healthcare:speciality`` maps to each."""

    by_zh: dict[str, str]
    by_osm: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> DepartmentVocabulary:
        by_zh: dict[str, str] = {}
        by_osm: dict[str, str] = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                by_zh[row["zh"]] = row["en"]
                for key in (row.get("osm_speciality") or "").split(LIST_SEP):
                    if key.strip():
                        by_osm[key.strip()] = row["zh"]
        return cls(by_zh, by_osm)


def _names(props: dict[str, str]) -> tuple[str, str]:
    name = (props.get("name") or "").strip()
    zh = (props.get("name:zh") or props.get("name:zh-Hans") or "").strip()
    en = ""
    for key in ("name:en", "official_name:en", "int_name"):
        value = (props.get(key) or "").strip()
        if value and not _CJK.search(value):
            en = value
            break
    if name and _CJK.search(name):
        name_zh = name
    elif zh:
        name_zh = zh
    else:
        # a Latin-only name is still the name people see on the sign
        name_zh = name or en
    if not en and name_zh and not _CJK.search(name_zh):
        en = name_zh
    return name_zh, en


def skip_reason(props: dict[str, str]) -> str | None:
    name_zh, name_en = _names(props)
    if not name_zh:
        return "unnamed"
    if props.get("amenity") == "veterinary" or props.get("healthcare") == "veterinary":
        return "veterinary"
    text = f"{name_zh} {name_en} {props.get('official_name', '')}"
    for reason, pattern in _SKIP_RULES:
        if pattern.search(text):
            return reason
    if not (_FACILITY_WORD.search(text) or _DENTAL.search(text) or _says_care(props)):
        return "name does not look like a health facility"
    return None


def _says_care(props: dict[str, str]) -> bool:
    """Tags that make a place of care of a name without a word of care: the medical
    speciality practised there, or a practice's own website (Body and Soul, a TCM clinic;
    Western Eye Center, an optometry clinic). Beauty and nail parlours tagged as clinics
    are not."""
    speciality = props.get("healthcare:speciality", "")
    if _NOT_CARE_SPECIALITY.search(f"{speciality} {props.get('healthcare', '')}"):
        return False
    website = props.get("website") or props.get("contact:website")
    return bool(speciality) or (bool(website) and props.get("amenity") in _CARE_AMENITIES)


_NOT_CARE_SPECIALITY = re.compile(r"cosmetic|beauty|nail|massage|spa\b", re.IGNORECASE)
_CARE_AMENITIES = {"hospital", "clinic", "doctors", "dentist"}


def classify_kind(props: dict[str, str]) -> FacilityKind:
    if props.get("amenity") == "dentist" or props.get("healthcare") == "dentist":
        return FacilityKind.DENTAL
    name_zh, name_en = _names(props)
    if _DENTAL.search(f"{name_zh} {name_en}"):
        return FacilityKind.DENTAL
    return FacilityKind.MEDICAL


def _specialities(props: dict[str, str]) -> list[str]:
    raw = props.get("healthcare:speciality") or ""
    return [s.strip() for s in raw.split(";") if s.strip()]


def classify_category(props: dict[str, str], kind: FacilityKind) -> Category:
    name_zh, name_en = _names(props)
    text = f"{name_zh} {name_en}"
    specialities = _specialities(props)
    if kind is FacilityKind.DENTAL:
        return Category.DENTAL
    if _TCM.search(text) or "traditional_chinese_medicine" in specialities:
        return Category.TCM
    if "general" in specialities:
        return Category.GENERAL
    if [s for s in specialities if s not in _SPECIALITY_IGNORED]:
        return Category.SPECIALIST
    if _SPECIALIST.search(text):
        return Category.SPECIALIST
    return Category.GENERAL


def classify_ownership(props: dict[str, str]) -> Ownership:
    return _OWNERSHIP.get((props.get("operator:type") or "").strip().lower(), Ownership.UNKNOWN)


def departments_of(props: dict[str, str], vocab: DepartmentVocabulary) -> list[str]:
    out: list[str] = []
    for s in _specialities(props):
        zh = vocab.by_osm.get(s) or (s if s in vocab.by_zh else None)
        if zh and zh not in out:
            out.append(zh)
    return out


def _address(props: dict[str, str], district: str) -> tuple[str, str]:
    full = (props.get("addr:full") or "").strip()
    street = (props.get("addr:street") or "").strip()
    number = (props.get("addr:housenumber") or "").strip()
    if full:
        return (full, "") if _CJK.search(full) else ("", full)
    if not street:
        return "", ""
    if not _CJK.search(street):
        return "", f"{number} {street}".strip()
    if number and number[-1].isdigit():
        number += "号"
    if street.startswith("上海"):
        prefix = ""
    elif district and street.startswith(district):
        prefix = "上海市"
    else:
        prefix = f"上海市{district}"
    return f"{prefix}{street}{number}", ""


# --- import ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    export_date: str
    features: int = 0
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_names: dict[str, list[str]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)
    without_district: int = 0
    unmapped_specialities: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, label: str) -> None:
        self.skipped[reason] += 1
        self.skipped_names.setdefault(reason, []).append(label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "export_date": self.export_date,
            "features": self.features,
            "imported": self.imported,
            "kinds": dict(sorted(self.kinds.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_names": {k: sorted(v) for k, v in sorted(self.skipped_names.items())},
            "without_district": self.without_district,
            "unmapped_specialities": dict(sorted(self.unmapped_specialities.items())),
        }

    def summary(self) -> str:
        lines = [
            f"OpenStreetMap export of {self.export_date}: {self.features} features, "
            f"{self.imported} imported ({', '.join(f'{k} {v}' for k, v in sorted(self.kinds.items()))})."
        ]
        for reason, n in sorted(self.skipped.items()):
            lines.append(f"  skipped {n:4d}: {reason}")
            if reason != "unnamed":  # a feature without a name is its id only: in import.json
                lines += [
                    f"                {label}" for label in sorted(self.skipped_names[reason])
                ]
        if self.without_district:
            lines.append(f"  {self.without_district} imported features lie in no district outline")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Candidate:
    osm_id: str
    props: dict[str, str]
    lat: float
    lng: float
    is_area: bool


def _metres(a: _Candidate, b: _Candidate) -> float:
    mean_lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lng - a.lng) * math.cos(mean_lat)
    dy = math.radians(b.lat - a.lat)
    return 6_371_008.8 * math.hypot(dx, dy)


# Parts of one campus are often mapped as separate features with the same name.
DUPLICATE_RADIUS_M = 500.0


def _richness(c: _Candidate) -> tuple[int, int, str]:
    # prefer an outline over a point, then the better-tagged feature, then a stable order
    return (int(c.is_area), len(c.props), c.osm_id)


def _dedupe(candidates: list[_Candidate], report: ImportReport) -> list[_Candidate]:
    by_name: dict[str, list[_Candidate]] = {}
    for c in candidates:
        by_name.setdefault(_names(c.props)[0], []).append(c)
    kept: list[_Candidate] = []
    for group in by_name.values():
        chosen: list[_Candidate] = []
        for c in sorted(group, key=_richness, reverse=True):
            twin = next((k for k in chosen if _metres(k, c) <= DUPLICATE_RADIUS_M), None)
            if twin is None:
                chosen.append(c)
            else:
                report.skip(
                    "duplicate of a nearby feature with the same name",
                    f"{c.osm_id} = {twin.osm_id}",
                )
        kept.extend(chosen)
    order = {c.osm_id: i for i, c in enumerate(candidates)}
    return sorted(kept, key=lambda c: order[c.osm_id])


def _osm_id(feature: dict[str, Any]) -> str:
    props = feature.get("properties") or {}
    return str(props.get("@id") or feature.get("id") or "")


def facility_rows(
    health: dict[str, Any],
    outlines: Sequence[DistrictOutline],
    vocab: DepartmentVocabulary,
) -> tuple[list[dict[str, str]], ImportReport]:
    """CSV rows (column -> text) for every usable feature, and what was skipped and why."""
    export_date = str(health.get("timestamp", ""))[:10]
    report = ImportReport(export_date=export_date)
    candidates: list[_Candidate] = []
    for feature in health.get("features", []):
        report.features += 1
        props = {str(k): str(v) for k, v in (feature.get("properties") or {}).items()}
        osm_id = _osm_id(feature)
        reason = skip_reason(props)
        if reason is not None:
            report.skip(reason, f"{osm_id} {_names(props)[0]}".strip())
            continue
        point = feature_point(feature.get("geometry") or {})
        if point is None:
            report.skip("no usable geometry", osm_id)
            continue
        is_area = (feature.get("geometry") or {}).get("type") != "Point"
        candidates.append(_Candidate(osm_id, props, point[0], point[1], is_area))

    rows = []
    for c in _dedupe(candidates, report):
        props = c.props
        name_zh, name_en = _names(props)
        kind = classify_kind(props)
        district = district_at(outlines, c.lat, c.lng)
        if not district:
            report.without_district += 1
        address_zh, address_en = _address(props, district)
        for s in _specialities(props):
            if s not in _SPECIALITY_IGNORED and s not in vocab.by_osm and s not in vocab.by_zh:
                report.unmapped_specialities[s] += 1
        tags = ["急诊"] if props.get("emergency") == "yes" else []
        how = "centroid of the mapped outline" if c.is_area else "mapped point"
        rows.append(
            {
                "id": "osm-" + c.osm_id.replace("/", "-"),
                "kind": kind.value,
                "name_zh": name_zh,
                "name_en": name_en,
                "address_zh": address_zh,
                "address_en": address_en,
                "city": CITY_ZH,
                "district": district,
                "lat": f"{c.lat:.7f}",
                "lng": f"{c.lng:.7f}",
                "coordinate_precision": "exact",
                "coordinate_method": f"OpenStreetMap {c.osm_id}, {how}",
                "osm_id": c.osm_id,
                "ownership": classify_ownership(props).value,
                "grade": "",
                "category": classify_category(props, kind).value,
                "departments": LIST_SEP.join(departments_of(props, vocab)),
                "phone": (props.get("phone") or props.get("contact:phone") or "").strip(),
                "opening_hours": (props.get("opening_hours") or "").strip(),
                "languages": "",
                "networks": "",
                "tags": LIST_SEP.join(tags),
                "source": f"OpenStreetMap {c.osm_id}",
                "verified_on": export_date,
                "note": "",
                "review_note": "",
            }
        )
        report.kinds[kind.value] += 1
    report.imported = len(rows)
    return rows, report


def _sha256(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def input_fingerprint(sources_dir: Path, reference_dir: Path) -> str:
    """Changes whenever any input of the import (or this importer) changes, so a stale
    corpus is rebuilt."""
    return _sha256(
        [
            Path(__file__),
            sources_dir / HEALTH_FILE,
            sources_dir / DISTRICTS_FILE,
            reference_dir / "districts.csv",
            reference_dir / "departments.csv",
        ]
    )


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def import_osm(
    health_path: Path,
    districts_path: Path,
    reference_dir: Path,
    out_dir: Path,
) -> ImportReport:
    """Write the corpus folder ``out_dir`` (replaced atomically) and return the report.

    ``reference_dir`` supplies districts.csv and departments.csv (the curated folder),
    so every folder shares one district list and one department vocabulary.
    """
    health = json.loads(health_path.read_text(encoding="utf-8"))
    outlines = load_district_outlines(districts_path)
    vocab = DepartmentVocabulary.read(reference_dir / "departments.csv")
    rows, report = facility_rows(health, outlines, vocab)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # build beside the target and swap it in, so a reader never sees half a corpus
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write_csv(tmp / "facilities.csv", FACILITY_COLUMNS, rows)
        shutil.copyfile(reference_dir / "districts.csv", tmp / "districts.csv")
        shutil.copyfile(reference_dir / "departments.csv", tmp / "departments.csv")
        _write_csv(tmp / "networks.csv", NETWORK_COLUMNS, [])
        standard_inputs = (
            health_path.parent == districts_path.parent
            and health_path.name == HEALTH_FILE
            and districts_path.name == DISTRICTS_FILE
        )
        stamp = {
            "attribution": ATTRIBUTION,
            "licence": "ODbL 1.0",
            # only the bundled layout can be re-checked by corpus_is_current
            "inputs": input_fingerprint(health_path.parent, reference_dir)
            if standard_inputs
            else "",
            "report": report.as_dict(),
        }
        (tmp / STAMP_FILE).write_text(
            json.dumps(stamp, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        if out_dir.exists():
            shutil.rmtree(out_dir, ignore_errors=True)
        try:
            tmp.rename(out_dir)
        except OSError:
            if not (out_dir / STAMP_FILE).is_file():
                raise
            # another process built the same corpus meanwhile: keep theirs
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report


def corpus_is_current(out_dir: Path, sources_dir: Path, reference_dir: Path) -> bool:
    stamp = out_dir / STAMP_FILE
    if not (out_dir / "facilities.csv").is_file() or not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8")).get("inputs")
    except (OSError, ValueError):
        return False
    return bool(recorded) and recorded == input_fingerprint(sources_dir, reference_dir)
