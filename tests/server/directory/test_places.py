"""Typed places: the gazetteer built from public data, and what a typed place resolves to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.directory.places import (
    GAZETTEER_FILE,
    Gazetteer,
    PlaceKind,
    english_forms,
    load_gazetteer,
    read_gazetteer,
)
from server.errors import InvalidInput
from server.settings import ROOT

DATA = ROOT / "directory_data"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer(DATA)


def first(g: Gazetteer, text: str) -> tuple[str, str]:
    found = g.find(text, 1)
    assert found, text
    return found[0].kind.value, found[0].name_zh


def test_every_shanghai_district_is_there_with_english_and_pinyin(gazetteer: Gazetteer) -> None:
    districts = [p for p in gazetteer.places if p.kind is PlaceKind.DISTRICT]
    assert len(districts) == 16
    for d in districts:
        assert d.name_en and d.pinyin.endswith("qu")
        assert 30.6 < d.lat < 31.9 and 120.8 < d.lng < 122.3  # inside Shanghai, WGS-84
        assert d.approximate
    pinyin = {d.name_zh: d.pinyin for d in districts}
    # pypinyin's first readings would give zhangning and minxing
    assert pinyin["长宁区"] == "changningqu" and pinyin["闵行区"] == "minhangqu"


@pytest.mark.parametrize(
    "typed", ["Pudong", "pudong", "PUDONG NEW AREA", "浦东", "浦东新区", "pudongxinqu"]
)
def test_a_district_in_any_script(gazetteer: Gazetteer, typed: str) -> None:
    assert first(gazetteer, typed) == ("district", "浦东新区")


@pytest.mark.parametrize(
    "typed", ["Jing'an", "jingan", "Jingan", "jing an", "静安", "Jing’an District"]
)
def test_jingan_however_spelled(gazetteer: Gazetteer, typed: str) -> None:
    assert first(gazetteer, typed) == ("district", "静安区")


def test_the_district_centre_is_the_government_seat_not_the_middle_of_the_sea(
    gazetteer: Gazetteer,
) -> None:
    (pudong,) = gazetteer.find("浦东新区", 1)
    # Pudong's outline runs far into the East China Sea; its centre is at Century Avenue
    assert abs(pudong.lat - 31.2237) < 0.01 and abs(pudong.lng - 121.5401) < 0.01


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("山东中路", ("street", "山东中路")),
        ("Middle Shandong Road", ("street", "山东中路")),
        ("shandong zhonglu", ("street", "山东中路")),
        ("华山医院", ("landmark", "复旦大学附属华山医院")),
        ("Renji Hospital South", ("landmark", "仁济医院南院")),
    ],
)
def test_streets_and_landmarks(gazetteer: Gazetteer, typed: str, expected: tuple[str, str]) -> None:
    assert first(gazetteer, typed) == expected


def test_a_pasted_chinese_address_finds_its_street_in_its_district(gazetteer: Gazetteer) -> None:
    kind, name = first(gazetteer, "上海市黄浦区山东中路145号")
    assert (kind, name) == ("street", "山东中路")
    # a street the gazetteer does not know still places the address in its district
    assert first(gazetteer, "上海市浦东新区不存在路33号9号楼") == ("district", "浦东新区")


def test_an_english_address_finds_its_district(gazetteer: Gazetteer) -> None:
    assert first(gazetteer, "No. 1 Nowhere Road, Jing'an District") == ("district", "静安区")


@pytest.mark.parametrize("typed", ["", "  ", "x", "zzzzqqq", "！？"])
def test_nothing_known_finds_nothing(gazetteer: Gazetteer, typed: str) -> None:
    assert gazetteer.find(typed) == []


def test_bad_input_is_refused_with_a_field(gazetteer: Gazetteer) -> None:
    with pytest.raises(InvalidInput) as e:
        gazetteer.find("浦" * 101)
    assert e.value.field == "place"
    with pytest.raises(InvalidInput):
        gazetteer.find("pudong", 0)


def test_english_street_forms() -> None:
    assert "beiyuanroad" in english_forms("beiyuanlu")
    assert "middleshandongroad" in english_forms("shandongzhonglu")
    assert english_forms("pudong") == ()


def test_a_folder_without_a_gazetteer_finds_nothing(tmp_path: Path) -> None:
    assert len(load_gazetteer(tmp_path)) == 0


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "g.tsv").write_text("kind\tname\nx\ty\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_gazetteer(tmp_path / "g.tsv")


def test_the_build_gives_the_committed_file(tmp_path: Path) -> None:
    out = tmp_path / "gazetteer.tsv"
    subprocess.run(
        [sys.executable, "-m", "scripts.build_gazetteer", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == (DATA / GAZETTEER_FILE).read_bytes()


def test_extra_exports_add_stations_and_hotels(tmp_path: Path) -> None:
    export = tmp_path / "extra.geojson"
    export.write_text(
        """{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"@id": "node/1", "name": "人民广场", "name:en": "People's Square",
         "railway": "station", "station": "subway"}, "geometry": {"type": "Point", "coordinates": [121.4737, 31.2326]}},
        {"type": "Feature", "properties": {"@id": "node/2", "name": "和平饭店", "name:en": "Fairmont Peace Hotel",
         "tourism": "hotel"}, "geometry": {"type": "Point", "coordinates": [121.4903, 31.2404]}}]}""",
        encoding="utf-8",
    )
    out = tmp_path / "gazetteer.tsv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.build_gazetteer",
            "--out",
            str(out),
            "--extra",
            str(export),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    g = read_gazetteer(out)
    assert first(g, "People's Square") == ("station", "人民广场")
    assert first(g, "renminguangchang") == ("station", "人民广场")
    assert first(g, "Peace Hotel") == ("hotel", "和平饭店")


# Metro stations (sources/metro/, see its SOURCE.txt)


@pytest.mark.parametrize(
    "typed",
    ["Jing'an Temple", "jingansi", "Jingansi Station", "静安寺", "静安寺站", "地铁静安寺站"],
)
def test_a_metro_station_in_english_pinyin_or_chinese(gazetteer: Gazetteer, typed: str) -> None:
    assert first(gazetteer, typed) == ("station", "静安寺")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Xujiahui", "徐家汇"),
        ("xujiahui metro station", "徐家汇"),
        ("徐家汇站", "徐家汇"),
        ("Zhongshan Park", "中山公园"),
        ("West Nanjing Road", "南京西路"),
        ("Nanjing West Road station", "南京西路"),
        ("Lujiazui", "陆家嘴"),
        ("Shanghai Railway Station", "上海火车站"),
    ],
)
def test_station_names_as_a_visitor_types_them(
    gazetteer: Gazetteer, typed: str, expected: str
) -> None:
    assert first(gazetteer, typed) == ("station", expected)


def test_every_station_has_a_point_a_district_and_its_source(gazetteer: Gazetteer) -> None:
    stations = [p for p in gazetteer.places if p.kind is PlaceKind.STATION]
    assert len(stations) == 346
    for s in stations:
        assert 30.6 < s.lat < 31.9 and 120.9 < s.lng < 122.3, s.name_zh
        assert not s.approximate and s.pinyin
        assert "generate-china-subways-geojson" in s.source and "ISC" in s.source
    # all but the three stations of line 11 in Kunshan (Jiangsu) lie in a Shanghai district
    outside = sorted(s.name_zh for s in stations if not s.district)
    assert outside == sorted(["光明路", "兆丰路", "花桥"])
    (jingansi,) = gazetteer.find("静安寺站", 1)
    assert jingansi.district == "静安区"
    # WGS-84, not AMap's GCJ-02: within 100 m of the station's point in another public list
    assert abs(jingansi.lat - 31.2253) < 0.001 and abs(jingansi.lng - 121.4421) < 0.001


def test_a_station_is_labelled_as_one(gazetteer: Gazetteer) -> None:
    (xujiahui,) = gazetteer.find("Xujiahui", 1)
    assert xujiahui.label("en") == "徐家汇 (Xujiahui) station"
    assert xujiahui.label("zh") == "徐家汇站"
    (railway,) = gazetteer.find("上海火车站", 1)
    assert railway.label("zh") == "上海火车站"


def test_an_address_on_a_road_is_not_the_station_named_after_it(gazetteer: Gazetteer) -> None:
    # 南京西路1376号 is 1.3 km from 南京西路 station: the district says more
    assert first(gazetteer, "上海市静安区南京西路1376号") == ("district", "静安区")
    assert first(gazetteer, "No. 1376 West Nanjing Road, Jing'an District") == (
        "district",
        "静安区",
    )


def test_the_nearest_list_sorts_from_a_typed_station(gazetteer: Gazetteer) -> None:
    from server.directory.loader import load_directory
    from server.directory.service import DirectoryService, FacilityQuery, Sort
    from server.search.memory import MemoryEngine
    from server.settings import Settings

    directory = load_directory(Settings(environment="test", directory_source="curated"))
    service = DirectoryService(directory, MemoryEngine(directory), gazetteer)
    (station,) = gazetteer.find("Jing'an Temple", 1)

    typed = service.search(FacilityQuery(place="Jing'an Temple", sort=Sort.DISTANCE, limit=50))
    located = service.search(
        FacilityQuery(near=(station.lat, station.lng), sort=Sort.DISTANCE, limit=50)
    )

    assert typed.place == station
    ids = [r.facility.id for r in typed.results]
    assert ids == [r.facility.id for r in located.results] and len(ids) == 15
    # the Shanghai Centre clinic is 0.6 km away, Tomorrow Square 2.4 km, Pudong much further
    assert ids[:2] == ["des-parkway-ruixin", "des-parkway-ruikang"]
