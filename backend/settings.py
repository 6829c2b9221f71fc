"""Typed settings, read from the environment once.

Every variable is documented in ``infra/env.example``. Tests set the environment before
importing the app; everything else calls :func:`get_settings`.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_ACCESS_TOKEN_TTL_SECONDS = 900
DEFAULT_REDIS_CHANNEL = "careloop:stream"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class SettingsError(RuntimeError):
    """The environment does not describe a configuration we are willing to run."""


@dataclass(frozen=True, slots=True)
class PasswordHashing:
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    max_depth: int = 12
    max_aliases: int = 20
    max_tokens: int = 2000
    max_page_size: int = 100
    max_request_body_bytes: int = 1_048_576


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    max_failures_per_account: int = 5
    max_failures_per_address: int = 30
    window_seconds: int = 900
    lockout_seconds: int = 900


@dataclass(frozen=True, slots=True)
class RealtimeLimits:
    ping_interval_seconds: float = 20.0
    max_backlog: int = 1000
    max_message_bytes: int = 65_536
    max_subscriptions: int = 20
    init_timeout_seconds: float = 10.0
    max_messages_per_second: int = 10
    message_burst: int = 50


@dataclass(frozen=True, slots=True)
class ReferralSettings:
    expiry_interval_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class MessagingSettings:
    min_retention_seconds: int = 3600
    expiry_interval_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class PushSettings:
    service_account_file: Path | None = None
    send_url: str | None = None
    dispatch_in_process: bool = True
    concurrency: int = 50
    max_attempts: int = 6
    lease_seconds: float = 60.0
    backoff_seconds: float = 2.0
    live_grace_seconds: float = 1.5
    idle_poll_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class AutomationSettings:
    """The escalation ladder's runner (backend/automation/runner.py)."""

    in_process: bool = True
    tick_seconds: float = 5.0
    lease_seconds: float = 60.0
    late_seconds: float = 300.0
    batch: int = 200


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """SMTP delivery of the e-mail outbox (backend/email/); no ``smtp_host``: e-mails are logged."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "CareLoop <no-reply@careloop.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 30.0
    dispatch_in_process: bool = True
    max_attempts: int = 8
    lease_seconds: float = 120.0
    backoff_seconds: float = 30.0
    idle_poll_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """The post-visit patient survey: where its links point, how long they last, its key."""

    public_base_url: str = "http://127.0.0.1:8000"
    link_days: int = 14
    delay_minutes: int = 120
    link_key_file: Path | None = None
    posts_per_minute: int = 10


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    database_url: str
    redis_url: str | None
    redis_channel: str
    var_dir: Path
    jwt_private_key_file: Path | None
    jwt_extra_public_keys_file: Path | None
    data_keys_file: Path | None
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    session_max_lifetime_seconds: int
    allowed_origins: tuple[str, ...]
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    log_level: str
    log_json: bool
    postgres_pool_min: int
    postgres_pool_max: int
    rate_limit_per_minute: int
    password_hashing: PasswordHashing = field(default_factory=PasswordHashing)
    graphql_limits: GraphQLLimits = field(default_factory=GraphQLLimits)
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    realtime: RealtimeLimits = field(default_factory=RealtimeLimits)
    referrals: ReferralSettings = field(default_factory=ReferralSettings)
    messaging: MessagingSettings = field(default_factory=MessagingSettings)
    push: PushSettings = field(default_factory=PushSettings)
    automation: AutomationSettings = field(default_factory=AutomationSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    survey: SurveySettings = field(default_factory=SurveySettings)

    @property
    def is_dev(self) -> bool:
        return self.environment is Environment.DEV

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.PROD

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: dict[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name, "").strip() or default).upper()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _path(env: dict[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment) and validate them."""
    env = dict(os.environ if environ is None else environ)
    try:
        environment = Environment(env.get("CARELOOP_ENV", "dev").strip().lower())
    except ValueError as error:
        raise SettingsError("CARELOOP_ENV must be one of dev, test, prod") from error

    var_dir = Path(env.get("CARELOOP_VAR_DIR", "") or PROJECT_ROOT / "var")
    database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{var_dir / 'careloop.sqlite3'}"
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL must be sqlite:///PATH or postgresql://...")

    access_ttl = _int(env, "ACCESS_TOKEN_TTL_SECONDS", 600, minimum=1)
    if access_ttl > MAX_ACCESS_TOKEN_TTL_SECONDS:
        raise SettingsError(f"ACCESS_TOKEN_TTL_SECONDS must not exceed {MAX_ACCESS_TOKEN_TTL_SECONDS}")

    try:
        trusted_proxies = tuple(
            ipaddress.ip_network(item, strict=False) for item in _list(env, "TRUSTED_PROXIES")
        )
    except ValueError as error:
        raise SettingsError("TRUSTED_PROXIES must be a comma-separated list of IPs/CIDRs") from error

    hashing = PasswordHashing(
        time_cost=_int(env, "PASSWORD_HASH_TIME_COST", 3, minimum=1),
        memory_cost_kib=_int(env, "PASSWORD_HASH_MEMORY_KIB", 65536, minimum=8),
        parallelism=_int(env, "PASSWORD_HASH_PARALLELISM", 4, minimum=1),
    )
    limits = GraphQLLimits(
        max_depth=_int(env, "GRAPHQL_MAX_DEPTH", 12, minimum=2),
        max_aliases=_int(env, "GRAPHQL_MAX_ALIASES", 20, minimum=1),
        max_tokens=_int(env, "GRAPHQL_MAX_TOKENS", 2000, minimum=50),
        max_page_size=_int(env, "GRAPHQL_MAX_PAGE_SIZE", 100, minimum=1),
        max_request_body_bytes=_int(env, "MAX_REQUEST_BODY_BYTES", 1_048_576, minimum=1024),
    )
    throttle = LoginThrottle(
        max_failures_per_account=_int(env, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, minimum=1),
        max_failures_per_address=_int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 30, minimum=1),
        window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1),
        lockout_seconds=_int(env, "LOGIN_LOCKOUT_SECONDS", 900, minimum=1),
    )

    realtime = RealtimeLimits(
        ping_interval_seconds=float(_int(env, "WS_PING_INTERVAL_SECONDS", 20, minimum=1)),
        max_backlog=_int(env, "WS_MAX_BACKLOG", 1000, minimum=10),
        max_message_bytes=_int(env, "WS_MAX_MESSAGE_BYTES", 65_536, minimum=1024),
        max_subscriptions=_int(env, "WS_MAX_SUBSCRIPTIONS", 20, minimum=1),
        init_timeout_seconds=float(_int(env, "WS_CONNECTION_INIT_TIMEOUT_SECONDS", 10, minimum=1)),
        max_messages_per_second=_int(env, "WS_MAX_MESSAGES_PER_SECOND", 10, minimum=1),
        message_burst=_int(env, "WS_MESSAGE_BURST", 50, minimum=1),
    )

    referrals = ReferralSettings(
        expiry_interval_seconds=float(_int(env, "REFERRAL_EXPIRY_INTERVAL_MS", 300_000, minimum=50)) / 1000,
    )

    messaging = MessagingSettings(
        min_retention_seconds=_int(env, "MESSAGE_MIN_RETENTION_SECONDS", 3600, minimum=1),
        expiry_interval_seconds=float(_int(env, "MESSAGE_EXPIRY_INTERVAL_MS", 30_000, minimum=50)) / 1000,
    )

    push = PushSettings(
        service_account_file=_path(env, "FCM_SERVICE_ACCOUNT_FILE"),
        send_url=env.get("FCM_SEND_URL", "").strip() or None,
        dispatch_in_process=_choice(env, "PUSH_DISPATCH_IN_PROCESS", "true", ("TRUE", "FALSE")) == "TRUE",
        concurrency=_int(env, "PUSH_CONCURRENCY", 50, minimum=1),
        max_attempts=_int(env, "PUSH_MAX_ATTEMPTS", 6, minimum=1),
        lease_seconds=_int(env, "PUSH_LEASE_MS", 60_000, minimum=100) / 1000,
        backoff_seconds=_int(env, "PUSH_BACKOFF_MS", 2_000, minimum=1) / 1000,
        live_grace_seconds=_int(env, "PUSH_LIVE_GRACE_MS", 1_500, minimum=0) / 1000,
        idle_poll_seconds=_int(env, "PUSH_IDLE_POLL_MS", 1_000, minimum=10) / 1000,
    )

    email = EmailSettings(
        smtp_host=env.get("SMTP_HOST", "").strip() or None,
        smtp_port=_int(env, "SMTP_PORT", 587, minimum=1),
        smtp_from=env.get("SMTP_FROM", "").strip() or "CareLoop <no-reply@careloop.local>",
        smtp_username=env.get("SMTP_USERNAME", "").strip() or None,
        smtp_password=env.get("SMTP_PASSWORD", "") or None,
        smtp_starttls=_choice(env, "SMTP_STARTTLS", "true", ("TRUE", "FALSE")) == "TRUE",
        smtp_timeout_seconds=_int(env, "SMTP_TIMEOUT_MS", 30_000, minimum=100) / 1000,
        dispatch_in_process=_choice(env, "EMAIL_DISPATCH_IN_PROCESS", "true", ("TRUE", "FALSE")) == "TRUE",
        max_attempts=_int(env, "EMAIL_MAX_ATTEMPTS", 8, minimum=1),
        lease_seconds=_int(env, "EMAIL_LEASE_MS", 120_000, minimum=100) / 1000,
        backoff_seconds=_int(env, "EMAIL_BACKOFF_MS", 30_000, minimum=1) / 1000,
        idle_poll_seconds=_int(env, "EMAIL_IDLE_POLL_MS", 5_000, minimum=10) / 1000,
    )
    public_base_url = (env.get("PUBLIC_BASE_URL", "").strip() or "http://127.0.0.1:8000").rstrip("/")
    if not public_base_url.startswith(("http://", "https://")):
        raise SettingsError("PUBLIC_BASE_URL must be an http:// or https:// URL")
    survey = SurveySettings(
        public_base_url=public_base_url,
        link_days=_int(env, "SURVEY_LINK_DAYS", 14, minimum=1),
        delay_minutes=_int(env, "SURVEY_DELAY_MINUTES", 120, minimum=0),
        link_key_file=_path(env, "SURVEY_LINK_KEY_FILE"),
        posts_per_minute=_int(env, "SURVEY_POSTS_PER_MINUTE", 10, minimum=1),
    )

    settings = Settings(
        environment=environment,
        database_url=database_url,
        redis_url=env.get("REDIS_URL", "").strip() or None,
        redis_channel=env.get("REDIS_CHANNEL", "").strip() or DEFAULT_REDIS_CHANNEL,
        var_dir=var_dir,
        jwt_private_key_file=_path(env, "JWT_PRIVATE_KEY_FILE"),
        jwt_extra_public_keys_file=_path(env, "JWT_EXTRA_PUBLIC_KEYS_FILE"),
        data_keys_file=_path(env, "DATA_KEYS_FILE"),
        jwt_issuer=env.get("JWT_ISSUER", "").strip() or "https://careloop.local",
        jwt_audience=env.get("JWT_AUDIENCE", "").strip() or "careloop-mobile",
        access_token_ttl_seconds=access_ttl,
        refresh_token_ttl_seconds=_int(env, "REFRESH_TOKEN_TTL_SECONDS", 14 * 86400, minimum=60),
        session_max_lifetime_seconds=_int(env, "SESSION_MAX_LIFETIME_SECONDS", 30 * 86400, minimum=60),
        allowed_origins=_list(env, "ALLOWED_ORIGINS"),
        trusted_proxies=trusted_proxies,
        log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
        log_json=_choice(
            env, "LOG_FORMAT", "JSON" if environment is Environment.PROD else "CONSOLE", ("JSON", "CONSOLE")
        )
        == "JSON",
        postgres_pool_min=_int(env, "POSTGRES_POOL_MIN", 2, minimum=1),
        postgres_pool_max=_int(env, "POSTGRES_POOL_MAX", 10, minimum=1),
        rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 1200, minimum=1),
        password_hashing=hashing,
        graphql_limits=limits,
        login_throttle=throttle,
        realtime=realtime,
        referrals=referrals,
        messaging=messaging,
        push=push,
        automation=AutomationSettings(
            in_process=_choice(env, "AUTOMATION_IN_PROCESS", "true", ("TRUE", "FALSE")) == "TRUE",
            tick_seconds=float(_int(env, "AUTOMATION_TICK_MS", 5_000, minimum=10)) / 1000,
            lease_seconds=float(_int(env, "AUTOMATION_LEASE_MS", 60_000, minimum=100)) / 1000,
            late_seconds=float(_int(env, "AUTOMATION_LATE_AFTER_SECONDS", 300, minimum=1)),
            batch=_int(env, "AUTOMATION_BATCH", 200, minimum=1),
        ),
        email=email,
        survey=survey,
    )
    _validate_production(settings)
    return settings


def _validate_production(settings: Settings) -> None:
    if not settings.is_prod:
        return
    if settings.jwt_private_key_file is None:
        raise SettingsError("JWT_PRIVATE_KEY_FILE is required in production")
    if settings.uses_sqlite:
        raise SettingsError("production runs on PostgreSQL: set DATABASE_URL=postgresql://...")
    if settings.password_hashing.memory_cost_kib < 19456:
        raise SettingsError("PASSWORD_HASH_MEMORY_KIB below 19456 (OWASP minimum) in production")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
