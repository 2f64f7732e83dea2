from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from server.directory import loader, osm
from server.directory.directory import Directory
from server.directory.loader import ensure_osm_corpus, load_directory
from server.directory.models import (
    Category,
    CoordinatePrecision,
    FacilityKind,
    Ownership,
)
from server.directory.validation import InvalidDirectoryData
from server.settings import ROOT, Settings

if TYPE_CHECKING:
    from tests.server.directory.conftest import Csv

MEDICAL, DENTAL, DESIGNATED = FacilityKind.MEDICAL, FacilityKind.DENTAL, FacilityKind.DESIGNATED
PUBLIC, PRIVATE, UNKNOWN = Ownership.PUBLIC, Ownership.PRIVATE, Ownership.UNKNOWN

# Every facility the user manual names (§9.7 screenshots, §9.8 list), with what the list
# shows completed from recorded public sources (facts.csv): kind, name, address, ownership,
# grade, category, departments. A truncated address ("...") is completed from a source or
# left without the cut-off part; what no source gives stays empty / unknown.
SEED = [
    (MEDICAL, "上海中医药大学附属曙光医院(东部)特诊部", "上海市浦东新区张衡路528号2号楼1楼",
     PUBLIC, "三甲", Category.GENERAL, ("传统中医科", "内分泌科", "肛肠科", "肿瘤科")),
    (MEDICAL, "上海交通大学医学院附属仁济医院特约门诊", "上海市浦东新区北园路33号9号楼1楼",
     PUBLIC, "三甲", Category.GENERAL, ("全科",)),
    (MEDICAL, "上海交通大学医学院附属仁济医院特需部(浦东分院)", "上海市浦东新区北园路33号9号楼3楼",
     PUBLIC, "三甲", Category.GENERAL, ("心内科", "风湿类风湿性疾病", "消化系统疾病", "泌尿科", "普外科")),
    (MEDICAL, "同济大学附属东方医院特诊部", "", UNKNOWN, "", Category.GENERAL, ()),
    (DENTAL, "瑞尔时代诊所", "上海市浦东新区张杨路500号华润时代广场",
     PRIVATE, "", Category.DENTAL, ("齿科",)),
    (DENTAL, "瑞尔正大诊所", "上海市浦东新区陆家嘴西路168号正大广场",
     PRIVATE, "", Category.DENTAL, ("齿科",)),
    (DENTAL, "上海瑞尔碧云诊所", "上海市浦东新区金桥碧云路1208号2楼",
     PRIVATE, "", Category.DENTAL, ("齿科",)),
    (DENTAL, "上海瑞尔联洋诊所", "上海市浦东新区民生路1286号汇商大厦",
     PRIVATE, "", Category.DENTAL, ("齿科",)),
    (DENTAL, "上海瑞尔美学诊所", "", PRIVATE, "", Category.DENTAL, ()),
    (DESIGNATED, "上海和睦家医院", "上海市长宁区平塘路699号", PRIVATE, "", Category.GENERAL, ()),
    (DESIGNATED, "上海和睦家新城医院", "上海市自由贸易试验区新金桥路1598号",
     PRIVATE, "", Category.GENERAL, ()),
    (DESIGNATED, "上海和睦家丰尚诊所", "上海市闵行区运乐路673号", PRIVATE, "", Category.GENERAL, ()),
    (DESIGNATED, "上海和睦家泉口门诊部", "上海市长宁区泉口路8号", PRIVATE, "", Category.GENERAL, ()),
    (DESIGNATED, "百汇医疗集团上海瑞康门诊部", "上海市黄浦区南京西路389号明天广场裙房4楼",
     PRIVATE, "", Category.GENERAL, ()),
    (DESIGNATED, "百汇医疗集团上海瑞新医疗中心", "上海市静安区南京西路1376号上海商城",
     PRIVATE, "", Category.GENERAL, ()),
]  # fmt: skip

