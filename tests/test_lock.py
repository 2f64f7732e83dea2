"""The lock files still satisfy pyproject.toml: after a dependency changed, `make lock` ran."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from server.settings import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def locked(text: str) -> dict[str, Version]:
    """Name -> version of every `name==version` line of a lock file."""
    return {canonicalize_name(name): Version(v) for name, v in PINNED.findall(text)}


def unmet(requirements: list[str], lock: dict[str, Version]) -> list[str]:
    problems = []
    for line in requirements:
        req = Requirement(line)
        version = lock.get(canonicalize_name(req.name))
        if version is None:
            problems.append(f"{req.name} is not locked")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} is outside {req.specifier}")
    return problems


def test_unmet_names_what_is_missing_or_outside_its_range() -> None:
    lock = {"numpy": Version("2.0"), "orjson": Version("3.9")}
    assert unmet(["numpy>=1.26", "orjson>=3.10", "segno>=1.6"], lock) == [
        "orjson==3.9 is outside >=3.10",
        "segno is not locked",
    ]


@pytest.mark.parametrize(
    ("lock_file", "extras"),
    [("requirements.lock", []), ("requirements-test.lock", ["test", "dev"])],
)
def test_the_lock_file_satisfies_pyproject(lock_file: str, extras: list[str]) -> None:
    wanted = PYPROJECT["dependencies"] + [
        r for extra in extras for r in PYPROJECT["optional-dependencies"][extra]
    ]
    text = (ROOT / lock_file).read_text(encoding="utf-8")

    assert unmet(wanted, locked(text)) == [], f"run `make lock` and commit {lock_file}"
    # every pin carries its hashes (pip installs it with --require-hashes)
    hashed = re.findall(r"^\S+==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", text, re.M)
    assert len(hashed) == len(PINNED.findall(text)) > 0
