from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from server.directory import osm
from server.directory.loader import load_directory
from server.directory.models import FacilityKind
from server.directory.validation import check_folder
from server.settings import ROOT, Settings

SOURCES = ROOT / "directory_data" / "sources" / "osm_shanghai"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return importlib.import_module("scripts.generate_synthetic")


@pytest.fixture(scope="module")
def folder(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("syn") / "n500"
    gen.generate(500, out, seed=11)
    return out


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "facilities.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_writes_the_requested_number_of_synthetic_rows(folder: Path) -> None:
    rows = _rows(folder)

    assert len(rows) == 500
    assert len({r["id"] for r in rows}) == 500
    assert all(r["id"].startswith("syn-") and r["source"] == "synthetic" for r in rows)
    assert {r["kind"] for r in rows} == {"medical", "dental", "designated"}
    assert all(r["city"] == "上海" and r["district"] for r in rows)


def test_the_same_seed_gives_the_same_bytes(gen: ModuleType, folder: Path, tmp_path: Path) -> None:
    gen.generate(500, tmp_path / "same", seed=11)
    gen.generate(500, tmp_path / "other", seed=12)

    mine = (folder / "facilities.csv").read_bytes()
    assert (tmp_path / "same" / "facilities.csv").read_bytes() == mine
    assert (tmp_path / "other" / "facilities.csv").read_bytes() != mine


def test_every_point_is_inside_its_district(folder: Path) -> None:
    outlines = osm.load_district_outlines(SOURCES / osm.DISTRICTS_FILE)

    for r in _rows(folder):
        assert osm.district_at(outlines, float(r["lat"]), float(r["lng"])) == r["district"], r["id"]


def test_names_and_streets_come_from_the_osm_corpus(gen: ModuleType, folder: Path) -> None:
    vocab = gen.build_vocabulary(SOURCES, ROOT / "directory_data")
    assert "仁济" in vocab.prefixes
    assert "宛平南路" in vocab.streets
    for r in _rows(folder)[:50]:
        assert any(r["name_zh"].startswith(p) for p in vocab.prefixes)
        assert any(s in r["address_zh"] for s in vocab.streets)


def test_loads_through_the_loader_outside_production(folder: Path, tmp_path: Path) -> None:
    settings = Settings(environment="test", directory_source=str(folder), var_dir=tmp_path)

    directory = load_directory(settings)

    assert len(directory) == 500
    assert directory.attribution == ""
    assert {n.id for n in directory.networks} == {"syn-net-1", "syn-net-2", "syn-net-3"}
    dental = [f for f in directory.facilities if f.kind is FacilityKind.DENTAL]
    assert dental and all(d.zh == "齿科" for f in dental for d in f.departments)


def test_the_validator_refuses_synthetic_rows_as_real_data(folder: Path) -> None:
    _, problems = check_folder(folder, allow_synthetic=False)

    rows = {p.row for p in problems if p.file == "facilities.csv" and p.field == "source"}
    assert len(rows) == 500
    assert {p.field for p in problems if p.file == "networks.csv"} == {"source"}


def test_vectorised_point_in_polygon_agrees_with_the_scalar_test(gen: ModuleType) -> None:
    outlines = osm.load_district_outlines(SOURCES / osm.DISTRICTS_FILE)
    rng = np.random.default_rng(5)
    for outline in outlines[:6]:
        x0, y0, x1, y1 = outline.bbox
        xs, ys = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)

        fast = gen.points_inside(outline.polygons, xs, ys)

        slow = [outline.contains(y, x) for x, y in zip(xs, ys, strict=True)]
        assert fast.tolist() == slow, outline.zh


def test_the_command_refuses_the_curated_folder(gen: ModuleType) -> None:
    with pytest.raises(SystemExit):
        gen.main(["--count", "10", "--out", str(ROOT / "directory_data")])
    with pytest.raises(SystemExit):
        gen.main(["--count", "0", "--out", "/tmp/unused"])


def test_the_command_writes_a_folder(
    gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen.main(["--count", "50", "--out", str(tmp_path / "x"), "--seed", "1"]) == 0

    assert "wrote 50 synthetic facilities" in capsys.readouterr().out
    assert len(_rows(tmp_path / "x")) == 50
    assert (tmp_path / "x" / "SYNTHETIC.txt").is_file()
