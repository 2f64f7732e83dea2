"""All configuration, read once from the environment and validated (pydantic-settings).

Every setting is one environment variable (`env_name`); a bad value, or a production
server without its own secrets, is refused with one line per problem naming the variable.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import EnvSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

ROOT = Path(__file__).resolve().parent.parent

# The development secret is public: production refuses anything starting so.
DEV_PREFIX = "dev-only"
DEV_SECRET_KEY = f"{DEV_PREFIX}-secret-change-me"


class Environment(enum.StrEnum):
    development = "development"
    test = "test"
    production = "production"


SearchEngine = Literal["whoosh", "tantivy"]
StorageBackend = Literal["local", "s3"]
Notifier = Literal["inprocess", "off"]
GraphQLExecutor = Literal["fast", "stock"]

Port = Annotated[int, Field(ge=1, le=65535)]
Positive = Annotated[int, Field(gt=0)]
Seconds = Annotated[float, Field(gt=0, le=120)]
NonNegative = Annotated[int, Field(ge=0)]

_DATABASE_URL = re.compile(r"(sqlite|postgresql)(\+\w+)?://")
_REDIS_URL = re.compile(r"(redis|rediss|unix)://")
_HTTP_URL = re.compile(r"https?://[^/\s]+")


class SettingsError(ValueError):
    """Settings that cannot be used; `problems` holds one line per problem, naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"settings: {len(problems)} problem(s)\n{lines}")


