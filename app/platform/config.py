"""One Settings object, read from the environment once at start.

A bad value fails fast with a message naming the variable; secrets never
appear in `repr` or logs.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


def _int(env: dict[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _rate(env: dict[str, str], name: str, default: str) -> str:
    from limits import parse

    value = env.get(name) or default
    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"{name} must look like '100/15minutes', got {value!r}") from None
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    jwt_secret: str = field(default="", repr=False)
    jwt_issuer: str = "gatehouse"
    jwt_audience: str = "gatehouse-api"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600
    password_reset_ttl: int = 900
    cookie_secure: bool = True
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    rate_limit_general: str = "100/15minutes"
    rate_limit_auth: str = "10/minute"
    max_body_bytes: int = 1024 * 1024
    socket_max_message_bytes: int = 64 * 1024
    db_pool_min: int = 2
    db_pool_max: int = 20
    redis_prefix: str = "gatehouse"
    log_level: str = "info"
    log_format: str = "auto"
    event_relay_interval: float = 1.0
    event_relay_grace: float = 30.0
    event_retention_days: int = 7
    firebase_project_id: str | None = None
    firebase_cert_url: str | None = None
    firebase_emulator_host: str | None = None
    notify_webhook_url: str | None = None
    fcm_credentials: str | None = None
    fcm_endpoint: str | None = None
    visitor_escalate_after: float = 60.0
    escalation_interval: float = 1.0
    job_poll_interval: float = 0.5
    run_jobs: bool = True
    allow_insecure_dev: bool = False
    migrate_on_start: bool = True
    principal_cache_seconds: float = 30.0

    @property
    def embedded(self) -> bool:
        """True when the server must start its own PostgreSQL and Redis."""
        return self.database_url is None or self.redis_url is None

    def with_services(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def as_env(self) -> dict[str, str]:
        """The variables that recreate these settings in a child process."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            env[_ENV_NAMES.get(f.name, f.name.upper())] = str(value)
        return env


_ENV_NAMES = {"firebase_emulator_host": "FIREBASE_AUTH_EMULATOR_HOST"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise ConfigError on the first bad value."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR") or ".data")
    database_url = env.get("DATABASE_URL") or None
    redis_url = env.get("REDIS_URL") or None
    if (database_url is None) != (redis_url is None):
        raise ConfigError("set both DATABASE_URL and REDIS_URL, or neither for the embedded servers")
    jwt_secret = env.get("JWT_SECRET") or ""
    if not jwt_secret:
        if database_url is not None:
            raise ConfigError("JWT_SECRET is required when DATABASE_URL and REDIS_URL are set")
        jwt_secret = _embedded_secret(data_dir)
    if len(jwt_secret) < 32:
        raise ConfigError("JWT_SECRET must be at least 32 characters")
    log_format = env.get("LOG_FORMAT", "auto")
    if log_format not in {"auto", "json", "console"}:
        raise ConfigError(f"LOG_FORMAT must be auto, json or console, got {log_format!r}")
    trusted = _list(env, "TRUSTED_PROXIES")
    for proxy in trusted:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"TRUSTED_PROXIES holds {proxy!r}, which is not an IP or CIDR") from None
    origins = _list(env, "CORS_ORIGINS")
    if "*" in origins:
        raise ConfigError("CORS_ORIGINS may not be '*': list the allowed origins")
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 8000, minimum=0),
        workers=_int(env, "WORKERS", 1, minimum=1),
        jwt_secret=jwt_secret,
        jwt_issuer=env.get("JWT_ISSUER") or "gatehouse",
        jwt_audience=env.get("JWT_AUDIENCE") or "gatehouse-api",
        access_token_ttl=_int(env, "ACCESS_TOKEN_TTL", 900, minimum=10),
        refresh_token_ttl=_int(env, "REFRESH_TOKEN_TTL", 30 * 24 * 3600, minimum=60),
        password_reset_ttl=_int(env, "PASSWORD_RESET_TTL", 900, minimum=60),
        cookie_secure=_bool(env, "COOKIE_SECURE", True),
        cors_origins=origins,
        trusted_proxies=trusted,
        rate_limit_general=_rate(env, "RATE_LIMIT_GENERAL", "100/15minutes"),
        rate_limit_auth=_rate(env, "RATE_LIMIT_AUTH", "10/minute"),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
        socket_max_message_bytes=_int(env, "SOCKET_MAX_MESSAGE_BYTES", 64 * 1024, minimum=1024),
        db_pool_min=_int(env, "DB_POOL_MIN", 2, minimum=1),
        db_pool_max=_int(env, "DB_POOL_MAX", 20, minimum=1),
        redis_prefix=env.get("REDIS_PREFIX") or "gatehouse",
        log_level=(env.get("LOG_LEVEL") or "info").lower(),
        log_format=log_format,
        event_relay_interval=_float(env, "EVENT_RELAY_INTERVAL", 1.0),
        event_relay_grace=_float(env, "EVENT_RELAY_GRACE", 30.0),
        event_retention_days=_int(env, "EVENT_RETENTION_DAYS", 7, minimum=1),
        firebase_project_id=env.get("FIREBASE_PROJECT_ID") or None,
        firebase_cert_url=env.get("FIREBASE_CERT_URL") or None,
        firebase_emulator_host=env.get("FIREBASE_AUTH_EMULATOR_HOST") or None,
        notify_webhook_url=env.get("NOTIFY_WEBHOOK_URL") or None,
        fcm_credentials=env.get("FCM_CREDENTIALS") or None,
        fcm_endpoint=env.get("FCM_ENDPOINT") or None,
        visitor_escalate_after=_float(env, "VISITOR_ESCALATE_AFTER", 60.0),
        escalation_interval=_float(env, "ESCALATION_INTERVAL", 1.0),
        job_poll_interval=_float(env, "JOB_POLL_INTERVAL", 0.5),
        run_jobs=_bool(env, "RUN_JOBS", True),
        allow_insecure_dev=_bool(env, "ALLOW_INSECURE_DEV", False),
        migrate_on_start=_bool(env, "MIGRATE_ON_START", True),
        principal_cache_seconds=_float(env, "PRINCIPAL_CACHE_SECONDS", 30.0),
    )
    check(settings)
    return settings


def check(settings: Settings) -> None:
    """Refuse settings that would silently switch security checks off."""
    if settings.log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f"LOG_LEVEL must be debug, info, warning or error, got {settings.log_level!r}")
    if settings.db_pool_min > settings.db_pool_max:
        raise ConfigError("DB_POOL_MIN may not exceed DB_POOL_MAX")
    if not settings.allow_insecure_dev:
        if settings.firebase_emulator_host:
            raise ConfigError(
                "FIREBASE_AUTH_EMULATOR_HOST makes Firebase skip every token check; "
                "set ALLOW_INSECURE_DEV=true to use it in development"
            )
        if settings.firebase_cert_url:
            raise ConfigError("FIREBASE_CERT_URL is for development; set ALLOW_INSECURE_DEV=true to use it")
        if settings.fcm_endpoint:
            raise ConfigError("FCM_ENDPOINT is for development; set ALLOW_INSECURE_DEV=true to use it")


def _embedded_secret(data_dir: Path) -> str:
    """A signing secret kept beside the embedded data, made once."""
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
