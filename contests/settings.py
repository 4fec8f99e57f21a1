"""One settings object, read from the environment at start-up."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contests.errors import ConfigurationError

# Used only with DEMO=true, whose data is throwaway; any real run must set SECRET_KEY.
DEMO_SECRET_KEY = "demo-only-not-secret-0123456789abcdef"  # noqa: S105


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
    demo: bool = False
    default_locale: str = "es"
    session_idle_minutes: int = Field(default=120, ge=5)
    session_max_hours: int = Field(default=24 * 7, ge=1)
    sign_in_link_minutes: int = Field(default=15, ge=1, le=60)
    visit_link_hours: int = Field(default=24, ge=1)
    sign_in_limit: str = "5/15 minutes"
    code_attempt_limit: str = "10/10 minutes"
    step_client_limit: str = "60/10 minutes"
    beacon_limit: str = "600/minute"
    beacon_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    beacon_batch: int = Field(default=500, ge=1, le=2000)
    beacon_writers: int = Field(default=2, ge=1, le=16)
    visit_status_limit: str = "60/minute"
    queue_name: str = Field(default="gymkana", pattern=r"^[A-Za-z0-9_.:-]+$")
    worker_max_jobs: int = Field(default=50, ge=1)
    worker_poll_delay: float = Field(default=0.05, gt=0)
    verify_batch: int = Field(default=1000, ge=1, le=5000)
    verify_jobs: int = Field(default=2, ge=1)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    trusted_proxies: str = ""

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

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in {"es", "en"}:
            raise ValueError("must be es or en")
        return value

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
