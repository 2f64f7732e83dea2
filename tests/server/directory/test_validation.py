from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from server.directory.validation import (
    InvalidDirectoryData,
    Problem,
    check_folder,
    read_folder,
)
from server.settings import ROOT

if TYPE_CHECKING:
    from tests.server.directory.conftest import Csv

MEDICAL = "facilities_medical.csv"


def _script(name: str) -> ModuleType:
    return importlib.import_module(f"scripts.{name}")


def _problems(folder: Path, *, allow_synthetic: bool = False) -> list[Problem]:
    return check_folder(folder, allow_synthetic=allow_synthetic)[1]


def test_the_curated_folder_is_valid() -> None:
    # given / when
    data, problems = check_folder(ROOT / "directory_data", allow_synthetic=False)

    # then
    assert problems == []
    assert len(data.facilities) >= 15
    assert {d.zh for d in data.districts} >= {"浦东新区", "长宁区", "闵行区", "黄浦区"}
    assert len(data.districts) == 16


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name_zh": ""}, "name_zh", "missing name"),
        ({"lat": "48.8566", "lng": "2.3522"}, "lat/lng", "outside China"),
        ({"lat": "31.2", "lng": "-121.5"}, "lat/lng", "outside China"),
        ({"lat": "north", "lng": "121.5"}, "lat/lng", "not numbers"),
        ({"lat": "nan", "lng": "121.5"}, "lat/lng", "outside China"),
        ({"district": "浦东区"}, "district", "unknown district '浦东区'"),
        ({"city": "Shanghai"}, "city", "unknown city"),
        ({"kind": "hospital"}, "kind", "unknown kind 'hospital'"),
        ({"kind": "dental"}, "kind", "in a file of medical facilities"),
        ({"ownership": "公立"}, "ownership", "unknown ownership '公立'"),
        ({"category": "综合"}, "category", "unknown category '综合'"),
        ({"grade": "特级"}, "grade", "unknown grade '特级'"),
        ({"networks": "no-such-plan"}, "networks", "unknown network 'no-such-plan'"),
        ({"departments": "全科;牙科"}, "departments", "unknown department '牙科'"),
        ({"verified_on": "23/11/2026"}, "verified_on", "not a date in the form YYYY-MM-DD"),
        ({"verified_on": "2026-02-30"}, "verified_on", "not a real date"),
        ({"verified_on": "2999-01-01"}, "verified_on", "in the future"),
        ({"source": ""}, "source", "must trace to a source"),
        ({"source": "synthetic"}, "source", "synthetic rows are for benchmarks only"),
        ({"id": "syn-0000001"}, "source", "synthetic rows are for benchmarks only"),
        ({"id": "med 1"}, "id", "not a valid id"),
        ({"coordinate_precision": "roughly"}, "coordinate_precision", "not one of"),
        ({"coordinate_method": ""}, "coordinate_method", "say where the coordinates come from"),
        ({"osm_id": "123"}, "osm_id", "not an OpenStreetMap id"),
        ({"phone": "call us"}, "phone", "not a phone number"),
        ({"languages": "English"}, "languages", "not a language code"),
    ],
)
def test_a_bad_cell_is_reported_with_file_row_and_field(
    data_dir: Path, table: type[Csv], changes: dict[str, str], field: str, words: str
) -> None:
    # given: the second data row (line 3 of the file) is broken
    table.edit(data_dir / MEDICAL, 1, **changes)

    # when
    problems = _problems(data_dir)

    # then
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.row, p.field) == (MEDICAL, 3, field)
    assert words in p.message
    assert str(p).startswith(f"{MEDICAL} row 3, field '{field}': ")


def test_a_duplicate_id_names_both_rows(data_dir: Path, table: type[Csv]) -> None:
    # given: the medical file reuses an id of the dental file (files are read by name)
    first = table.read(data_dir / "facilities_dental.csv")[0]["id"]
    table.edit(data_dir / MEDICAL, 2, id=first)

    # when
    problems = _problems(data_dir)

    # then
    assert [(p.file, p.row, p.field) for p in problems] == [(MEDICAL, 4, "id")]
    assert f"duplicate id '{first}' (first in facilities_dental.csv row 2)" in problems[0].message


def test_every_problem_of_a_row_is_reported(data_dir: Path, table: type[Csv]) -> None:
    table.edit(data_dir / MEDICAL, 0, name_zh="", district="火星区", verified_on="soon")

    problems = _problems(data_dir)

    assert {(p.row, p.field) for p in problems} == {
        (2, "name_zh"),
        (2, "district"),
        (2, "verified_on"),
    }


