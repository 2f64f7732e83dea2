"""Data flows one way: the edges (schema/, api/, h5/) call server/, never the reverse.

Every import of every module is read from its source (module level, inside functions and
under TYPE_CHECKING alike); nothing is executed. The rules:

- server/ imports nothing from schema/, api/, h5/ or scripts/, and nothing of Starlette,
  Strawberry or graphql-core: services know no HTTP and no GraphQL. server/app.py is the
  one exception: it composes the application from all of them.
- schema/ (GraphQL), api/ (HTTP endpoints) and h5/ (pages) do not import each other,
  except that h5/ may use api/'s HTTP plumbing (the streaming multipart reader).
- No import circle among the project's modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "schema", "api", "h5", "scripts")
COMPOSITION_ROOT = "server.app"
WEB_FRAMEWORKS = ("starlette", "strawberry", "graphql")
# the top-level package -> the project's packages it must not import
FORBIDDEN = {
    "server": ("schema", "api", "h5", "scripts"),
    "schema": ("api", "h5", "scripts"),
    "api": ("schema", "h5", "scripts"),
    "h5": ("schema", "scripts"),
}


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported, as written (resolved when relative)
    path: Path
    line: int

    def __str__(self) -> str:
        where = self.path.relative_to(self.path.parents[self.module.count(".")])
        return f"{self.module} imports {self.target} ({where}:{self.line})"


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of the project's packages by dotted name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: Mapping[str, Path]) -> list[Import]:
    """Each import in the file, anywhere in it; `from a import b` names a.b when b is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, path, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            for alias in node.names:
                name = f"{base}.{alias.name}"
                found.append(Import(module, name if name in known else base, path, node.lineno))
    return found


def project_module(target: str, known: Mapping[str, Path]) -> str | None:
    """The project module an import loads (its longest known prefix), or None."""
    name = target
    while name not in known:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name


def all_imports(root: Path = ROOT) -> tuple[dict[str, Path], list[Import]]:
    known = modules(root)
    return known, [i for m, p in known.items() for i in imports_of(m, p, known)]


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def layer_offences(imports: Iterable[Import]) -> list[str]:
    out: set[str] = set()
    for i in imports:
        top, target_top = _top(i.module), _top(i.target)
        if i.module == COMPOSITION_ROOT:
            continue
        if target_top in FORBIDDEN.get(top, ()) or (
            top == "server" and target_top in WEB_FRAMEWORKS
        ):
            out.add(str(i))
    return sorted(out)


def circles(known: Mapping[str, Path], imports: Iterable[Import]) -> list[list[str]]:
    """The import circles: strongly connected groups of modules (Tarjan, iteratively)."""
    graph: dict[str, set[str]] = {m: set() for m in known}
    for i in imports:
        target = project_module(i.target, known)
        if target is not None:
            graph[i.module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in graph[node]:
                        found.append(sorted(group))
    return found


# --- the project ------------------------------------------------------------------------------


def test_services_know_no_edge_and_the_edges_not_each_other() -> None:
    _known, imports = all_imports()
    offences = layer_offences(imports)
    assert offences == [], "imports against the layering:\n" + "\n".join(offences)


def test_no_import_circle() -> None:
    known, imports = all_imports()
    found = circles(known, imports)
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_walk_sees_every_kind_of_import() -> None:
    known, imports = all_imports()
    assert {"server.db", "schema", "h5.routes", "api.multipart"} <= set(known)
    edges = {(i.module, i.target) for i in imports}
    # module level, relative-free and a function-level one (create_app's route imports)
    assert ("server.claims.core", "server.claims.models") in edges
    assert ("server.app", "h5.routes") in edges


# --- the checks themselves, on a small made-up tree ---------------------------------------------


def _tree(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    _tree(
        tmp_path,
        {
            "server/__init__.py": "",
            "server/app.py": "from schema import build\nfrom h5 import routes\n",
            "server/db.py": "def models():\n    from server.claims import models\n",
            "server/claims/__init__.py": "",
            "server/claims/models.py": "from ..db import Base\n",
            "server/claims/web.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from schema.ids import decode\n"
                "def view():\n    from starlette.responses import Response\n"
            ),
            "schema/__init__.py": "from . import ids\n",
            "schema/ids.py": "import server.claims\n",
            "h5/__init__.py": "",
            "h5/routes.py": "from api.multipart import read\n",
            "api/__init__.py": "",
            "api/multipart.py": "import h5\n",
        },
    )
    return tmp_path


def test_the_checks_find_each_kind_of_offence(bad_tree: Path) -> None:
    known, imports = all_imports(bad_tree)
    offences = layer_offences(imports)
    assert any("server.claims.web imports schema.ids" in o for o in offences)
    assert any("server.claims.web imports starlette.responses" in o for o in offences)
    assert any("api.multipart imports h5 " in o for o in offences)
    assert not any(o.startswith("server.app ") for o in offences)  # the composition root
    assert not any(o.startswith("h5.routes ") for o in offences)  # h5 may use api's plumbing
    assert circles(known, imports) == [["server.claims.models", "server.db"]]
