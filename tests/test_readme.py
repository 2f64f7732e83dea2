"""The README's example operations are valid against the schema, and the public ones run."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from schema import build_schema
from server.settings import ROOT
from tests.conftest import GraphQLClient

BLOCKS = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def _operations(block: str) -> list[str]:
    """Split a block into its operations (each starts at a line beginning with query/mutation/{)."""
    ops: list[list[str]] = []
    for line in block.splitlines():
        if line.startswith("#"):
            continue
        if re.match(r"(query|mutation)\b|\{", line):
            ops.append([])
        if ops:
            ops[-1].append(line)
    return ["\n".join(op) for op in ops if "".join(op).strip()]


OPERATIONS = [op for block in BLOCKS for op in _operations(block)]


def test_readme_has_examples() -> None:
    assert len(OPERATIONS) >= 10


@pytest.mark.parametrize("operation", OPERATIONS)
def test_readme_example_is_valid(operation: str) -> None:
    errors = validate(build_schema()._schema, parse(operation))
    assert errors == [], operation


@pytest.mark.parametrize(
    "operation",
    [
        op
        for op in OPERATIONS
        if "facilit" in op
        and "mutation" not in op
        and "viewer" not in op
        and "directBilling" not in op  # signed-in operations
    ],
)
def test_public_readme_examples_run(gql: GraphQLClient, operation: str) -> None:
    body = gql(operation, {})
    assert "errors" not in body, body