# The designated list's own English names (typos of the list corrected where noted).
SEED_ENGLISH = {
    "上海和睦家医院": "Shanghai United Family Hospital",
    "上海和睦家新城医院": "Shanghai United Family Xincheng Hospital",
    "上海和睦家丰尚诊所": "Shanghai United Family Fengshang Clinic",
    "上海和睦家泉口门诊部": "Shanghai United Family Quankou Clinic",
    # list: "Parkway Health Medical Centers Glenaeagles Medical and Surgical Center Tomorrow Square"
    "百汇医疗集团上海瑞康门诊部": "Parkway Health Medical Centers Gleneagles Medical and Surgical Center Tomorrow Square",
    # list: "Parkway Health Medical Centera Shanghai Center"
    "百汇医疗集团上海瑞新医疗中心": "Parkway Health Medical Center Shanghai Center",
}


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "data", var_dir=tmp_path / "var").with_(
        **changes
    )


@pytest.fixture(scope="module")
def curated() -> Directory:
    return load_directory(Settings(environment="test", directory_source="curated"))


class TestCuratedLists:
    @pytest.mark.parametrize(
        ("kind", "name", "address", "ownership", "grade", "category", "departments"), SEED
    )
    def test_every_facility_of_the_manual_is_served_as_the_manual_shows_it(
        self,
        curated: Directory,
        kind: FacilityKind,
        name: str,
        address: str,
        ownership: Ownership,
        grade: str,
        category: Category,
        departments: tuple[str, ...],
    ) -> None:
        matches = [f for f in curated.facilities if f.name_zh == name]

        assert len(matches) == 1
        f = matches[0]
        assert f.kind is kind
        assert f.address_zh == address
        assert f.city == "上海"
        assert (f.ownership, f.grade, f.category) == (ownership, grade, category)
        assert tuple(d.zh for d in f.departments) == departments
        assert str(f.verified_on) >= "2026-11-23"
        assert "用户使用手册 §9." in f.source

    def test_nothing_but_the_manual_s_facilities_is_served(self, curated: Directory) -> None:
        assert sorted(f.name_zh for f in curated.facilities) == sorted(s[1] for s in SEED)

    def test_department_english_names_come_from_the_vocabulary(self, curated: Directory) -> None:
        renji = next(f for f in curated.facilities if f.id == "med-renji-vip-pudong")
        assert [d.en for d in renji.departments] == [
            "Cardiology",
            "Rheumatic and Rheumatoid Diseases",
            "Digestive Diseases",
            "Urology",
            "General Surgery",
        ]
        assert curated.department("cardiology") == "心内科"

    def test_designated_facilities_keep_the_list_s_english_names(self, curated: Directory) -> None:
        for name_zh, name_en in SEED_ENGLISH.items():
            f = next(f for f in curated.facilities if f.name_zh == name_zh)
            assert f.name_en == name_en

    def test_every_facility_has_an_english_name(self, curated: Directory) -> None:
        assert all(f.name_en for f in curated.facilities)

    def test_network_membership_comes_only_from_a_listed_source(self, curated: Directory) -> None:
        networks = {n.id: n for n in curated.networks}
        assert set(networks) == {"group-comprehensive", "uxiang", "nku-staff-outpatient"}
        # the university plan's designated outpatient hospitals (seed 002 三.1(1)-(2)): the
        # notice lists none, so no facility names the network
        assert "三.1(1)-(2)" in networks["nku-staff-outpatient"].source
        # U享赔医院清单, 待更新 (seed 000 §7): a network no list names yet
        assert "§7" in networks["uxiang"].source
        plan = networks["group-comprehensive"]
        assert plan.name_zh == "团体综合医疗保障计划"
        assert "§9.7" in plan.source
        for f in curated.facilities:
            if f.kind is DESIGNATED:
                assert f.networks == (), f.id  # no source puts the designated list in a plan
            else:
                assert f.networks == ("group-comprehensive",), f.id

    def test_points_lie_in_the_district_they_are_listed_in(self, curated: Directory) -> None:
        outlines = osm.load_district_outlines(
            ROOT / "directory_data" / "sources" / "osm_shanghai" / osm.DISTRICTS_FILE
        )
        for f in curated.facilities:
            if f.district:
                assert osm.district_at(outlines, f.lat, f.lng) == f.district, f.id

    def test_a_point_is_exact_only_at_the_facility_or_its_building(
        self, curated: Directory
    ) -> None:
        for f in curated.facilities:
            assert f.coordinate_method, f.id
            if f.coordinate_precision is CoordinatePrecision.EXACT:
                method = f.coordinate_method
                assert "OpenStreetMap" in method or "building point" in method, f.id

    def test_osm_derived_points_are_credited(self, curated: Directory) -> None:
        assert curated.attribution == "© OpenStreetMap contributors"

    def test_the_district_list_is_shanghai_s_sixteen(self, curated: Directory) -> None:
        assert len(curated.districts) == 16
        assert {d.city for d in curated.districts} == {"上海"}
        assert {d.city_en for d in curated.districts} == {"Shanghai"}
        pudong = curated.district("Pudong")
        assert pudong is not None
        assert (pudong.zh, pudong.adcode) == ("浦东新区", "310115")


