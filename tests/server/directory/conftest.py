from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from server.settings import ROOT

CURATED = ROOT / "directory_data"
OSM_SOURCES = CURATED / "sources" / "osm_shanghai"


class Csv:
    """Read and rewrite the CSV files of a directory folder in tests."""

    @staticmethod
    def read(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    @staticmethod
    def write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns or list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)

    @classmethod
    def edit(cls, path: Path, row: int, **changes: str) -> None:
        """Change cells of data row ``row`` (0-based)."""
        rows = cls.read(path)
        rows[row].update(changes)
        cls.write(path, rows)


@pytest.fixture
def table() -> type[Csv]:
    return Csv


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the curated CSV files, with the OSM extracts linked in."""
    dest = tmp_path / "data"
    dest.mkdir()
    for path in CURATED.glob("*.csv"):
        shutil.copyfile(path, dest / path.name)
    (dest / "sources").mkdir()
    (dest / "sources" / "osm_shanghai").symlink_to(OSM_SOURCES)
    return dest
