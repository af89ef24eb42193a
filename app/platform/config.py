"""One Settings object, read from the environment once at start.

Each setting is declared once, with its default, its variable and its bounds;
`load_settings` reads them all from that declaration, and a test holds
`.env.example` and the README's table to it. A bad value fails fast with a
message naming the variable; secrets never appear in `repr` or logs.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


def _setting(default: Any, *, env: str | None = None, minimum: int | None = None, secret: bool = False) -> Any:
    """A setting's default, and (when not the field's name in capitals) its variable; `minimum` bounds an int."""
    return field(default=default, repr=not secret, metadata={"env": env, "minimum": minimum})


DEFAULT_DATA_DIR = Path(".data")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server reads from its environment."""

    database_url: str | None = _setting(None)
    redis_url: str | None = _setting(None)
    data_dir: Path = _setting(DEFAULT_DATA_DIR)  # noqa: RUF009 - a field(), like the others
    host: str = _setting("127.0.0.1")
    port: int = _setting(8000, minimum=0)
    workers: int = _setting(1, minimum=1)
    jwt_secret: str = _setting("", secret=True)
    jwt_issuer: str = _setting("gatehouse")
    jwt_audience: str = _setting("gatehouse-api")
    access_token_ttl: int = _setting(900, minimum=10)
    refresh_token_ttl: int = _setting(30 * 24 * 3600, minimum=60)
    password_reset_ttl: int = _setting(900, minimum=60)
    # Argon2id's cost; the defaults are RFC 9106's low-memory profile. Argon2 needs 8 KiB per lane (4 lanes).
    password_hash_memory_kib: int = _setting(64 * 1024, minimum=32)
    password_hash_iterations: int = _setting(3, minimum=1)
    cookie_secure: bool = _setting(True)
    cors_origins: tuple[str, ...] = _setting(())
    trusted_proxies: tuple[str, ...] = _setting(())
    rate_limit_general: str = _setting("100/15minutes")
    rate_limit_auth: str = _setting("10/minute")
    rate_limit_account: str = _setting("5/15minutes")
    rate_limit_reset_emails: str = _setting("3/hour")
    rate_limit_invites: str = _setting("10/hour")
    rate_limit_resident_requests: str = _setting("5/day")
    rate_limit_syncs: str = _setting("600/minute")
    rate_limit_uploads: str = _setting("100/hour")
    max_body_bytes: int = _setting(1024 * 1024, minimum=1024)
    upload_max_bytes: int = _setting(5 * 1024 * 1024, minimum=1024)
    socket_max_message_bytes: int = _setting(64 * 1024, minimum=1024)
    socket_connect_timeout: float = _setting(5.0)
    socket_events_per_second: float = _setting(10.0)
    socket_event_burst: int = _setting(30, minimum=1)
    socket_connections_per_address: int = _setting(1000, minimum=1)
    socket_connects_per_second: float = _setting(50.0)
    socket_connect_burst: int = _setting(200, minimum=1)
    socket_send_buffer_bytes: int = _setting(4 * 1024 * 1024, minimum=64 * 1024)
    db_pool_min: int = _setting(2, minimum=1)
    db_pool_max: int = _setting(20, minimum=1)
    redis_prefix: str = _setting("gatehouse")
    log_level: str = _setting("info")
    log_format: str = _setting("auto")
    event_relay_interval: float = _setting(1.0)
    event_relay_grace: float = _setting(30.0)
    event_retention_days: int = _setting(7, minimum=1)
    idempotency_retention_days: int = _setting(7, minimum=1)
    firebase_project_id: str | None = _setting(None)
    firebase_cert_url: str | None = _setting(None)
    firebase_emulator_host: str | None = _setting(None, env="FIREBASE_AUTH_EMULATOR_HOST")
    firebase_http_bearer: bool = _setting(False)
    notify_webhook_url: str | None = _setting(None)
    smtp_host: str | None = _setting(None)
    smtp_port: int = _setting(587, minimum=1)
    smtp_username: str | None = _setting(None)
    smtp_password: str | None = _setting(None, secret=True)
    smtp_security: str = _setting("starttls")
    mail_from: str = _setting("no-reply@gatehouse.localhost")
    public_url: str | None = _setting(None)
    fcm_credentials: str | None = _setting(None)
    fcm_endpoint: str | None = _setting(None)
    stripe_secret_key: str | None = _setting(None, secret=True)
    stripe_webhook_secret: str | None = _setting(None, secret=True)
    stripe_webhook_tolerance: int = _setting(300, minimum=1)
    stripe_api_base: str | None = _setting(None)
    razorpay_key_id: str | None = _setting(None)
    razorpay_key_secret: str | None = _setting(None, secret=True)
    razorpay_webhook_secret: str | None = _setting(None, secret=True)
    razorpay_api_base: str | None = _setting(None)
    visitor_escalate_after: float = _setting(60.0)
    escalation_interval: float = _setting(1.0)
    job_poll_interval: float = _setting(0.5)
    run_jobs: bool = _setting(True)
    allow_insecure_dev: bool = _setting(False)
    migrate_on_start: bool = _setting(True)
    principal_cache_seconds: float = _setting(30.0)
    catalogue_cache_ttl: int = _setting(60, minimum=0)
    metrics_token: str = _setting("", secret=True)

    @property
    def base_url(self) -> str:
        """Where people reach the server, for the links in messages: PUBLIC_URL, else the address it binds."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def embedded(self) -> bool:
        """True when the server must start its own PostgreSQL and Redis."""
        return self.database_url is None or self.redis_url is None

    def with_services(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def as_env(self) -> dict[str, str]:
        """The variables that recreate these settings in a child process."""
        return {env_name(f): env_text(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}


def env_name(f: Field[Any]) -> str:
    return f.metadata.get("env") or f.name.upper()


def env_text(value: Any) -> str:
    """A setting's value as its variable would hold it."""
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _parse(f: Field[Any], name: str, raw: str) -> Any:
    kind = str(f.type)
    if kind == "int":
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        minimum = f.metadata.get("minimum")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value
    if kind == "float":
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if not number > 0:
            raise ConfigError(f"{name} must be positive, got {number}")
        return number
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if kind.startswith("tuple"):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if kind == "Path":
        return Path(raw)
    return raw


