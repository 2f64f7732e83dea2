"""Typed places: where a visitor is, without GPS, from a gazetteer of public names.

The gazetteer (``directory_data/derived/gazetteer.tsv``, written by
``scripts/build_gazetteer.py``) holds Shanghai's districts, the streets of
known addresses and named landmarks (hospitals and clinics) from OpenStreetMap,
and the metro stations (``directory_data/sources/metro/``), each with its Chinese,
English and pinyin names and a WGS-84 point. A typed place (``Pudong``, ``北园路``,
``Huashan Hospital``, ``jing an``, ``Jing'an Temple``, ``徐家汇站``) or a pasted
Chinese address (``上海市浦东新区张杨路500号``) is resolved offline against it;
the directory then sorts by distance from that point.
"""

from __future__ import annotations

import csv
import enum
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from server.errors import InvalidInput

GAZETTEER_FILE = Path("derived") / "gazetteer.tsv"  # under the data folder
COLUMNS = (
    "kind",
    "id",
    "name_zh",
    "name_en",
    "pinyin",
    "district",
    "lat",
    "lng",
    "approx",
    "source",
)
MAX_PLACE_TEXT = 100
MAX_MATCHES = 10

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_LATIN = re.compile(r"[^0-9a-z]+")
# What a pasted address starts with before the part that places it
_ADDRESS_PREFIXES = ("中华人民共和国", "中国", "上海市", "上海")
# English words for the parts of a Chinese street name, and their short forms
_EN_SUFFIXES = {
    "lu": ("road", "rd"),
    "jie": ("street", "st"),
    "dadao": ("avenue", "ave", "boulevard"),
    "gonglu": ("highway", "road"),
}
# Pinyin of the words of landmark names and their English: 华山医院 Huashan Hospital
_EN_WORDS = (("yiyuan", "hospital"), ("zhensuo", "clinic"), ("menzhenbu", "clinic"))
_EN_DIRECTIONS = {"zhong": "middle", "dong": "east", "xi": "west", "nan": "south", "bei": "north"}
# English for the last word of a station's name: 静安寺 Jing'an Temple, 中山公园 Zhongshan Park
_EN_STATION_ENDINGS = (
    ("huochezhan", "railwaystation"),
    ("guangchang", "square"),
    ("gongyuan", "park"),
    ("jichang", "airport"),
    ("si", "temple"),
)
# What a typed station name may carry around the name: 静安寺站, 地铁静安寺站
_STATION_WORDS = re.compile(r"^(?:地铁|轨道交通)|(?:地铁站|车站|站)$")


class PlaceKind(enum.Enum):
    DISTRICT = "district"
    STREET = "street"
    LANDMARK = "landmark"  # a named hospital, clinic, mall or sight
    STATION = "station"  # metro or railway station
    HOTEL = "hotel"


# How sure a match of each kind places the visitor: a landmark or station is a
# building, a street a line, a district an area.
_PRECISION = {
    PlaceKind.LANDMARK: 4,
    PlaceKind.STATION: 4,
    PlaceKind.HOTEL: 4,
    PlaceKind.STREET: 3,
    PlaceKind.DISTRICT: 1,
}


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    kind: PlaceKind
    name_zh: str
    name_en: str
    pinyin: str
    district: str  # Chinese district name, "" when none
    lat: float
    lng: float
    approximate: bool  # a street's point is a known address on it, a district's its middle
    source: str

    def label(self, lang: str) -> str:
        station = self.kind is PlaceKind.STATION
        if lang == "zh":
            name = self.name_zh or self.name_en
            return f"{name}站" if station and not name.endswith("站") else name
        if self.name_en:
            name = self.name_en
        elif self.pinyin:
            # the map names it only in Chinese: the characters a driver reads, and their sound
            name = f"{self.name_zh} ({self.pinyin.title()})"
        else:
            name = self.name_zh
        if station and not self.name_zh.endswith("站") and "station" not in name.casefold():
            return f"{name} station"
        return name


def latin_key(text: str) -> str:
    """Letters and digits only, case-folded: ``Jing'an`` and ``jing an`` are ``jingan``."""
    return _NOT_LATIN.sub("", unicodedata.normalize("NFKC", text).casefold())


