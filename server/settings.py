"""All configuration, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "development"  # development | test | production
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    # Directory data: "curated" serves directory_data/*.csv; "osm" serves the public
    # OpenStreetMap corpus built by scripts/import_osm.py; a path serves that folder.
    directory_source: str = "curated"
    data_dir: Path = ROOT / "directory_data"
    var_dir: Path = ROOT / "var"
    search_engine: str = "whoosh"  # whoosh | tantivy
    database_url: str = ""
    secret_key: str = "dev-only-secret-change-me"
    # Key for personal data at rest; derived from secret_key when empty (see server/crypto.py).
    encryption_key: str = ""
    # Empty: SMS messages go to the development outbox table and the log instead of a gateway.
    sms_gateway_url: str = ""
    # Empty: WeChat login codes are resolved by the development exchanger (see server/wechat.py).
    wechat_api_url: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    # Empty: e-mail is written to the log (address masked) instead of going to a mail server.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # Claim uploads: "local" keeps them under var/uploads (never served directly);
    # "s3" uses an S3-compatible bucket so several servers share them.
    storage_backend: str = "local"
    storage_dir: Path | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    upload_max_mb: int = 10  # one file
    claim_upload_cap_mb: int = 100  # all files of one claim
    # "inprocess": the server delivers the notification outbox itself (development);
    # "off": a separate scripts/run_notifier.py does (production, tests).
    notifier: str = "off"
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 15
    graphql_max_tokens: int = 2000
    graphql_max_fields: int = 500  # field selections once fragments are expanded
    graphql_max_cost: int = 50_000  # see schema/limits.py
    # "fast": schema/execution.py completes plain fields directly; "stock": graphql-core's own
    graphql_executor: str = "fast"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def debug(self) -> bool:
        return self.environment == "development"

    @property
    def graphiql(self) -> bool:
        return self.environment == "development"

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
        return replace(self, **changes)  # type: ignore[arg-type]


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    host = env.get("HOST", "127.0.0.1")
    port = int(env.get("PORT", "8000"))
    var_dir = Path(env.get("VAR_DIR", str(ROOT / "var")))
    data_dir = Path(env.get("DIRECTORY_DATA_DIR", str(ROOT / "directory_data")))
    return Settings(
        environment=env.get("APP_ENV", "development"),
        host=host,
        port=port,
        base_url=env.get("BASE_URL", f"http://{host}:{port}").rstrip("/"),
        directory_source=env.get("DIRECTORY_SOURCE", "curated"),
        data_dir=data_dir,
        var_dir=var_dir,
        search_engine=env.get("SEARCH_ENGINE", "whoosh"),
        database_url=env.get("DATABASE_URL", ""),
        secret_key=env.get("SECRET_KEY", "dev-only-secret-change-me"),
        encryption_key=env.get("ENCRYPTION_KEY", ""),
        sms_gateway_url=env.get("SMS_GATEWAY_URL", ""),
        wechat_api_url=env.get("WECHAT_API_URL", ""),
        wechat_app_id=env.get("WECHAT_APP_ID", ""),
        wechat_app_secret=env.get("WECHAT_APP_SECRET", ""),
        smtp_host=env.get("SMTP_HOST", ""),
        smtp_port=int(env.get("SMTP_PORT", "25")),
        smtp_from=env.get("SMTP_FROM", ""),
        smtp_user=env.get("SMTP_USER", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_starttls=_bool(env.get("SMTP_STARTTLS"), False),
        storage_backend=env.get("STORAGE_BACKEND", "local"),
        storage_dir=Path(env["STORAGE_DIR"]) if env.get("STORAGE_DIR") else None,
        s3_bucket=env.get("S3_BUCKET", ""),
        s3_endpoint_url=env.get("S3_ENDPOINT_URL", ""),
        s3_region=env.get("S3_REGION", ""),
        upload_max_mb=int(env.get("UPLOAD_MAX_MB", "10")),
        claim_upload_cap_mb=int(env.get("CLAIM_UPLOAD_CAP_MB", "100")),
        notifier=env.get(
            "NOTIFIER", "inprocess" if env.get("APP_ENV", "development") == "development" else "off"
        ),
        session_idle_minutes=int(env.get("SESSION_IDLE_MINUTES", "30")),
        session_absolute_hours=int(env.get("SESSION_ABSOLUTE_HOURS", "12")),
        graphql_executor=env.get("GRAPHQL_EXECUTOR", "fast"),
    )