def _check_rate(name: str, value: str) -> None:
    from limits import parse

    try:
        parse(value)
    except ValueError:
        raise ConfigError(f"{name} must look like '100/15minutes', got {value!r}") from None


def _check_edge(settings: Settings) -> None:
    """What the HTTP edge is told to trust: proxies, browser origins, rate limits, log format."""
    for proxy in settings.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"TRUSTED_PROXIES holds {proxy!r}, which is not an IP or CIDR") from None
    if "*" in settings.cors_origins:
        raise ConfigError("CORS_ORIGINS may not be '*': list the allowed origins")
    _check_rate("RATE_LIMIT_GENERAL", settings.rate_limit_general)
    _check_rate("RATE_LIMIT_AUTH", settings.rate_limit_auth)
    _check_rate("RATE_LIMIT_ACCOUNT", settings.rate_limit_account)
    _check_rate("RATE_LIMIT_RESET_EMAILS", settings.rate_limit_reset_emails)
    _check_rate("RATE_LIMIT_INVITES", settings.rate_limit_invites)
    _check_rate("RATE_LIMIT_RESIDENT_REQUESTS", settings.rate_limit_resident_requests)
    _check_rate("RATE_LIMIT_SYNCS", settings.rate_limit_syncs)
    _check_rate("RATE_LIMIT_UPLOADS", settings.rate_limit_uploads)
    if settings.log_format not in {"auto", "json", "console"}:
        raise ConfigError(f"LOG_FORMAT must be auto, json or console, got {settings.log_format!r}")
    if settings.smtp_security not in {"starttls", "tls", "none"}:
        raise ConfigError(f"SMTP_SECURITY must be starttls, tls or none, got {settings.smtp_security!r}")
    if "@" not in settings.mail_from:
        raise ConfigError(f"MAIL_FROM must hold an e-mail address, got {settings.mail_from!r}")
    if settings.public_url is not None and not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_URL must start with http:// or https://, got {settings.public_url!r}")


def _with_secret(settings: Settings) -> Settings:
    """A JWT secret: required beside real services, made once in DATA_DIR for the embedded ones."""
    secret = settings.jwt_secret
    if not secret:
        if settings.database_url is not None:
            raise ConfigError("JWT_SECRET is required when DATABASE_URL and REDIS_URL are set")
        secret = _embedded_secret(settings.data_dir)
    if len(secret) < 32:
        raise ConfigError("JWT_SECRET must be at least 32 characters")
    return replace(settings, jwt_secret=secret)


# With the embedded servers, Gatehouse runs on a developer's machine: the address limits are ones a person
# trying the API by hand (and re-running the README's steps) never meets. Set a variable for its real value.
DEVELOPMENT_LIMITS = {"rate_limit_general": "10000/15minutes", "rate_limit_auth": "1000/minute"}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise ConfigError on the first bad value. An empty variable is unset."""
    env = dict(os.environ if env is None else env)
    values = {f.name: _parse(f, env_name(f), env[env_name(f)]) for f in fields(Settings) if env.get(env_name(f))}
    if "database_url" not in values:
        values = {**DEVELOPMENT_LIMITS, **values}
    settings = Settings(**values)
    if (settings.database_url is None) != (settings.redis_url is None):
        raise ConfigError("set both DATABASE_URL and REDIS_URL, or neither for the embedded servers")
    settings = replace(settings, log_level=settings.log_level.lower())
    _check_edge(settings)
    settings = _with_secret(settings)
    check(settings)
    return settings


# OWASP's password storage cheat sheet: Argon2id configurations of equal strength, as (memory KiB, passes).
OWASP_ARGON2 = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


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
        if settings.stripe_api_base:
            raise ConfigError("STRIPE_API_BASE is for development; set ALLOW_INSECURE_DEV=true to use it")
        if settings.razorpay_api_base:
            raise ConfigError("RAZORPAY_API_BASE is for development; set ALLOW_INSECURE_DEV=true to use it")
        memory, passes = settings.password_hash_memory_kib, settings.password_hash_iterations
        if not any(memory >= m and passes >= t for m, t in OWASP_ARGON2):
            raise ConfigError(
                "PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_ITERATIONS are below OWASP's weakest Argon2id "
                "configuration (e.g. 19456 KiB and 2 passes); set ALLOW_INSECURE_DEV=true to use them"
            )
    if settings.firebase_http_bearer and not settings.firebase_project_id:
        raise ConfigError("FIREBASE_HTTP_BEARER needs FIREBASE_PROJECT_ID: the project whose ID tokens are taken")
    if bool(settings.stripe_secret_key) != bool(settings.stripe_webhook_secret):
        raise ConfigError(
            "set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (a payment nobody hears about is never marked paid)"
        )
    razorpay = (settings.razorpay_key_id, settings.razorpay_key_secret, settings.razorpay_webhook_secret)
    if any(razorpay) and not all(razorpay):
        raise ConfigError(
            "set all of RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET, or none of them"
        )


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
