"""Write a large synthetic directory folder for benchmarks (never for serving as real data).

    .venv/bin/python -m scripts.generate_synthetic --count 100000 --out bench_data/100k --seed 7

The folder has the curated format (facilities.csv, districts.csv, departments.csv,
networks.csv). Names, streets and departments are drawn from the OpenStreetMap
corpus so text search sees realistic Chinese; every point is inside one of
Shanghai's district outlines, spread like the mapped facilities are. Every row has
source "synthetic" and an id starting "syn-", which the validator refuses in the
curated folder. The same --seed gives byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from server.directory import osm
from server.directory.validation import FACILITY_COLUMNS, NETWORK_COLUMNS
from server.settings import ROOT

DATA_DIR = ROOT / "directory_data"
SOURCES = DATA_DIR / "sources" / "osm_shanghai"
VERIFIED_ON = "2026-01-01"  # fixed so that a seed always gives the same bytes
CHUNK = 20_000

# Facility types: (Chinese suffix, English, kind, category, is a hospital)
TYPES: tuple[tuple[str, str, str, str, bool], ...] = (
    ("医院", "Hospital", "medical", "general", True),
    ("人民医院", "People's Hospital", "medical", "general", True),
    ("中心医院", "Central Hospital", "medical", "general", True),
    ("社区卫生服务中心", "Community Health Service Center", "medical", "general", False),
    ("门诊部", "Outpatient Clinic", "medical", "general", False),
    ("诊所", "Clinic", "medical", "general", False),
    ("中医医院", "Hospital of Traditional Chinese Medicine", "medical", "tcm", True),
    ("中医门诊部", "TCM Clinic", "medical", "tcm", False),
    ("妇幼保健院", "Maternal and Child Health Hospital", "medical", "specialist", True),
    ("眼科医院", "Eye Hospital", "medical", "specialist", True),
    ("口腔门诊部", "Dental Clinic", "dental", "dental", False),
    ("齿科诊所", "Dental Practice", "dental", "dental", False),
    ("口腔医院", "Stomatological Hospital", "dental", "dental", True),
    ("国际医疗中心", "International Medical Center", "designated", "general", False),
    ("特需门诊部", "VIP Clinic", "designated", "general", False),
)
TYPE_WEIGHTS = (10, 4, 4, 12, 10, 8, 5, 4, 2, 2, 10, 6, 2, 4, 4)
GRADES = ("三甲", "三乙", "二甲", "二乙", "一级", "")
NETWORKS = (
    ("syn-net-1", "合成计划一", "Synthetic Plan 1"),
    ("syn-net-2", "合成计划二", "Synthetic Plan 2"),
    ("syn-net-3", "合成计划三", "Synthetic Plan 3"),
)
OWNERSHIPS = ("public", "private", "unknown")
HOURS = ("", "Mo-Fr 08:00-17:00", "Mo-Su 00:00-24:00", "Mo-Sa 08:30-17:30")
LANGUAGES = ("zh", "zh;en", "zh;en;ja")

_SUFFIXES = sorted(
    {t[0] for t in TYPES}
    | {
        "卫生服务中心",
        "社区卫生服务站",
        "卫生院",
        "分院",
        "院区",
        "中西医结合医院",
        "精神卫生中心",
        "医疗中心",
    },
    key=len,
    reverse=True,
)
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]{2,8}")


@dataclass(frozen=True)
class Vocabulary:
    prefixes: list[str]  # place / institution parts of real names, e.g. 仁济, 嘉定区
    streets: list[str]  # real street names, e.g. 宛平南路
    departments: list[str]  # Chinese department names
    district_weight: dict[str, int]  # facilities per district in the corpus


def name_prefix(name: str) -> str | None:
    """The distinctive part of a facility name: 上海市第六人民医院东院 -> 第六."""
    text = _BRACKETS.sub("", name).strip()
    for lead in ("上海市", "上海"):
        text = text.removeprefix(lead)
    for _ in range(2):  # e.g. ...医院东院: strip the campus, then the type
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                break
        text = re.sub(r"[东西南北]院$|[东西南北]部$", "", text)
    return text if _CJK_ONLY.fullmatch(text) else None


def build_vocabulary(sources: Path, reference: Path) -> Vocabulary:
    health = json.loads((sources / osm.HEALTH_FILE).read_text(encoding="utf-8"))
    outlines = osm.load_district_outlines(sources / osm.DISTRICTS_FILE)
    vocab = osm.DepartmentVocabulary.read(reference / "departments.csv")
    rows, _ = osm.facility_rows(health, outlines, vocab)
    prefixes = sorted({p for r in rows if (p := name_prefix(r["name_zh"]))})
    streets: set[str] = set()
    for feature in health["features"]:
        street = str((feature.get("properties") or {}).get("addr:street", "")).strip()
        if re.fullmatch(r"[\u4e00-\u9fff]{1,8}(路|街|道|公路|大道)", street):
            streets.add(street)
    weight = Counter(r["district"] for r in rows if r["district"])
    return Vocabulary(prefixes, sorted(streets), sorted(vocab.by_zh), dict(weight))


def _edges(polygons: Sequence[osm.Polygon]) -> np.ndarray:
    segs = []
    for poly in polygons:
        for ring in poly:
            a = np.asarray(ring, dtype=np.float64)
            segs.append(np.hstack([a[:-1], a[1:]]))
    return np.vstack(segs)  # rows: x1, y1, x2, y2


def points_inside(
    polygons: Sequence[osm.Polygon], xs: np.ndarray, ys: np.ndarray, bands: int = 256
) -> np.ndarray:
    """Even-odd point-in-polygon for many points, testing each point only against the
    edges of its horizontal band (a handful) instead of every edge of the outline."""
    e = _edges(polygons)
    y0 = min(e[:, 1].min(), e[:, 3].min())
    y1 = max(e[:, 1].max(), e[:, 3].max())
    h = (y1 - y0) / bands or 1.0
    lo = np.clip(((np.minimum(e[:, 1], e[:, 3]) - y0) / h).astype(int), 0, bands - 1)
    hi = np.clip(((np.maximum(e[:, 1], e[:, 3]) - y0) / h).astype(int), 0, bands - 1)
    band_of = np.clip(((ys - y0) / h).astype(int), 0, bands - 1)
    inside = np.zeros(xs.shape, dtype=bool)
    order = np.argsort(band_of, kind="stable")
    starts = np.searchsorted(band_of[order], np.arange(bands + 1))
    for b in range(bands):
        idx = order[starts[b] : starts[b + 1]]
        if idx.size == 0:
            continue
        eb = e[(lo <= b) & (hi >= b)]
        if eb.size == 0:
            continue
        px = xs[idx][:, None]
        py = ys[idx][:, None]
        ax, ay, bx, by = eb[:, 0], eb[:, 1], eb[:, 2], eb[:, 3]
        straddles = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = (bx - ax) * (py - ay) / (by - ay) + ax
        crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
        inside[idx] = crossings % 2 == 1
    return inside


def sample_points(
    outline: osm.DistrictOutline, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = outline.bbox
    got_x: list[np.ndarray] = []
    got_y: list[np.ndarray] = []
    have = 0
    batch = max(256, int(n * 2.5))
    while have < n:
        xs = rng.uniform(x0, x1, batch)
        ys = rng.uniform(y0, y1, batch)
        keep = points_inside(outline.polygons, xs, ys)
        got_x.append(xs[keep])
        got_y.append(ys[keep])
        have += int(keep.sum())
    return np.concatenate(got_y)[:n], np.concatenate(got_x)[:n]


def _pinyin(words: Sequence[str]) -> dict[str, str]:
    from pypinyin import lazy_pinyin  # imported here: only the generator needs it

    return {w: "".join(lazy_pinyin(w)).capitalize() for w in words}


def _street_en(street: str, py: dict[str, str]) -> str:
    for zh, en in (
        ("大道", "Avenue"),
        ("公路", "Highway"),
        ("路", "Road"),
        ("街", "Street"),
        ("道", "Road"),
    ):
        if street.endswith(zh):
            return f"{py[street[: -len(zh)]]} {en}"
    return py[street]


def generate(
    count: int, out: Path, seed: int, sources: Path = SOURCES, reference: Path = DATA_DIR
) -> None:
    rng = np.random.default_rng(seed)
    vocab = build_vocabulary(sources, reference)
    outlines = {o.zh: o for o in osm.load_district_outlines(sources / osm.DISTRICTS_FILE)}
    district_en = {}
    with (reference / "districts.csv").open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            district_en[r["district_zh"]] = r["district_en"]
    names = sorted(d for d in outlines if d in district_en)
    weights = np.array([vocab.district_weight.get(d, 1) for d in names], dtype=np.float64)

    # which district each row is in, then points for each district in one go
    district_idx = rng.choice(len(names), size=count, p=weights / weights.sum())
    lat = np.empty(count)
    lng = np.empty(count)
    for i, d in enumerate(names):
        rows = np.flatnonzero(district_idx == i)
        if rows.size:
            lat[rows], lng[rows] = sample_points(outlines[d], rows.size, rng)

    py = _pinyin(
        sorted(
            set(vocab.prefixes)
            | {
                s.removesuffix(e)
                for s in vocab.streets
                for e in ("大道", "公路", "路", "街", "道")
                if s.endswith(e)
            }
            | set(vocab.streets)
        )
    )
    streets_en = [_street_en(s, py) for s in vocab.streets]
    tw = np.asarray(TYPE_WEIGHTS, dtype=np.float64)
    type_idx = rng.choice(len(TYPES), size=count, p=tw / tw.sum())
    prefix_idx = rng.integers(0, len(vocab.prefixes), count)
    street_idx = rng.integers(0, len(vocab.streets), count)
    branch_idx = rng.integers(0, len(vocab.streets), count)
    has_branch = rng.random(count) < 0.5
    number = rng.integers(1, 3000, count)
    grade_idx = rng.integers(0, len(GRADES), count)
    own_idx = rng.integers(0, len(OWNERSHIPS), count)
    hours_idx = rng.integers(0, len(HOURS), count)
    lang_idx = rng.integers(0, len(LANGUAGES), count)
    phone = rng.integers(10_000_000, 100_000_000, count)
    n_dept = rng.integers(0, 5, count)
    dept_pick = rng.integers(0, len(vocab.departments), (count, 4))
    net_mask = rng.random((count, len(NETWORKS))) < 0.3
    dental_dept = "齿科" if "齿科" in vocab.departments else ""

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    method = "synthetic: uniform random point inside the district outline"
    with (tmp / "facilities.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(FACILITY_COLUMNS)
        batch: list[list[str]] = []
        for i in range(count):
            zh_type, en_type, kind, category, is_hospital = TYPES[type_idx[i]]
            prefix = vocab.prefixes[prefix_idx[i]]
            street = vocab.streets[street_idx[i]]
            district = names[district_idx[i]]
            name_zh = prefix + zh_type
            name_en = f"{py[prefix]} {en_type}"
            if has_branch[i]:
                b = vocab.streets[branch_idx[i]]
                name_zh += f"（{b}院区）"
                name_en += f" ({streets_en[branch_idx[i]]} Campus)"
            if kind == "dental":
                depts = dental_dept
            else:
                depts = ";".join(
                    dict.fromkeys(vocab.departments[j] for j in dept_pick[i, : n_dept[i]])
                )
            batch.append(
                [
                    f"syn-{i:07d}",
                    kind,
                    name_zh,
                    name_en,
                    f"上海市{district}{street}{number[i]}号",
                    f"No. {number[i]} {streets_en[street_idx[i]]}, {district_en[district]}, Shanghai",
                    "上海",
                    district,
                    f"{lat[i]:.6f}",
                    f"{lng[i]:.6f}",
                    "approximate",
                    method,
                    "",
                    OWNERSHIPS[own_idx[i]],
                    GRADES[grade_idx[i]] if is_hospital else "",
                    category,
                    depts,
                    f"021-{phone[i]}",
                    HOURS[hours_idx[i]],
                    LANGUAGES[lang_idx[i]],
                    ";".join(NETWORKS[j][0] for j in np.flatnonzero(net_mask[i])),
                    "",
                    "synthetic",
                    VERIFIED_ON,
                    "",
                    "",
                ]
            )
            if len(batch) >= CHUNK:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    shutil.copyfile(reference / "districts.csv", tmp / "districts.csv")
    shutil.copyfile(reference / "departments.csv", tmp / "departments.csv")
    with (tmp / "networks.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(NETWORK_COLUMNS)
        writer.writerows([nid, zh, en, "synthetic"] for nid, zh, en in NETWORKS)
    (tmp / "SYNTHETIC.txt").write_text(
        f"Synthetic benchmark data: {count} rows, seed {seed}. Not real facilities; never serve as real data.\n",
        encoding="utf-8",
    )
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.generate_synthetic",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, required=True, help="number of facilities, e.g. 10000")
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 10_000_000:
        parser.error("--count must be between 1 and 10,000,000")
    if args.out.resolve() == DATA_DIR.resolve():
        parser.error("refusing to write synthetic rows into the curated folder")
    started = time.perf_counter()
    generate(args.count, args.out, args.seed)
    took = time.perf_counter() - started
    print(f"wrote {args.count} synthetic facilities to {args.out} in {took:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