class Settings(BaseSettings):
    """One frozen, validated configuration. `Settings(...)` takes the given values (by field
    name) over the defaults and never reads the environment: `from_env` does that."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        case_sensitive=False,
        env_ignore_empty=True,
    )

    environment: Environment = Field(
        Environment.development,
        validation_alias="APP_ENV",
        description="`development` (GraphiQL on, notifier in the server), `test`, or `production` (its own `SECRET_KEY` and `ENCRYPTION_KEY` required; demo data refused)",
    )
    host: str = Field("127.0.0.1", description="where `make serve` listens")
    port: Port = Field(8000, description="where `make serve` listens")
    base_url: str = Field(
        "",
        validate_default=True,
        description="absolute links (QR codes, SMS links); unset: `http://HOST:PORT`",
    )
    directory_source: str = Field(
        "curated",
        description="`curated` (`DIRECTORY_DATA_DIR`), `osm` (the public OpenStreetMap corpus) or the path of a folder in the same format",
    )
    data_dir: Path = Field(
        ROOT / "directory_data",
        validation_alias="DIRECTORY_DATA_DIR",
        description="the curated lists",
    )
    var_dir: Path = Field(
        ROOT / "var", description="indexes, imported corpora, uploads, the SQLite file"
    )
    search_engine: SearchEngine = Field(
        "whoosh", description="`whoosh`, or `tantivy` for large directories"
    )
    database_url: str = Field(
        "",
        repr=False,
        description="`sqlite://…` or `postgresql://…` (e.g. `postgresql+psycopg://user@host/db`); unset: SQLite `VAR_DIR/app.sqlite3`",
    )
    redis_url: str = Field(
        "",
        repr=False,
        description="`redis://…`, `rediss://…` or `unix://…`: throttles, budgets and lock-outs count there (see `server/limits/`) and the supplement portal's captchas wait there; unset: in the database",
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        repr=False,
        validate_default=True,
        description="signs links, sessions and CSRF tokens; a value of your own is required in production",
    )
    encryption_key: str = Field(
        "",
        repr=False,
        validate_default=True,
        description="key for personal data at rest; unset: derived from `SECRET_KEY` (not in production, where it is required and must differ from `SECRET_KEY`)",
    )
    sms_gateway_url: str = Field(
        "", description="HTTP SMS gateway; unset: the development outbox table and the log"
    )
    wechat_api_url: str = Field(
        "", description="mini-program login-code exchange; unset: the development stand-in"
    )
    hospital_records_url: str = Field(
        "",
        description="U享赔's hospital visit-records service (server/hospital_records.py); unset: the development stand-in (in production: no records)",
    )
    hospital_records_timeout: Seconds = Field(
        5, description="seconds one look-up at the hospital records service may take in all"
    )
    wechat_app_id: str = Field("", description="mini-program app id")
    wechat_app_secret: str = Field("", repr=False, description="mini-program app secret")
    smtp_host: str = Field("", description="outgoing e-mail server; unset: e-mail goes to the log")
    smtp_port: Port = Field(25, description="outgoing e-mail server port")
    smtp_from: str = Field("", description="sender address of outgoing e-mail")
    smtp_user: str = Field("", description="SMTP user name")
    smtp_password: str = Field("", repr=False, description="SMTP password")
    smtp_starttls: bool = Field(False, description="STARTTLS to the SMTP server")
    smtp_timeout: Seconds = Field(
        30, description="seconds one e-mail may take in all, however slowly the server answers"
    )
    sms_gateway_timeout: Seconds = Field(
        5, description="seconds one SMS may take in all (codes are sent while the member waits)"
    )
    notify_connect_timeout: Seconds = Field(
        3, description="seconds to connect to the SMS gateway or the mail server (and its greeting)"
    )
    storage_backend: StorageBackend = Field(
        "local",
        description="claim uploads: `local` (`STORAGE_DIR`, never served directly) or `s3` (shared by several servers)",
    )
    storage_dir: Path | None = Field(None, description="local uploads; unset: `VAR_DIR/uploads`")
    s3_bucket: str = Field(
        "", validate_default=True, description="the bucket; required when `STORAGE_BACKEND=s3`"
    )
    s3_endpoint_url: str = Field("", description="an S3-compatible endpoint; unset: AWS")
    s3_region: str = Field("", description="the bucket's region")
    upload_max_mb: Positive = Field(10, description="largest upload, one file")
    claim_upload_cap_mb: Positive = Field(100, description="all files of one claim")
    ecard_payment_note: bool = Field(
        True,
        description="show on the electronic direct-billing card that e-card payment is not accepted yet (show the physical card)",
    )
    internet_outpatient_url: str = Field(
        "https://www.guahao.com/",
        description="the third party's internet outpatient booking (微医 WeDoctor), linked out from the services list",
    )
    upload_body_timeout: float = Field(
        600,
        gt=0,
        description="seconds an upload's body (claim uploads, supplement portal) may take in all; past it the answer is 408 `REQUEST_TIMEOUT` and the connection closes",
    )
    upload_min_rate: int = Field(
        1024,
        ge=0,
        description="bytes a second an upload's body must average once `UPLOAD_RATE_GRACE` has passed (else 408 as above); 0: no minimum",
    )
    upload_rate_grace: float = Field(
        10, gt=0, description="seconds an upload's body may take before `UPLOAD_MIN_RATE` applies"
    )
    notifier: Notifier = Field(
        None,
        validate_default=True,
        description="`inprocess`: the server delivers queued SMS and e-mail itself; `off`: run `python -m scripts.run_notifier`; unset: `inprocess` in development, else `off`",
    )
    session_idle_minutes: Positive = Field(
        30, description="sign-in session expiry when idle (members, adjusters, supplement portal)"
    )
    session_absolute_hours: Positive = Field(12, description="sign-in session expiry in any case")
    graphql_max_depth: Positive = Field(10, description="deepest selection a query may have")
    graphql_max_aliases: Positive = Field(15, description="aliases in one query")
    graphql_max_tokens: Positive = Field(2000, description="tokens in one query document")
    graphql_max_fields: Positive = Field(
        500, description="field selections once fragments are expanded"
    )
    graphql_max_cost: Positive = Field(
        50_000, description="most one query may cost (see Query cost)"
    )
    graphql_budget_window_seconds: Positive = Field(
        60, description="the window of the GraphQL cost budgets (see Rate limits)"
    )
    graphql_anonymous_budget: Positive = Field(
        300_000,
        description="query cost one client address may spend per window without signing in or a partner key (every /graphql request, persisted-query GETs too; partner keys have their own); at least `GRAPHQL_MAX_COST`",
    )
    graphql_signed_in_budget: Positive = Field(
        1_000_000,
        description="query cost one sign-in session (member or adjuster) may spend per window; at least `GRAPHQL_MAX_COST`",
    )
    metrics_token: str = Field(
        "",
        repr=False,
        description="bearer token that opens `/metrics` from other than loopback; unset: loopback only",
    )
    response_cache_mb: NonNegative = Field(
        32,
        description="in-process cache of answers to identical anonymous directory queries (per worker, least recently used dropped first); 0: off",
    )
    response_cache_seconds: Positive = Field(
        60,
        description="how long such answers stay in Redis, shared by workers, when `REDIS_URL` is set",
    )
    log_level: str = Field(
        "INFO",
        description="`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`; JSON lines in production, readable lines otherwise",
    )
    graphql_executor: GraphQLExecutor = Field(
        "fast",
        description="`fast`: the leaner executor and plain-POST path (`stock`, with a warning, where the installed Strawberry or graphql-core does not fit it; see `docs/architecture.md`); `stock`: Strawberry's own",
    )

    redis_prefix: str = Field(
        "",
        description="put before every Redis key, so that several deployments (or test runs) can share one Redis",
    )
    workers: Positive = Field(
        1, description="worker processes of the production start (`python -m server.serving`)"
    )
    keepalive_timeout_seconds: Positive = Field(
        5, description="an idle keep-alive connection is closed after this many seconds"
    )
    header_timeout_seconds: Positive = Field(
        10,
        description="a connection that has not sent a whole request head (request line and headers) within this many seconds is closed",
    )
    max_connections: Positive | None = Field(
        None,
        description="open connections per worker, past which new ones get a 503 and are closed; unset: below the descriptor limit (RLIMIT_NOFILE) with a reserve",
    )
    map_tile_url: str = Field(
        "",
        description="the H5 map's optional tile layer under the district outlines: an `https://` template with `{z}`, `{x}` and `{y}` serving WGS-84 Web Mercator tiles (e.g. an OpenStreetMap tile server you may use); unset: outlines only, no tile server",
    )
    map_tile_attribution: str = Field(
        "", description="the credit the tile layer's licence asks for, shown under the map"
    )
    db_stats: bool = Field(
        False,
        description="count SQL statements, commits and connection pings per process, served as JSON at `/_stats/db` (benchmarks; off in production)",
    )

    static_site_dir: Path | None = Field(
        None,
        description="a site built by `python -m scripts.build_static`: served under /h5/ (the app answers what it does not hold); unset: pages rendered per request",
    )
    persisted_query_cache: Positive = Field(
        2000,
        description="automatic persisted queries (Apollo's hash convention) kept per worker; registered ones in `schema/persisted/` always",
    )
    graphql_get_max_age: Positive = Field(
        60,
        description="seconds a CDN or app may keep a public query fetched by GET (Cache-Control)",
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise SettingsError(_problems(e)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the given values: tests build settings that the developer's shell must not
        # change; from_env runs the environment source itself.
        return (init_settings,)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return f"http://{info.data.get('host', '127.0.0.1')}:{info.data.get('port', 8000)}"
        if not _HTTP_URL.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("internet_outpatient_url")
    @classmethod
    def _internet_outpatient_url(cls, value: str) -> str:
        if not _HTTP_URL.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("directory_source")
    @classmethod
    def _directory_source(cls, value: str) -> str:
        value = value.strip()
        if value not in {"curated", "osm"} and not Path(value).is_dir():
            raise ValueError("must be curated, osm or the path of an existing folder")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not _DATABASE_URL.match(value):
            raise ValueError(
                f"must start with sqlite:// or postgresql:// (a driver may follow, as in postgresql+psycopg://); the scheme given is {value.partition(':')[0]!r}"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        levels = ("CRITICAL", "DEBUG", "ERROR", "INFO", "WARNING")
        if value.strip().upper() not in levels:
            raise ValueError(f"must be one of {', '.join(levels)}, not {value!r}")
        return value.strip().upper()

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not _REDIS_URL.match(value):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("sms_gateway_url", "wechat_api_url", "s3_endpoint_url", "hospital_records_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not _HTTP_URL.match(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("graphql_anonymous_budget", "graphql_signed_in_budget")
    @classmethod
    def _budget(cls, value: int, info: ValidationInfo) -> int:
        most = info.data.get("graphql_max_cost")
        if most is not None and value < most:
            raise ValueError(f"must be at least GRAPHQL_MAX_COST ({most}): such a query must fit")
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _map_tile_url(cls, value: str) -> str:
        value = value.strip()
        if value and (
            not value.startswith("https://")
            or not _HTTP_URL.match(value)
            or any(part not in value for part in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("must be an https:// URL template with {z}, {x} and {y}")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str, info: ValidationInfo) -> str:
        production = info.data.get("environment") == Environment.production
        if production and (not value or value.startswith(DEV_PREFIX)):
            raise ValueError("required in production: the development value is public")
        return value

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("environment") != Environment.production:
            return value
        if not value:
            raise ValueError("required in production: personal data at rest is encrypted with it")
        if value.startswith(DEV_PREFIX) or value == info.data.get("secret_key"):
            raise ValueError("must be a key of its own in production, not SECRET_KEY")
        return value

    @field_validator("s3_bucket")
    @classmethod
    def _s3_bucket(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("storage_backend") == "s3":
            raise ValueError("required when STORAGE_BACKEND=s3")
        return value

    @field_validator("notifier", mode="before")
    @classmethod
    def _notifier(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            development = info.data.get("environment") == Environment.development
            return "inprocess" if development else "off"
        return value

    @property
    def debug(self) -> bool:
        return self.environment == Environment.development

    @property
    def graphiql(self) -> bool:
        return self.environment == Environment.development

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "index" / self.search_engine

    @property
    def uploads_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "uploads"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'app.sqlite3'}"

    def with_(self, **changes: object) -> Settings:
        """A copy with `changes` (by field name), validated as a whole again."""
        return Settings(**{**self.model_dump(), **changes})


def env_name(field: str) -> str:
    """The environment variable of a setting (its field name in capitals unless aliased)."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else field.upper()