def english_forms(pinyin: str) -> tuple[str, ...]:
    """English spellings of a pinyin street name: ``beiyuanlu`` -> ``beiyuanroad``,
    ``beiyuanrd``; ``shandongzhonglu`` -> ``middleshandongroad``, ``shandongmiddleroad``."""
    out: list[str] = []
    for suffix, english in sorted(_EN_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if pinyin.endswith(suffix) and len(pinyin) > len(suffix) + 1:
            stem = pinyin[: -len(suffix)]
            for word in english:
                out.append(stem + word)
                for direction, en in _EN_DIRECTIONS.items():
                    if stem.endswith(direction) and len(stem) > len(direction) + 1:
                        base = stem[: -len(direction)]
                        out += [en + base + word, base + en + word]
            break
    return tuple(out)


class Gazetteer:
    def __init__(self, places: list[Place]) -> None:
        self.places = tuple(places)
        self._by_id = {p.id: p for p in places}
        # Latin keys: English name, pinyin, short forms, English street spellings
        self._latin: dict[str, list[Place]] = {}
        for p in places:
            for key in _latin_keys(p):
                self._latin.setdefault(key, []).append(p)
        self._latin_sorted = sorted(self._latin)
        self._han = sorted((p for p in places if p.name_zh), key=lambda p: -len(p.name_zh))

    def __len__(self) -> int:
        return len(self.places)

    def get(self, place_id: str) -> Place | None:
        return self._by_id.get(place_id)

    def find(self, text: str, limit: int = 5) -> list[Place]:
        """The places ``text`` most likely names, best first; empty when none."""
        text = text.strip()
        if len(text) > MAX_PLACE_TEXT:
            raise InvalidInput(f"A place is limited to {MAX_PLACE_TEXT} characters.", field="place")
        if not 1 <= limit <= MAX_MATCHES:
            raise InvalidInput(f"'first' must be between 1 and {MAX_MATCHES}.", field="first")
        if not text:
            return []
        scored = self._han_matches(text) if _HAN.search(text) else self._latin_matches(text)
        best: dict[str, tuple[float, Place]] = {}
        for score, p in scored:
            if p.id not in best or best[p.id][0] < score:
                best[p.id] = (score, p)
        ranked = sorted(best.values(), key=lambda sp: (-sp[0], sp[1].kind.value, sp[1].id))
        return [p for _, p in ranked[:limit]]

    def _han_matches(self, text: str) -> list[tuple[float, Place]]:
        t = unicodedata.normalize("NFKC", text).replace(" ", "")
        for prefix in _ADDRESS_PREFIXES:
            if t.startswith(prefix) and len(t) > len(prefix):
                t = t[len(prefix) :]
                break
        out: list[tuple[float, Place]] = []
        # the districts a pasted address names, to choose among streets of the same name
        named_districts = {
            p.name_zh for p in self.places if p.kind is PlaceKind.DISTRICT and _short_zh(p) in t
        }
        bare = _STATION_WORDS.sub("", t)
        for p in self._han:
            name, short = p.name_zh, _short_zh(p)
            if t in (name, short) or (p.kind is PlaceKind.STATION and bare == name):
                score = 100.0
            elif name in t or (len(short) >= 2 and short in t):
                if p.kind is PlaceKind.STATION:
                    # a station named after a road does not place an address on that road
                    # (南京西路1376号 is 1.3 km from 南京西路 station)
                    continue
                # a place named inside a longer text: a pasted address; longer names are surer
                score = 40.0 + len(name)
            elif len(t) >= 2 and t in name:
                # part of a name: 华山医院 for 复旦大学附属华山医院
                score = 20.0 + 10.0 * len(t) / len(name)
            else:
                continue
            score += _PRECISION[p.kind] * 5
            if p.district and p.district in named_districts:
                score += 15
            out.append((score, p))
        return out

    def _latin_matches(self, text: str) -> list[tuple[float, Place]]:
        key = latin_key(text)
        if len(key) < 2:
            return []
        out: list[tuple[float, Place]] = []
        for p in self._latin.get(key, ()):
            out.append((100.0 + _PRECISION[p.kind] * 5, p))
        if len(key) >= 3:
            # a name begun: "huash" for Huashan Hospital
            i = _bisect(self._latin_sorted, key)
            while i < len(self._latin_sorted) and self._latin_sorted[i].startswith(key):
                whole = self._latin_sorted[i]
                for p in self._latin[whole]:
                    out.append((30.0 + 30.0 * len(key) / len(whole) + _PRECISION[p.kind], p))
                i += 1
        if len(key) >= 4:
            # inside a longer name: "huashanhospital" in "fudandaxuefushuhuashanhospital"
            for whole in self._latin_sorted:
                if key in whole and not whole.startswith(key):
                    for p in self._latin[whole]:
                        out.append((20.0 + 20.0 * len(key) / len(whole) + _PRECISION[p.kind], p))
        if not out and len(key) >= 4:
            # the words of a longer text: "Beiyuan Road 33, Pudong" names a street and a district
            numbered = any(c.isdigit() for c in text)
            for part in _latin_parts(text):
                for p in self._latin.get(part, ()):
                    if numbered and p.kind is PlaceKind.STATION:
                        continue  # a house number on a road, not the station named after it
                    out.append((40.0 + len(part) + _PRECISION[p.kind] * 5, p))
        return out


def _bisect(keys: list[str], key: str) -> int:
    lo, hi = 0, len(keys)
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _latin_parts(text: str) -> list[str]:
    """Runs of adjacent words of a comma-separated English address, joined as keys."""
    parts: list[str] = []
    for chunk in re.split(r"[,;/]", unicodedata.normalize("NFKC", text).casefold()):
        words = [w for w in re.split(r"[\s'’-]+", chunk) if w and not w.isdigit()]
        words = [w for w in words if w not in {"no", "no.", "shanghai", "china"}]
        for i in range(len(words)):
            for j in range(len(words), i, -1):
                key = latin_key("".join(words[i:j]))
                if len(key) >= 4:
                    parts.append(key)
    return parts


def _short_zh(p: Place) -> str:
    """浦东新区 -> 浦东, 徐汇区 -> 徐汇; other names as they are."""
    if p.kind is PlaceKind.DISTRICT:
        for suffix in ("新区", "区", "县"):
            if p.name_zh.endswith(suffix) and len(p.name_zh) > len(suffix) + 1:
                return p.name_zh[: -len(suffix)]
    return p.name_zh


def _latin_keys(p: Place) -> set[str]:
    keys = {latin_key(p.name_en), latin_key(p.pinyin)}
    if p.kind is PlaceKind.DISTRICT:
        en = latin_key(p.name_en)
        for word in ("district", "newarea", "newdistrict"):
            if en.endswith(word):
                en = en[: -len(word)]
                break
        # Pudong, Pudong District, Pudong New Area: however the English is written
        keys.update({en, en + "district"})
        if p.name_zh.endswith("新区"):
            keys.update({en + "newarea", en + "newdistrict"})
        for suffix in ("xinqu", "qu"):
            py = latin_key(p.pinyin)
            if py.endswith(suffix):
                keys.add(py[: -len(suffix)])
                break
    if p.kind is PlaceKind.STREET:
        keys.update(english_forms(latin_key(p.pinyin)))
    if p.kind is PlaceKind.STATION:
        # Xujiahui, Xujiahui Station, Xujiahui Metro Station; Jing'an Temple; West Nanjing Road
        py = latin_key(p.pinyin)
        names = {py, latin_key(p.name_en), *english_forms(py)}
        for zh, en in _EN_STATION_ENDINGS:
            if py.endswith(zh) and len(py) > len(zh) + 1:
                names.add(py[: -len(zh)] + en)
                break
        for name in names - {""}:
            keys.update({name, name + "station", name + "metrostation", name + "subwaystation"})
    if p.kind is PlaceKind.LANDMARK:
        # what a foreign client calls a place the map names only in Chinese
        py = latin_key(p.pinyin)
        for zh, en in _EN_WORDS:
            if zh in py:
                keys.add(py.replace(zh, en))
    return {k for k in keys if len(k) >= 2}


def read_gazetteer(path: Path) -> Gazetteer:
    """Raises OSError when the file is missing and ValueError when a row is damaged."""
    places: list[Place] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path.name}: the columns must be {', '.join(COLUMNS)}")
        for row in reader:
            places.append(
                Place(
                    id=row["id"],
                    kind=PlaceKind(row["kind"]),
                    name_zh=row["name_zh"],
                    name_en=row["name_en"],
                    pinyin=row["pinyin"],
                    district=row["district"],
                    lat=float(row["lat"]),
                    lng=float(row["lng"]),
                    approximate=row["approx"] == "1",
                    source=row["source"],
                )
            )
    return Gazetteer(places)


@functools.cache
def load_gazetteer(data_dir: Path) -> Gazetteer:
    """The gazetteer of a data folder; empty when it has none (typed places then find nothing)."""
    path = data_dir / GAZETTEER_FILE
    if not path.is_file():
        return Gazetteer([])
    return read_gazetteer(path)
