from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from server.directory import osm
from server.directory.models import Category, FacilityKind, Ownership
from server.directory.validation import check_folder
from server.settings import ROOT

SOURCES = ROOT / "directory_data" / "sources" / "osm_shanghai"
REFERENCE = ROOT / "directory_data"


@pytest.fixture(scope="module")
def health() -> dict[str, Any]:
    return json.loads((SOURCES / osm.HEALTH_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def outlines() -> list[osm.DistrictOutline]:
    return osm.load_district_outlines(SOURCES / osm.DISTRICTS_FILE)


@pytest.fixture(scope="module")
def imported(
    health: dict[str, Any], outlines: list[osm.DistrictOutline]
) -> tuple[dict[str, dict[str, str]], osm.ImportReport]:
    vocab = osm.DepartmentVocabulary.read(REFERENCE / "departments.csv")
    rows, report = osm.facility_rows(health, outlines, vocab)
    return {r["osm_id"]: r for r in rows}, report


@pytest.fixture(scope="module")
def reference_points() -> dict[str, dict[str, str]]:
    """Points and districts prepared independently alongside the export."""
    with (SOURCES / "shanghai_health_osm_points.csv").open(encoding="utf-8", newline="") as fh:
        return {r["osm_id"]: r for r in csv.DictReader(fh)}


class TestKind:
    @pytest.mark.parametrize(
        ("props", "kind"),
        [
            ({"amenity": "hospital", "name": "上海市第一人民医院"}, FacilityKind.MEDICAL),
            ({"amenity": "clinic", "name": "优复门诊"}, FacilityKind.MEDICAL),
            ({"amenity": "doctors", "name": "吉拉福儿科"}, FacilityKind.MEDICAL),
            ({"amenity": "dentist", "name": "某某诊所"}, FacilityKind.DENTAL),
            ({"amenity": "clinic", "healthcare": "dentist", "name": "Smile"}, FacilityKind.DENTAL),
            ({"amenity": "hospital", "name": "淞康口腔门诊部"}, FacilityKind.DENTAL),
            ({"amenity": "clinic", "name": "瑞尔齿科"}, FacilityKind.DENTAL),
            ({"amenity": "hospital", "name": "徐汇牙防所"}, FacilityKind.DENTAL),
            ({"amenity": "clinic", "name": "Dental Clinic"}, FacilityKind.DENTAL),
        ],
    )
    def test_kind_comes_from_the_amenity_or_a_dental_name(
        self, props: dict[str, str], kind: FacilityKind
    ) -> None:
        assert osm.classify_kind(props) is kind

    def test_the_corpus_has_no_designated_facilities(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport]
    ) -> None:
        rows, report = imported
        assert {r["kind"] for r in rows.values()} == {"medical", "dental"}
        # 淞康口腔门诊部, 徐汇牙防所, 上海市徐汇区牙病防治所 and one named only "Dental Clinic"
        assert report.kinds["dental"] == 4


class TestSkipping:
    @pytest.mark.parametrize(
        ("props", "reason"),
        [
            ({"amenity": "hospital"}, "unnamed"),
            ({"amenity": "hospital", "name": "Shanghai Companion Animal Hospital"}, "veterinary"),
            ({"amenity": "veterinary", "name": "某某医院"}, "veterinary"),
            (
                {"amenity": "doctors", "name": "浦南医院核酸检测点(黄码)"},
                "testing or quarantine site",
            ),
            ({"amenity": "hospital", "name": "富长路集中隔离点"}, "testing or quarantine site"),
            ({"amenity": "clinic", "name": "卫生所（废弃）"}, "closed"),
            ({"amenity": "hospital", "name": "浦东新区医疗急救中心停车场"}, "not a place of care"),
            (
                {"amenity": "hospital", "name": "江宁路"},
                "name does not look like a health facility",
            ),
            (
                {"amenity": "clinic", "healthcare": "cosmetic_surgery", "name": "芙艾美容"},
                "name does not look like a health facility",
            ),
            (
                {"amenity": "clinic", "name": "Nails", "healthcare:speciality": "nail_care"},
                "name does not look like a health facility",
            ),
        ],
    )
    def test_features_that_are_not_places_of_care_are_skipped(
        self, props: dict[str, str], reason: str
    ) -> None:
        assert osm.skip_reason(props) == reason

    @pytest.mark.parametrize(
        "name", ["仁济医院东院", "Parkway Health", "上海市徐汇区牙病防治所", "吉拉福儿科", "校医院"]
    )
    def test_health_facilities_are_kept(self, name: str) -> None:
        assert osm.skip_reason({"amenity": "hospital", "name": name}) is None

    @pytest.mark.parametrize(
        "props",
        [
            # a TCM practice whose name says nothing of care, with its website
            {"amenity": "doctors", "name:en": "Body and Soul", "website": "https://tcm.example"},
            # an eye clinic: the speciality is tagged
            {
                "amenity": "clinic",
                "name:en": "western eye center",
                "healthcare:speciality": "optometry",
            },
        ],
    )
    def test_tags_that_say_which_care_keep_a_plain_name(self, props: dict[str, str]) -> None:
        assert osm.skip_reason(props) is None

    def test_the_report_accounts_for_every_feature(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport]
    ) -> None:
        rows, report = imported
        assert report.features == 532
        assert report.imported == len(rows)
        assert report.imported + sum(report.skipped.values()) == report.features
        assert report.skipped["unnamed"] == 37  # no name in any language
        # 532 = 461 imported + 71 skipped, each for a reason the summary prints
        assert report.imported == 461
        assert dict(report.skipped) == {
            "unnamed": 37,
            "duplicate of a nearby feature with the same name": 11,
            "name does not look like a health facility": 9,
            "not a place of care": 8,
            "testing or quarantine site": 4,
            "closed": 1,
            "veterinary": 1,
        }
        kept = {r["name_en"] for r in rows.values()}
        assert {"Body and Soul", "western eye center"} <= kept
        assert report.export_date == "2026-05-16"
        skipped = " ".join(n for names in report.skipped_names.values() for n in names)
        assert "Companion Animal Hospital" in skipped
        assert "核酸检测点" in skipped

    def test_parts_of_one_campus_are_merged(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport]
    ) -> None:
        rows, report = imported
        south = [r for r in rows.values() if r["name_zh"] == "仁济医院南院"]
        assert [r["osm_id"] for r in south] == ["way/302368260"]  # the named, tagged outline
        merged = report.skipped_names["duplicate of a nearby feature with the same name"]
        assert "way/1242264679 = way/302368260" in merged
        # the same generic name far apart is not a duplicate
        assert len([r for r in rows.values() if r["name_zh"] == "医务室"]) > 3


