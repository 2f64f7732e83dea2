"""Every pytest fixture in tests/ says what it gives: a return annotation and typed arguments."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_fixture(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return ast.unparse(target) in {"pytest.fixture", "fixture"}


def _untyped_fixtures(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not any(_is_fixture(d) for d in node.decorator_list):
            continue
        args = [a for a in node.args.args + node.args.kwonlyargs if a.arg not in {"self", "cls"}]
        if node.returns is None or any(a.annotation is None for a in args):
            found.append(f"{node.name} (line {node.lineno})")
    return found


def test_the_check_finds_an_untyped_fixture() -> None:
    source = (
        "import pytest\n"
        "@pytest.fixture\ndef a(tmp_path): ...\n"
        "@pytest.fixture(scope='session')\ndef b() -> int: ...\n"
        "@pytest.fixture(scope='session')\ndef c(): ...\n"
    )
    assert _untyped_fixtures(source) == ["a (line 3)", "c (line 7)"]


def test_every_fixture_is_typed() -> None:
    untyped = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := _untyped_fixtures(path.read_text(encoding="utf-8")))
    }
    assert untyped == {}