class TestContentHash:
    def test_is_stable_for_unchanged_data(self, data_dir: Path, tmp_path: Path) -> None:
        first = load_directory(_settings(tmp_path)).content_hash
        again = load_directory(_settings(tmp_path)).content_hash

        assert len(first) == 64
        assert first == again

    def test_changes_when_a_file_changes(
        self, data_dir: Path, tmp_path: Path, table: type[Csv]
    ) -> None:
        before = load_directory(_settings(tmp_path))
        table.edit(data_dir / "facilities_dental.csv", 0, tags="特需部")

        after = load_directory(_settings(tmp_path))

        assert after.content_hash != before.content_hash
        assert after.get("den-arrail-shidai").tags == ("特需部",)  # type: ignore[union-attr]

    def test_changes_when_a_reference_file_changes(self, data_dir: Path, tmp_path: Path) -> None:
        before = load_directory(_settings(tmp_path)).content_hash
        with (data_dir / "departments.csv").open("a", encoding="utf-8") as fh:
            fh.write("病理科,Pathology,pathology\n")

        assert load_directory(_settings(tmp_path)).content_hash != before

    def test_changes_when_a_facility_file_is_added(
        self, data_dir: Path, tmp_path: Path, table: type[Csv]
    ) -> None:
        before = load_directory(_settings(tmp_path)).content_hash
        rows = table.read(data_dir / "facilities_medical.csv")[:1]
        rows[0]["id"] = "med-extra"
        rows[0]["lat"] = "31.19"  # its own point: two rows on one point must share a building
        table.write(data_dir / "facilities_extra.csv", rows)
        facts = table.read(data_dir / "facts.csv")
        first = "med-shuguang-east-special"  # the row copied
        extra = [{**r, "facility_id": "med-extra"} for r in facts if r["facility_id"] == first]
        table.write(data_dir / "facts.csv", facts + extra)

        after = load_directory(_settings(tmp_path))

        assert after.content_hash != before
        assert after.get("med-extra") is not None


class TestRefusal:
    def test_invalid_data_is_refused_whole(
        self, data_dir: Path, tmp_path: Path, table: type[Csv]
    ) -> None:
        table.edit(data_dir / "facilities_designated.csv", 3, district="Changning")

        with pytest.raises(InvalidDirectoryData) as info:
            load_directory(_settings(tmp_path))

        [problem] = info.value.problems
        assert (problem.file, problem.row, problem.field) == (
            "facilities_designated.csv",
            5,
            "district",
        )
        assert "facilities_designated.csv row 5, field 'district'" in str(info.value)

    def test_a_missing_folder_is_refused(self, tmp_path: Path) -> None:
        # settings refuse a missing folder; this one goes away after they were made
        gone = tmp_path / "gone"
        gone.mkdir()
        settings = _settings(tmp_path, directory_source=str(gone))
        gone.rmdir()
        with pytest.raises(InvalidDirectoryData, match="is not a folder"):
            load_directory(settings)