class TestClassification:
    @pytest.mark.parametrize(
        ("props", "category"),
        [
            ({"name": "嘉定区中医医院"}, Category.TCM),
            ({"name": "上海惠慈中西医结合门诊部"}, Category.TCM),
            ({"name": "X", "healthcare:speciality": "traditional_chinese_medicine"}, Category.TCM),
            ({"name": "和平眼科医院"}, Category.SPECIALIST),
            ({"name": "上海市精神卫生中心"}, Category.SPECIALIST),
            ({"name": "某医院", "healthcare:speciality": "ophthalmology"}, Category.SPECIALIST),
            ({"name": "某医院", "healthcare:speciality": "general;oncology"}, Category.GENERAL),
            ({"name": "上海市第十人民医院", "healthcare:speciality": "急诊科"}, Category.GENERAL),
            ({"name": "上海市第一人民医院"}, Category.GENERAL),
            ({"name": "淞康口腔门诊部"}, Category.DENTAL),
        ],
    )
    def test_category_is_a_conservative_guess(
        self, props: dict[str, str], category: Category
    ) -> None:
        assert osm.classify_category(props, osm.classify_kind(props)) is category

    @pytest.mark.parametrize(
        ("operator_type", "ownership"),
        [
            ("military", Ownership.PUBLIC),
            ("government", Ownership.PUBLIC),
            ("public", Ownership.PUBLIC),
            ("private", Ownership.PRIVATE),
            ("", Ownership.UNKNOWN),
            ("consortium", Ownership.UNKNOWN),
        ],
    )
    def test_ownership_only_where_osm_says(self, operator_type: str, ownership: Ownership) -> None:
        props = {"name": "某医院"} | ({"operator:type": operator_type} if operator_type else {})
        assert osm.classify_ownership(props) is ownership

    def test_specialities_become_departments(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport]
    ) -> None:
        rows, _ = imported
        hepatobiliary = rows["relation/19197715"]  # general;oncology;gastroenterology;hepatology
        assert hepatobiliary["departments"] == "肿瘤科;消化系统疾病;肝病科"
        assert hepatobiliary["category"] == "general"
        assert hepatobiliary["ownership"] == "public"  # operator:type=military


class TestKnownFeatures:
    @pytest.mark.parametrize(
        ("osm_id", "name_zh", "name_en", "district", "address_zh"),
        [
            ("way/164024938", "仁济医院东院", "Renji Hospital East", "浦东新区", ""),
            ("way/538432103", "仁济医院西院", "Renji Hospital West", "黄浦区", "上海市黄浦区山东中路145号"),
            ("way/347465308", "曙光医院东院", "", "浦东新区", ""),
            ("node/7718891285", "Unity Family", "United Family Hospital", "长宁区", "上海市长宁区平塘路699号"),
            ("node/9075774410", "和睦家门诊部", "United Family Clinic", "闵行区", ""),
            ("relation/2293570", "黄渡社区卫生服务中心", "Huangdu CHSC", "嘉定区", ""),
        ],
    )  # fmt: skip
    def test_names_district_and_address(
        self,
        imported: tuple[dict[str, dict[str, str]], osm.ImportReport],
        osm_id: str,
        name_zh: str,
        name_en: str,
        district: str,
        address_zh: str,
    ) -> None:
        rows, _ = imported
        row = rows[osm_id]
        assert (row["name_zh"], row["name_en"], row["district"]) == (name_zh, name_en, district)
        assert row["address_zh"] == address_zh
        assert row["source"] == f"OpenStreetMap {osm_id}"
        assert row["networks"] == ""
        assert row["verified_on"] == "2026-05-16"

    def test_no_pinyin_stands_in_for_an_english_name(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport], health: dict[str, Any]
    ) -> None:
        rows, _ = imported
        tagged = {
            f["properties"]["@id"]
            for f in health["features"]
            if {"name:en", "official_name:en", "int_name"} & set(f["properties"])
        }
        for osm_id, row in rows.items():
            if osm_id not in tagged and any("\u4e00" <= ch <= "\u9fff" for ch in row["name_zh"]):
                assert row["name_en"] == "", osm_id

    def test_phone_and_emergency_are_kept(
        self, imported: tuple[dict[str, dict[str, str]], osm.ImportReport]
    ) -> None:
        rows, _ = imported
        assert rows["node/7718891285"]["phone"] == "+86 21 2216 3999"
        assert rows["way/164024938"]["tags"] == "急诊"


