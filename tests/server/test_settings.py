"""Settings: read from the environment, validated, refused with one line per problem."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.search.factory import ENGINES
from server.settings import (
    ROOT,
    Environment,
    SearchEngine,
    Settings,
    SettingsError,
    env_name,
    from_env,
    markdown_table,
)

SECRETS = {"SECRET_KEY": "s" * 32, "ENCRYPTION_KEY": "e" * 32}


def problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as info:
        from_env(environ)
    return info.value.problems


def test_defaults_are_a_development_server() -> None:
    s = from_env({})

    assert s.environment is Environment.development
    assert (s.host, s.port, s.base_url) == ("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert (s.search_engine, s.directory_source, s.storage_backend) == (
        "whoosh",
        "curated",
        "local",
    )
    assert s.notifier == "inprocess"
    assert s.data_dir == ROOT / "directory_data"
    assert s.resolved_database_url == f"sqlite:///{ROOT / 'var' / 'app.sqlite3'}"
    assert s.redis_url == ""
    assert s.graphiql


def test_a_cost_budget_below_the_largest_query_is_refused() -> None:
    with pytest.raises(SettingsError) as refused:
        from_env({"GRAPHQL_MAX_COST": "20000", "GRAPHQL_ANONYMOUS_BUDGET": "10000"})
    assert refused.value.problems == [
        "GRAPHQL_ANONYMOUS_BUDGET: must be at least GRAPHQL_MAX_COST (20000): such a query must fit (got '10000')"
    ]


def test_every_variable_is_read(tmp_path: Path) -> None:
    # given a value other than the default for every setting
    environ = {
        "APP_ENV": "production",
        "HOST": "0.0.0.0",
        "PORT": "9000",
        "BASE_URL": "https://care.example.com/",
        "DIRECTORY_SOURCE": str(tmp_path),
        "DIRECTORY_DATA_DIR": str(tmp_path / "data"),
        "VAR_DIR": str(tmp_path / "var"),
        "SEARCH_ENGINE": "tantivy",
        "DATABASE_URL": "postgresql+psycopg://app@db/care",
        "REDIS_URL": "redis://cache:6379/0",
        "SECRET_KEY": "a-secret-of-our-own",
        "ENCRYPTION_KEY": "a-key-of-its-own",
        "SMS_GATEWAY_URL": "https://sms.example.com/send",
        "WECHAT_API_URL": "https://api.weixin.example.com",
        "HOSPITAL_RECORDS_URL": "https://records.example.com/api",
        "HOSPITAL_RECORDS_TIMEOUT": "7",
        "WECHAT_APP_ID": "wx1",
        "WECHAT_APP_SECRET": "wx-secret",
        "SMTP_HOST": "mail.internal",
        "SMTP_PORT": "587",
        "SMTP_FROM": "claims@insurer.example",
        "SMTP_USER": "mailer",
        "SMTP_PASSWORD": "pw",
        "SMTP_STARTTLS": "true",
        "SMTP_TIMEOUT": "12.5",
        "SMS_GATEWAY_TIMEOUT": "2",
        "NOTIFY_CONNECT_TIMEOUT": "1.5",
        "STORAGE_BACKEND": "s3",
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "S3_BUCKET": "claims",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "S3_REGION": "cn-east-2",
        "UPLOAD_MAX_MB": "20",
        "CLAIM_UPLOAD_CAP_MB": "200",
        "INTERNET_OUTPATIENT_URL": "https://outpatient.example/",
        "ECARD_PAYMENT_NOTE": "false",
        "UPLOAD_BODY_TIMEOUT": "120",
        "UPLOAD_MIN_RATE": "4096",
        "UPLOAD_RATE_GRACE": "2.5",
        "NOTIFIER": "inprocess",
        "SESSION_IDLE_MINUTES": "15",
        "SESSION_ABSOLUTE_HOURS": "8",
        "GRAPHQL_MAX_DEPTH": "8",
        "GRAPHQL_MAX_ALIASES": "5",
        "GRAPHQL_MAX_TOKENS": "1000",
        "GRAPHQL_MAX_FIELDS": "300",
        "GRAPHQL_MAX_COST": "20000",
        "GRAPHQL_BUDGET_WINDOW_SECONDS": "30",
        "GRAPHQL_ANONYMOUS_BUDGET": "60000",
        "GRAPHQL_SIGNED_IN_BUDGET": "90000",
        "METRICS_TOKEN": "a-metrics-token",
        "RESPONSE_CACHE_MB": "0",
        "RESPONSE_CACHE_SECONDS": "10",
        "LOG_LEVEL": "warning",
        "GRAPHQL_EXECUTOR": "stock",
        "REDIS_PREFIX": "care:",
        "WORKERS": "4",
        "KEEPALIVE_TIMEOUT_SECONDS": "15",
        "HEADER_TIMEOUT_SECONDS": "20",
        "MAX_CONNECTIONS": "900",
        "STATIC_SITE_DIR": str(tmp_path / "site"),
        "PERSISTED_QUERY_CACHE": "500",
        "GRAPHQL_GET_MAX_AGE": "300",
        "MAP_TILE_URL": "https://tiles.example.com/{z}/{x}/{y}.png",
        "MAP_TILE_ATTRIBUTION": "© Example tiles",
        "DB_STATS": "true",
    }
    assert set(environ) == {env_name(f) for f in Settings.model_fields}

    # when they are read
    s = from_env(environ)

    # then every one is taken (without it the setting differs, or is refused), typed
    for field in Settings.model_fields:
        variable = env_name(field)
        try:
            without = from_env({k: v for k, v in environ.items() if k != variable})
        except SettingsError as e:
            assert [p.split(":")[0] for p in e.problems] == [variable]
            continue
        assert getattr(s, field) != getattr(without, field), variable
    assert s.environment is Environment.production
    assert (s.port, s.smtp_port, s.smtp_starttls) == (9000, 587, True)
    assert s.base_url == "https://care.example.com"
    assert s.storage_dir == tmp_path / "uploads"
    assert (s.graphql_max_depth, s.graphql_max_cost) == (8, 20000)
    assert (s.upload_body_timeout, s.upload_min_rate, s.upload_rate_grace) == (120, 4096, 2.5)


def test_empty_values_count_as_unset() -> None:
    s = from_env({"APP_ENV": "", "PORT": "", "REDIS_URL": "", "STORAGE_DIR": "", "NOTIFIER": ""})

    assert (s.environment, s.port, s.redis_url, s.storage_dir) == ("development", 8000, "", None)
    assert s.notifier == "inprocess"


def test_base_url_follows_host_and_port_unless_given() -> None:
    assert from_env({"HOST": "10.0.0.5", "PORT": "8080"}).base_url == "http://10.0.0.5:8080"
    assert Settings(port=9000).base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize("value", ["prod", "Production", "dev", "staging"])
def test_an_unknown_environment_is_refused_naming_the_allowed_ones(value: str) -> None:
    assert problems({"APP_ENV": value}) == [
        f"APP_ENV: Input should be 'development', 'test' or 'production' (got {value!r})"
    ]


def test_production_needs_its_own_secrets() -> None:
    assert problems({"APP_ENV": "production"}) == [
        "SECRET_KEY: required in production: the development value is public",
        "ENCRYPTION_KEY: required in production: personal data at rest is encrypted with it",
    ]
    assert problems({"APP_ENV": "production", "ENCRYPTION_KEY": "e" * 32}) == [
        "SECRET_KEY: required in production: the development value is public"
    ]
    with pytest.raises(SettingsError, match="SECRET_KEY: required in production"):
        Settings(environment="production", secret_key="", encryption_key="e" * 32)
    same = {"APP_ENV": "production", "SECRET_KEY": "k" * 32, "ENCRYPTION_KEY": "k" * 32}
    assert problems(same) == [
        "ENCRYPTION_KEY: must be a key of its own in production, not SECRET_KEY"
    ]


def test_production_with_its_secrets() -> None:
    s = from_env({"APP_ENV": "production", **SECRETS})

    assert s.environment == "production"
    assert s.notifier == "off"
    assert not s.graphiql and not s.debug


def test_the_development_secrets_are_fine_outside_production() -> None:
    for environment in ("development", "test"):
        assert from_env({"APP_ENV": environment}).encryption_key == ""


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "abc", "Input should be a valid integer"),
        ("PORT", "70000", "Input should be less than or equal to 65535"),
        ("SMTP_PORT", "0", "Input should be greater than or equal to 1"),
        ("UPLOAD_MAX_MB", "-1", "Input should be greater than 0"),
        ("CLAIM_UPLOAD_CAP_MB", "0", "Input should be greater than 0"),
        ("SESSION_IDLE_MINUTES", "0", "Input should be greater than 0"),
        ("SEARCH_ENGINE", "elastic", "Input should be 'whoosh' or 'tantivy'"),
        ("DIRECTORY_SOURCE", "foo", "must be curated, osm or the path of an existing folder"),
        ("STORAGE_BACKEND", "ftp", "Input should be 'local' or 's3'"),
        ("NOTIFIER", "maybe", "Input should be 'inprocess' or 'off'"),
        ("SMTP_STARTTLS", "maybe", "Input should be a valid boolean"),
        ("DATABASE_URL", "postgress://app@db/care", "the scheme given is 'postgress'"),
        ("DATABASE_URL", "mysql://app@db/care", "must start with sqlite:// or postgresql://"),
        ("DATABASE_URL", "var/app.sqlite3", "must start with sqlite:// or postgresql://"),
        ("REDIS_URL", "http://cache:6379", "must start with redis://, rediss:// or unix://"),
        ("BASE_URL", "care.example.com", "must be an http:// or https:// URL"),
        ("SMS_GATEWAY_URL", "sms.example.com", "must be an http:// or https:// URL"),
        ("INTERNET_OUTPATIENT_URL", "www.guahao.com", "must be an http:// or https:// URL"),
        ("GRAPHQL_MAX_DEPTH", "0", "Input should be greater than 0"),
        ("GRAPHQL_MAX_ALIASES", "-3", "Input should be greater than 0"),
        ("GRAPHQL_MAX_TOKENS", "0", "Input should be greater than 0"),
        ("GRAPHQL_MAX_FIELDS", "many", "Input should be a valid integer"),
        ("GRAPHQL_EXECUTOR", "quick", "Input should be 'fast' or 'stock'"),
        ("GRAPHQL_MAX_COST", "0", "Input should be greater than 0"),
        ("SMTP_TIMEOUT", "0", "Input should be greater than 0"),
        ("SMS_GATEWAY_TIMEOUT", "600", "Input should be less than or equal to 120"),
        ("NOTIFY_CONNECT_TIMEOUT", "soon", "Input should be a valid number"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(
    variable: str, value: str, message: str
) -> None:
    [problem] = problems({variable: value})

    assert problem.startswith(f"{variable}: ")
    assert message in problem


def test_s3_needs_a_bucket() -> None:
    assert problems({"STORAGE_BACKEND": "s3"}) == ["S3_BUCKET: required when STORAGE_BACKEND=s3"]


def test_every_problem_is_listed_at_once() -> None:
    environ = {"APP_ENV": "production", "PORT": "abc", "NOTIFIER": "maybe", **SECRETS}

    with pytest.raises(SettingsError) as info:
        from_env(environ)

    assert [p.split(":")[0] for p in info.value.problems] == ["PORT", "NOTIFIER"]
    assert str(info.value).splitlines() == [
        "settings: 2 problem(s)",
        "  PORT: Input should be a valid integer, unable to parse string as an integer (got 'abc')",
        "  NOTIFIER: Input should be 'inprocess' or 'off' (got 'maybe')",
    ]


def test_secrets_are_not_echoed() -> None:
    [problem] = problems({"DATABASE_URL": "mysql://app:hunter2@db/care"})
    assert "hunter2" not in problem

    s = from_env({"APP_ENV": "production", **SECRETS, "SMTP_PASSWORD": "hunter2"})
    assert SECRETS["SECRET_KEY"] not in repr(s) and "hunter2" not in repr(s)


def test_the_search_engines_are_the_factory_s() -> None:
    assert set(typing.get_args(SearchEngine)) == set(ENGINES)


class TestConstruction:
    def test_settings_take_only_what_they_are_given(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PORT", "1234")
        monkeypatch.setenv("APP_ENV", "production")

        assert Settings().port == 8000
        assert Settings(environment="test").environment == "test"
        with pytest.raises(SystemExit, match="SECRET_KEY"):
            from_env()  # the process environment: production without secrets
        monkeypatch.setenv("APP_ENV", "test")
        assert from_env().port == 1234

    def test_settings_are_frozen(self) -> None:
        s = Settings()
        with pytest.raises(ValidationError):
            s.port = 1  # type: ignore[misc]

    def test_constructor_validates(self) -> None:
        with pytest.raises(SettingsError, match="GRAPHQL_MAX_COST: Input should be greater"):
            Settings(graphql_max_cost=0)
        with pytest.raises(SettingsError, match="porte: Extra inputs are not permitted"):
            Settings(porte=80)

    def test_with_changes_some_and_keeps_the_rest(self, tmp_path: Path) -> None:
        s = Settings(environment="test", var_dir=tmp_path, secret_key="k" * 32)

        t = s.with_(graphql_max_depth=3, storage_dir=tmp_path / "up")

        assert (t.graphql_max_depth, t.storage_dir) == (3, tmp_path / "up")
        assert (t.environment, t.var_dir, t.secret_key) == ("test", tmp_path, "k" * 32)
        assert s.graphql_max_depth == 10

    def test_with_validates(self) -> None:
        s = Settings(environment="test")

        with pytest.raises(SettingsError, match="GRAPHQL_MAX_DEPTH"):
            s.with_(graphql_max_depth=0)
        with pytest.raises(SettingsError, match="SEARCH_ENGINE"):
            s.with_(search_engine="elastic")
        with pytest.raises(SettingsError, match="SECRET_KEY"):
            s.with_(environment="production")
        assert s.with_(environment="production", **{k.lower(): v for k, v in SECRETS.items()})


def test_the_readme_table_is_the_settings_class() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"^\| variable \| default \| meaning \|\n(?:\|.*\n)+", readme, re.M)

    assert table, "README.md has no settings table"
    # on a difference: python -m server.settings prints the table to paste into README.md
    assert table.group(0).rstrip("\n") == markdown_table()
    for field in Settings.model_fields:
        assert f"| `{env_name(field)}` |" in table.group(0)


# --- the start paths, as processes ----------------------------------------------------------


def run(args: list[str], tmp_path: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path / "var"), **environ}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


NO_SECRETS = [
    "SECRET_KEY: required in production: the development value is public",
    "ENCRYPTION_KEY: required in production: personal data at rest is encrypted with it",
]
UNKNOWN = ["APP_ENV: Input should be 'development', 'test' or 'production' (got 'prod')"]


@pytest.mark.parametrize(("app_env", "lines"), [("prod", UNKNOWN), ("production", NO_SECRETS)])
def test_the_server_does_not_start(
    tmp_path: Path, unused_port: int, app_env: str, lines: list[str]
) -> None:
    # when uvicorn calls the app factory, as make serve does
    r = run(
        ["-m", "uvicorn", "--factory", "server.app:create_app", "--port", str(unused_port)],
        tmp_path,
        APP_ENV=app_env,
    )

    # then it stops with the problems, one line each, and no traceback
    assert r.returncode != 0
    assert r.stderr.splitlines() == [f"settings: {len(lines)} problem(s)"] + [
        f"  {line}" for line in lines
    ]
    assert "Uvicorn running" not in r.stderr + r.stdout


def test_the_app_factory_stops_with_the_message(tmp_path: Path) -> None:
    r = run(
        ["-c", "from server.app import create_app; create_app()"], tmp_path, APP_ENV="production"
    )

    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines()[1:] == [f"  {line}" for line in NO_SECRETS]


@pytest.mark.parametrize(
    ("environ", "code", "said"),
    [
        ({"APP_ENV": "prod"}, 1, UNKNOWN[0]),
        ({"APP_ENV": "production"}, 1, NO_SECRETS[0]),
        ({"APP_ENV": "production", **SECRETS}, 2, "refusing to load invented people"),
    ],
)
def test_load_demo_refuses_production(
    tmp_path: Path, environ: dict[str, str], code: int, said: str
) -> None:
    r = run(["scripts/load_demo.py"], tmp_path, **environ)

    assert r.returncode == code
    assert said in r.stderr and "Traceback" not in r.stderr
    assert "Demo2026!" not in r.stdout
    assert not (tmp_path / "var" / "app.sqlite3").exists()


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "value",
    [
        "http://tiles.example.com/{z}/{x}/{y}.png",  # not https: the page is
        "https://tiles.example.com/{z}/{x}.png",
        "tiles.example.com/{z}/{x}/{y}.png",
    ],
)
def test_a_map_tile_url_must_be_an_https_template(value: str) -> None:
    (problem,) = problems({"MAP_TILE_URL": value})
    assert problem.startswith("MAP_TILE_URL: ")
    assert "{z}, {x} and {y}" in problem