def test_header_problems_are_reported_and_the_file_is_not_read(
    data_dir: Path, table: type[Csv]
) -> None:
    rows = table.read(data_dir / MEDICAL)
    for r in rows:
        r["adress_zh"] = r.pop("address_zh")
    table.write(data_dir / MEDICAL, rows)

    problems = _problems(data_dir)

    assert {(p.file, p.row, p.field) for p in problems} == {
        (MEDICAL, 1, "address_zh"),
        (MEDICAL, 1, "adress_zh"),
    }
    assert any("missing from the header" in p.message for p in problems)
    assert any("unknown column" in p.message for p in problems)


def test_a_row_with_the_wrong_number_of_fields_is_reported(data_dir: Path) -> None:
    path = data_dir / MEDICAL
    path.write_text(
        path.read_text(encoding="utf-8") + "med-x,medical,only three\n", encoding="utf-8"
    )

    problems = _problems(data_dir)

    assert [(p.file, p.row) for p in problems] == [(MEDICAL, 6)]
    assert "has 3 fields" in problems[0].message


def test_optional_columns_may_be_left_out(data_dir: Path, table: type[Csv]) -> None:
    rows = table.read(data_dir / MEDICAL)
    for r in rows:
        for col in ("osm_id", "tags", "note", "review_note"):
            del r[col]
    table.write(data_dir / MEDICAL, rows)

    data, problems = check_folder(data_dir, allow_synthetic=False)

    assert problems == []
    assert all(f.tags == () and f.note == "" for f in data.facilities if f.kind.value == "medical")


def test_a_spreadsheet_bom_is_accepted(data_dir: Path) -> None:
    path = data_dir / MEDICAL
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert _problems(data_dir) == []


def test_reference_files_are_checked(data_dir: Path, table: type[Csv]) -> None:
    # given: a district with a bad adcode, a network without a source
    districts = table.read(data_dir / "districts.csv")
    districts[0]["adcode"] = "31"
    table.write(data_dir / "districts.csv", districts)
    networks = table.read(data_dir / "networks.csv")
    networks.append({"id": "other-plan", "name_zh": "其他计划", "name_en": "Other", "source": ""})
    table.write(data_dir / "networks.csv", networks)

    problems = _problems(data_dir)

    assert ("districts.csv", 2, "adcode") in {(p.file, p.row, p.field) for p in problems}
    added = len(networks) + 1  # the appended row's line (the header is line 1)
    assert ("networks.csv", added, "source") in {(p.file, p.row, p.field) for p in problems}
    # rows in the broken district are now in an unknown district: reported as such
    assert all(
        p.file in {"districts.csv", "networks.csv"} or p.field == "district" for p in problems
    )


def test_a_synthetic_network_is_refused_once_not_per_member(
    data_dir: Path, table: type[Csv]
) -> None:
    networks = table.read(data_dir / "networks.csv")
    networks[0]["source"] = "synthetic"
    table.write(data_dir / "networks.csv", networks)

    problems = _problems(data_dir)

    assert [(p.file, p.field) for p in problems] == [("networks.csv", "source")]


def test_a_missing_district_list_is_reported(data_dir: Path) -> None:
    (data_dir / "districts.csv").unlink()

    problems = _problems(data_dir)

    assert problems[0].file == "districts.csv"
    assert "missing" in problems[0].message


def test_read_folder_raises_with_every_problem_readably(data_dir: Path, table: type[Csv]) -> None:
    table.edit(data_dir / MEDICAL, 0, lat="95")
    table.edit(data_dir / "facilities_dental.csv", 0, name_zh="")

    with pytest.raises(InvalidDirectoryData) as info:
        read_folder(data_dir, allow_synthetic=False)

    err = info.value
    assert len(err.problems) == 2
    text = str(err)
    assert "invalid (2 problems)" in text
    assert f"{MEDICAL} row 2, field 'lat/lng'" in text
    assert "facilities_dental.csv row 2, field 'name_zh': missing name" in text


def test_a_long_problem_list_is_shortened_in_the_message(data_dir: Path) -> None:
    problems = [Problem(MEDICAL, i, "lat/lng", "outside China") for i in range(2, 120)]

    text = str(InvalidDirectoryData(data_dir, problems))

    assert text.count("outside China") == InvalidDirectoryData.SHOWN
    assert f"and {len(problems) - InvalidDirectoryData.SHOWN} more" in text


def test_the_future_is_judged_against_today(data_dir: Path, table: type[Csv]) -> None:
    table.edit(data_dir / MEDICAL, 0, verified_on="2026-11-30")

    problems = check_folder(data_dir, allow_synthetic=False, today=date(2026, 11, 29))[1]
    assert [(p.field, p.message) for p in problems] == [
        ("verified_on", "2026-11-30 is in the future")
    ]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _script("validate_data")