class _EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of os.environ."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings in `environ` (empty values count as unset).

    Raises `SettingsError` for unusable values. Without `environ` this is a process's
    start-up read of its own environment (the app factory, scripts, migrations): there the
    problems end the process as a message, one line each, instead of a traceback.
    """
    if environ is not None:
        return Settings(**_EnvironSource(environ)())
    try:
        return Settings(**_EnvironSource(os.environ)())
    except SettingsError as e:
        raise SystemExit(str(e)) from None


def _problems(error: ValidationError) -> list[str]:
    by_alias = {
        f.validation_alias: name
        for name, f in Settings.model_fields.items()
        if isinstance(f.validation_alias, str)
    }
    problems = []
    for e in error.errors(include_url=False):
        key = str(e["loc"][0]) if e["loc"] else ""
        field = by_alias.get(key, key)
        variable = env_name(field) if field in Settings.model_fields else key
        message = e["msg"].removeprefix("Value error, ")
        # secrets and URLs that may carry a password (repr=False) are never echoed
        shown = field not in Settings.model_fields or Settings.model_fields[field].repr
        if shown and isinstance(e["input"], str | int) and e["input"] != "":
            message += f" (got {e['input']!r})"
        problems.append(f"{variable}: {message}")
    return problems


def markdown_table() -> str:
    """The README's settings table: one row per variable, its default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `{env_name(name)}` | {_shown(field.default)} | {field.description} |")
    return "\n".join(rows)


def _shown(default: object) -> str:
    if default in ("", None):
        return "unset"
    if isinstance(default, Path):
        default = default.relative_to(ROOT)
    if isinstance(default, bool):
        default = str(default).lower()
    if isinstance(default, enum.Enum):
        default = default.value
    return f"`{default}`"


if __name__ == "__main__":
    print(markdown_table())