class TestGeometry:
    def test_points_and_districts_match_the_independent_reference(
        self,
        health: dict[str, Any],
        outlines: list[osm.DistrictOutline],
        reference_points: dict[str, dict[str, str]],
    ) -> None:
        # every feature, skipped or not: this also shows the simplified outlines bundled
        # here assign each site the district the full-detail outlines gave it
        for feature in health["features"]:
            ref = reference_points[feature["id"]]
            lat, lng = osm.feature_point(feature["geometry"])  # type: ignore[misc]
            assert lat == pytest.approx(float(ref["lat"]), abs=1e-6)
            assert lng == pytest.approx(float(ref["lon"]), abs=1e-6)
            assert osm.district_at(outlines, lat, lng) == ref["district_zh"], feature["id"]

    def test_the_sixteen_districts_are_bundled(self, outlines: list[osm.DistrictOutline]) -> None:
        assert len(outlines) == 16
        by_zh = {o.zh: o for o in outlines}
        assert by_zh["浦东新区"].en == "Pudong"
        assert by_zh["黄浦区"].osm_id == "relation/371650"

    def test_a_point_outside_shanghai_has_no_district(
        self, outlines: list[osm.DistrictOutline]
    ) -> None:
        assert osm.district_at(outlines, 39.9042, 116.4074) == ""  # Beijing

    def test_simplification_drops_collinear_points_and_keeps_the_shape(self) -> None:
        side = [(x / 10, 0.0) for x in range(11)]
        ring = [*side, (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
        data = {
            "features": [
                {
                    "id": "relation/1",
                    "properties": {"@id": "relation/1", "name": "测试区", "note": "dropped"},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                },
                {
                    "id": "node/2",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [0, 0]},
                },
            ]
        }

        small = osm.simplify_district_geojson(data, 0.001)

        [feature] = small["features"]
        assert feature["properties"] == {"@id": "relation/1", "name": "测试区"}
        coords = feature["geometry"]["coordinates"][0]
        assert coords[0] == coords[-1]
        assert sorted(map(tuple, coords[:-1])) == [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("osm") / "corpus"
    osm.import_osm(SOURCES / osm.HEALTH_FILE, SOURCES / osm.DISTRICTS_FILE, REFERENCE, out)
    return out


class TestImportFolder:
    def test_writes_a_valid_folder_in_the_curated_format(self, corpus: Path) -> None:
        data, problems = check_folder(corpus, allow_synthetic=False)

        assert problems == []
        assert len(data.facilities) > 400
        assert data.networks == []
        assert (corpus / "networks.csv").read_text(
            encoding="utf-8"
        ) == "id,name_zh,name_en,source\n"

    def test_records_attribution_and_licence(self, corpus: Path) -> None:
        stamp = json.loads((corpus / osm.STAMP_FILE).read_text(encoding="utf-8"))

        assert stamp["attribution"] == "© OpenStreetMap contributors"
        assert stamp["licence"] == "ODbL 1.0"
        assert osm.corpus_is_current(corpus, SOURCES, REFERENCE)

    def test_output_is_deterministic(self, corpus: Path, tmp_path: Path) -> None:
        again = tmp_path / "again"
        osm.import_osm(SOURCES / osm.HEALTH_FILE, SOURCES / osm.DISTRICTS_FILE, REFERENCE, again)

        assert (again / "facilities.csv").read_bytes() == (corpus / "facilities.csv").read_bytes()


def _import_script() -> ModuleType:
    return importlib.import_module("scripts.import_osm")


class TestCommand:
    def test_imports_to_the_given_folder_and_reports(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "osm"

        assert _import_script().main(["--out", str(out)]) == 0

        text = capsys.readouterr().out
        assert "532 features" in text
        assert "skipped   37: unnamed" in text
        assert "© OpenStreetMap contributors" in text
        assert (out / "facilities.csv").is_file()

    def test_a_missing_input_is_a_clear_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = _import_script().main(
            ["--health", str(tmp_path / "none.geojson"), "--out", str(tmp_path / "o")]
        )

        assert code == 2
        assert "does not exist" in capsys.readouterr().err
