"""The README's production recipe: its variables are settings, and its start command, as
written there, starts several workers in production mode (PostgreSQL when
TEST_DATABASE_URL is set, else SQLite; Redis when TEST_REDIS_URL is set)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import ROOT, Settings, env_name
from tests.db import _postgres
from tests.serving import serve

SECTION = "## Production: several workers, without containers"
# read by uvicorn itself, not by the settings
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS"}


def recipe() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]


def command(prefix: str) -> list[str]:
    """The recipe's command line that starts with `prefix`, ready to run here."""
    found = [line for line in recipe() if line.startswith(prefix)]
    assert found, f"no {prefix!r} in the README's production recipe"
    argv = shlex.split(found[0])
    assert argv[0] == ".venv/bin/python"
    return [sys.executable, *argv[1:]]


def test_every_exported_variable_is_a_setting() -> None:
    settings = {env_name(f) for f in Settings.model_fields}
    exported = {
        word.split("=", 1)[0]
        for line in recipe()
        if line.startswith("export ")
        for word in shlex.split(line)[1:]
    }
    assert exported
    assert exported - settings - UVICORN_VARIABLES == set()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    env = {}
    redis_url = os.environ.get("TEST_REDIS_URL", "")
    if redis_url:
        env |= {"REDIS_URL": redis_url, "REDIS_PREFIX": f"test-start:{uuid.uuid4().hex[:12]}:"}
    if not url:
        yield env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}"}
        return
    for db in _postgres(url):
        sep = "&" if "?" in url else "?"
        options = urllib.parse.quote(f"-csearch_path={db.schema}")
        yield env | {"DATABASE_URL": f"{url}{sep}options={options}"}
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=env["REDIS_PREFIX"] + "*"):
            client.delete(key)
        client.close()


def test_the_readme_start_command_serves_in_production(
    tmp_path: Path, database: dict[str, str]
) -> None:
    env = {
        **database,
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-secret-of-the-test",
        "ENCRYPTION_KEY": "a-production-key-of-the-test",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "WORKERS": "2",
    }
    environ = {**os.environ, **env, "VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}
    # the migrations and the index, on their own
    prepared = subprocess.run(
        command(".venv/bin/python -m server.serving --prepare-only"),
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=240,
    )
    assert prepared.returncode == 0, prepared.stderr.decode(errors="replace")[-3000:]
    # then the start itself
    start = next(
        argv
        for argv in (shlex.split(line) for line in recipe())
        if argv[1:] == ["-m", "server.serving"]
    )
    assert start[0] == ".venv/bin/python"
    with serve(tmp_path, env=env, command=[sys.executable, *start[1:]]) as served:
        c = served.connection()
        body = json.dumps({"query": "{ facilities(first: 1) { totalCount } }"})
        c.request("POST", "/graphql", body=body, headers={"content-type": "application/json"})
        r = c.getresponse()
        data = json.loads(r.read())
        c.close()
        assert r.status == 200
        assert data["data"]["facilities"]["totalCount"] > 0
        # production logs are JSON lines
        lines = [line for line in served.log_lines() if line.startswith("{")]
        assert lines
        assert all(json.loads(line)["level"] for line in lines)
        # both workers started (each logs its pid once its app is made)
        deadline = time.monotonic() + 60
        while len(_started(served.log_lines())) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(_started(served.log_lines())) == 2


def _started(lines: list[str]) -> set[str]:
    return {
        m.group(1)
        for line in lines
        if line.startswith("{")
        for m in [re.search(r"Started server process \[(\d+)\]", json.loads(line)["message"])]
        if m
    }