class TestOsmSource:
    def test_builds_the_corpus_on_first_use_and_credits_osm(
        self, data_dir: Path, tmp_path: Path
    ) -> None:
        settings = _settings(tmp_path, directory_source="osm")

        directory = load_directory(settings)

        assert (tmp_path / "var" / "osm" / "facilities.csv").is_file()
        assert directory.attribution == "© OpenStreetMap contributors"
        assert len(directory) > 400
        assert directory.networks == ()
        assert {f.kind for f in directory.facilities} <= {MEDICAL, DENTAL}
        assert all(f.networks == () for f in directory.facilities)
        assert all(f.source.startswith("OpenStreetMap ") for f in directory.facilities)

    def test_reuses_a_current_corpus_and_rebuilds_a_stale_one(
        self, data_dir: Path, tmp_path: Path
    ) -> None:
        settings = _settings(tmp_path, directory_source="osm")
        corpus = ensure_osm_corpus(settings)
        stamp = corpus / osm.STAMP_FILE
        built = (corpus / "facilities.csv").stat().st_mtime_ns

        ensure_osm_corpus(settings)
        assert (corpus / "facilities.csv").stat().st_mtime_ns == built

        # an input changed since the corpus was built
        data = json.loads(stamp.read_text(encoding="utf-8"))
        data["inputs"] = "0" * 64
        stamp.write_text(json.dumps(data), encoding="utf-8")
        ensure_osm_corpus(settings)
        assert json.loads(stamp.read_text(encoding="utf-8"))["inputs"] != "0" * 64


class TestFolderSource:
    def test_serves_a_folder_in_the_same_format(self, data_dir: Path, tmp_path: Path) -> None:
        directory = load_directory(_settings(tmp_path, directory_source=str(data_dir)))

        assert len(directory) == 15

    def test_synthetic_folders_are_refused_in_production(
        self, tmp_path: Path, synthetic_dir: Path
    ) -> None:
        settings = _settings(tmp_path, directory_source=str(synthetic_dir))

        assert len(load_directory(settings)) == 300
        with pytest.raises(InvalidDirectoryData, match="synthetic"):
            load_directory(
                settings.with_(
                    environment="production", secret_key="s" * 32, encryption_key="e" * 32
                )
            )


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scripts.generate_synthetic import generate

    out = tmp_path_factory.mktemp("syn") / "300"
    generate(300, out, seed=3)
    return out


def test_the_sources_hash_is_remembered_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two source files and a memo beside the stores
    a, b = tmp_path / "districts.csv", tmp_path / "facilities.csv"
    a.write_text("one\n", encoding="utf-8")
    b.write_text("two\n", encoding="utf-8")
    memo = tmp_path / "var" / "directory-sources.json"
    hashed: list[int] = []
    real = loader.content_hash

    def counted(files: list[Path]) -> str:
        hashed.append(len(files))
        return real(files)

    monkeypatch.setattr(loader, "content_hash", counted)
    first = loader.remembered_content_hash([a, b], memo)
    assert first == real([a, b]) and hashed == [2]
    # when nothing changed, then the files are not read again
    assert loader.remembered_content_hash([a, b], memo) == first and hashed == [2]
    # when a file is rewritten with bytes of the same length, then it is hashed again
    b.write_text("twO\n", encoding="utf-8")
    changed = loader.remembered_content_hash([a, b], memo)
    assert changed != first and changed == real([a, b]) and hashed == [2, 2]
    # and a memo that cannot be read is rewritten, not trusted
    memo.write_text("{not json", encoding="utf-8")
    assert loader.remembered_content_hash([a, b], memo) == changed and hashed == [2, 2, 2]
    assert json.loads(memo.read_text(encoding="utf-8"))["sha256"] == changed