class TestScript:
    def test_valid_folder_exits_0_with_a_summary(
        self, script: ModuleType, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert script.main([str(data_dir)]) == 0
        out = capsys.readouterr().out
        assert "valid" in out
        assert "network group-comprehensive (团体综合医疗保障计划): 9 facilities" in out

    def test_invalid_folder_exits_1_listing_problems(
        self,
        script: ModuleType,
        data_dir: Path,
        table: type[Csv],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        table.edit(data_dir / MEDICAL, 2, district="Pudong")

        assert script.main([str(data_dir)]) == 1
        err = capsys.readouterr().err
        assert f"{MEDICAL} row 4, field 'district': unknown district 'Pudong'" in err

    def test_runs_as_a_command(self, data_dir: Path) -> None:
        import subprocess

        done = subprocess.run(
            [sys.executable, "-m", "scripts.validate_data", str(data_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "15 facilities" in done.stdout


class TestProvenanceRules:
    def test_refuses_a_truncated_address(self, data_dir: Path, table: type[Csv]) -> None:
        table.edit(data_dir / MEDICAL, 0, address_zh="上海市浦东新区张衡路528号2号...")

        problems = _problems(data_dir)

        assert [(p.field, "contains '...'" in p.message) for p in problems] == [
            ("address_zh", True)
        ]

    def test_refuses_a_point_outside_the_row_s_district(
        self, data_dir: Path, table: type[Csv]
    ) -> None:
        # given: a Pudong row moved onto People's Square (黄浦区)
        table.edit(data_dir / MEDICAL, 0, lat="31.2310", lng="121.4740")

        problems = _problems(data_dir)

        assert len(problems) == 1
        assert problems[0].field == "district"
        assert "outside 浦东新区's outline (relation/398348)" in problems[0].message

    def test_refuses_two_rows_on_one_point_without_a_shared_building(
        self, data_dir: Path, table: type[Csv]
    ) -> None:
        renji = table.read(data_dir / MEDICAL)
        # given: the two Renji rows say they share their building; one forgets it
        assert renji[1]["building"] == renji[2]["building"] != ""
        table.edit(data_dir / MEDICAL, 2, building="")

        problems = _problems(data_dir)

        assert [(p.field, p.row) for p in problems] == [("building", 4)]
        assert "shares its point with 'med-renji-special-outpatient'" in problems[0].message

    def test_an_area_point_is_shared_only_by_approximate_rows(
        self, data_dir: Path, table: type[Csv]
    ) -> None:
        table.edit(data_dir / "facilities_dental.csv", 0, coordinate_precision="exact")

        problems = _problems(data_dir)

        assert len(problems) == 1 and "district-level point" in problems[0].message

    def test_refuses_a_stated_fact_without_a_recorded_source(
        self, data_dir: Path, table: type[Csv]
    ) -> None:
        table.edit(
            data_dir / MEDICAL, 0, phone="+86 21 1234 5678", opening_hours="Mo-Fr 08:00-17:00"
        )

        problems = _problems(data_dir)

        assert [(p.field, p.message) for p in problems] == [
            ("source", "no source recorded in facts.csv for: phone, opening_hours")
        ]

    def test_refuses_a_fact_row_without_a_source(self, data_dir: Path, table: type[Csv]) -> None:
        facts = table.read(data_dir / "facts.csv")
        facts[0]["source"] = ""
        table.write(data_dir / "facts.csv", facts)

        problems = _problems(data_dir)

        assert ("facts.csv", 2, "source") in [(p.file, p.row, p.field) for p in problems]

    def test_a_search_record_is_not_a_source(self, data_dir: Path, table: type[Csv]) -> None:
        # given: a phone whose only facts.csv row says what was searched, naming an operator
        table.edit(data_dir / MEDICAL, 0, phone="+86 21 1234 5678")
        facts = table.read(data_dir / "facts.csv")
        facts.append(
            {
                "facility_id": "med-shuguang-east-special",
                "field": "phone",
                "source": "public pages of ufh.com.cn and smartshanghai.com",
                "method": "searched: nothing found",
            }
        )
        table.write(data_dir / "facts.csv", facts)

        data, problems = check_folder(data_dir, allow_synthetic=False, require_sources=True)

        assert [(p.field, p.message) for p in problems] == [
            ("source", "no source recorded in facts.csv for: phone")
        ]
        shuguang = next(f for f in data.facilities if f.id == "med-shuguang-east-special")
        assert "operator" not in shuguang.checked_with
        assert "guide" not in shuguang.checked_with

    def test_the_reviewed_lists_must_record_their_sources(self, data_dir: Path) -> None:
        (data_dir / "facts.csv").unlink()

        _, problems = check_folder(data_dir, allow_synthetic=False, require_sources=True)

        assert [(p.file, p.message[:10]) for p in problems] == [("facts.csv", "is missing")]

    def test_the_script_shows_where_each_fact_came_from(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        script = _script("validate_data")

        assert script.main([str(data_dir), "--sources"]) == 0

        out = capsys.readouterr().out
        assert "des-parkway-ruikang" in out
        assert "point: https://en.wikipedia.org/wiki/Tomorrow_Square" in out
