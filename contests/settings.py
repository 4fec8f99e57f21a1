"""One settings object, read from the environment at start-up."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contests.errors import ConfigurationError
from contests.quicknet import (
    QUICKNET_CHAIN_HASH,
    QUICKNET_GENESIS,
    QUICKNET_PERIOD,
    QUICKNET_PUBLIC_KEY,
    QUICKNET_RELAYS,
)

# Used only with DEMO=true, whose data is throwaway; any real run must set SECRET_KEY.
DEMO_SECRET_KEY = "demo-only-not-secret-0123456789abcdef"  # noqa: S105
SIGN_IN_LIMIT = "5/15 minutes"
DEMO_SIGN_IN_LIMIT = "60/15 minutes"


class Settings(BaseSettings):
    """Every setting Gymkana reads; each one is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = "sqlite://data/gymkana.sqlite3"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str = ""
    mail_from: str = "Gymkana <contests@localhost>"
    mail_reply_to: str = ""
    # A worker holds a message it is sending this long; past it, the worker is taken to
    # have died and another sends the message. Longer than one send may take (30 s).
    mail_lease_seconds: int = Field(default=45, ge=1)
    # A worker closing or drawing a contest renews its hold on it every third of this;
    # a worker that died loses it after this long, and the clock hands the work on.
    draw_lease_seconds: int = Field(default=10, ge=2)
    demo: bool = False
    default_locale: str = "es"
    session_idle_minutes: int = Field(default=120, ge=5)
    session_max_hours: int = Field(default=24 * 7, ge=1)
    sign_in_link_minutes: int = Field(default=15, ge=1, le=60)
    visit_link_hours: int = Field(default=24, ge=1)
    # Empty: SIGN_IN_LIMIT, or DEMO_SIGN_IN_LIMIT in the demo (see _sign_in_limit).
    sign_in_limit: str = ""
    code_attempt_limit: str = "10/10 minutes"
    step_client_limit: str = "60/10 minutes"
    beacon_limit: str = "600/minute"
    beacon_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    beacon_batch: int = Field(default=500, ge=1, le=2000)
    beacon_writers: int = Field(default=1, ge=1, le=16)
    visit_status_limit: str = "60/minute"
    message_limit: str = "10/hour"
    queue_name: str = Field(default="gymkana", pattern=r"^[A-Za-z0-9_.:-]+$")
    worker_max_jobs: int = Field(default=50, ge=1)
    worker_poll_delay: float = Field(default=0.05, gt=0)
    verify_batch: int = Field(default=1000, ge=1, le=5000)
    verify_jobs: int = Field(default=2, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_processes: int = Field(default=1, ge=1, le=256)
    public_page_seconds: float = Field(default=2.0, ge=0, le=300)
    trusted_proxies: str = ""
    # The public randomness each new contest names for its draw (contests/beacon.py).
    draw_randomness: str = ""
    drand_chain_hash: str = Field(default=QUICKNET_CHAIN_HASH, pattern=r"^[0-9a-f]{64}$")
    drand_public_key: str = Field(default=QUICKNET_PUBLIC_KEY, pattern=r"^[0-9a-f]{192}$")
    drand_period: int = Field(default=QUICKNET_PERIOD, ge=1)
    drand_genesis: int = Field(default=QUICKNET_GENESIS, ge=0)
    drand_relays: str = ",".join(QUICKNET_RELAYS)
    drand_margin_seconds: int = Field(default=30, ge=0)
    drand_timeout_seconds: float = Field(default=5.0, gt=0)
    drand_attempts: int = Field(default=2, ge=1, le=10)
    media_dir: Path = Path("data/media")
    media_max_bytes: int = Field(default=1_000_000, ge=10_000, le=20_000_000)
    install_check_allow_private: bool = False
    install_check_timeout: float = Field(default=5.0, gt=0, le=60)
    install_check_max_bytes: int = Field(default=2_000_000, ge=10_000, le=50_000_000)
    install_check_limit: str = "10/hour"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "asyncpg", "psql"}:
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("base_url")
    @classmethod
    def _absolute_base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://contests.example.com")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"smtp", "smtps", "smtp+starttls"}:
            raise ValueError("must start with smtp://, smtps:// or smtp+starttls://")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        proxies = [item.strip() for item in value.split(",") if item.strip()]
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network; list the proxies' "
                    "addresses, such as 10.0.0.5,10.1.0.0/16"
                ) from None
        return ",".join(proxies)

    @field_validator("drand_relays")
    @classmethod
    def _relays(cls, value: str) -> str:
        relays = [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
        for relay in relays:
            parts = urlsplit(relay)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ValueError(f"{relay!r} is not an http(s) URL of a drand relay")
        return ",".join(relays)

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in {"es", "en"}:
            raise ValueError("must be es or en")
        return value

    @model_validator(mode="after")
    def _randomness(self) -> Settings:
        # The demo runs offline: its draws use its own local beacon unless told otherwise.
        if not self.draw_randomness:
            object.__setattr__(self, "draw_randomness", "demo" if self.demo else "drand")
        if self.draw_randomness not in {"drand", "demo", "none"}:
            raise ValueError("DRAW_RANDOMNESS must be drand, demo or none")
        if self.draw_randomness == "drand" and not self.drand_relays:
            raise ValueError("DRAND_RELAYS must name at least one relay when DRAW_RANDOMNESS=drand")
        return self

    @model_validator(mode="after")
    def _sign_in_limit(self) -> Settings:
        # Everyone in the demo signs in from one machine: several participants and the
        # marketer would use up a limit meant for one client address.
        if not self.sign_in_limit:
            chosen = DEMO_SIGN_IN_LIMIT if self.demo else SIGN_IN_LIMIT
            object.__setattr__(self, "sign_in_limit", chosen)
        return self

    @model_validator(mode="after")
    def _secret_required(self) -> Settings:
        if not self.secret_key:
            if not self.demo:
                raise ValueError(
                    "SECRET_KEY is required: set it to a long random string "
                    '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            object.__setattr__(self, "secret_key", DEMO_SECRET_KEY)
        elif len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters long")
        return self

    @property
    def origin(self) -> str:
        """The app's origin (scheme, host and port), as a brand site's CSP names it."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def reply_to(self) -> str:
        """Where replies to mail that belongs to no brand (sign-in links) go."""
        return self.mail_reply_to or self.mail_from

    @property
    def mail_captured(self) -> bool:
        """Without SMTP_URL mail stays in the outbox, where the console shows it."""
        return not self.smtp_url

    @property
    def trusted_proxy_list(self) -> list[str]:
        """Addresses whose X-Forwarded-For and X-Forwarded-Proto headers are believed."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @property
    def drand_relay_list(self) -> tuple[str, ...]:
        return tuple(self.drand_relays.split(",")) if self.drand_relays else ()

    def sqlite_path(self) -> Path | None:
        if not self.database_url.startswith("sqlite://"):
            return None
        path = self.database_url.removeprefix("sqlite://")
        return None if path == ":memory:" else Path(path)


def load_settings(**overrides: object) -> Settings:
    """Read the environment; a bad value raises ConfigurationError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "SECRET_KEY"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigurationError("; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
