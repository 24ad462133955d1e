"""HQ settings, read once per process from ``KEDAI_HQ_*`` environment variables.

``kedai-hq serve --workers N`` hands settings to its worker processes through the same
environment variables, so a worker builds exactly the settings its parent checked.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hq.db import DatabaseUrlError, database_url

DEFAULT_SECRET = "kedai-demo-insecure-secret"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///kedai-hq.db"


class InsecureSettingsError(ValueError):
    """The settings are fine for a demo but must not run a real store."""


class Settings(BaseSettings):
    """Everything an HQ process needs to know; built once at start and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="KEDAI_HQ_", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL. ``sqlite:///path`` (embedded default) or ``postgresql://...``;
    the async driver (aiosqlite / asyncpg) is filled in when missing."""
    demo: bool = False
    """Demo mode: allows the built-in secret, for ``kedai-till demo`` on loopback."""
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    """Signs admin dashboard sessions. Must be set outside demo mode."""
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Largest request body accepted, both as sent and after gzip decompression (413)."""
    changes_page_max: int = Field(default=1000, gt=0)
    """Largest page ``GET /v1/sync/changes`` returns, whatever ``limit`` asks for."""
    changes_page_max_bytes: int = Field(default=1024 * 1024, ge=4096)
    """Largest page of the change feed in bytes of JSON (a page holds at least one change)."""
    header_timeout: float = Field(default=10.0, gt=0)
    """Seconds a request's head (request line and headers) may take to arrive."""
    body_timeout: float = Field(default=30.0, gt=0)
    """Seconds a request's whole body may take to arrive (408 after)."""
    terminal_concurrency: int = Field(default=4, gt=0)
    """Requests one terminal may have in progress at once, per worker (429 beyond)."""
    api_docs: bool = False
    """Serve the interactive API docs (``/docs``, ``/redoc``); ``/openapi.json`` is
    always served, for tills and tools."""
    db_pool_size: int = Field(default=5, gt=0)
    """Connections per worker process (PostgreSQL)."""
    timezone: str = "Asia/Singapore"
    """The shops' local time: "today", days and hours in the back office are counted in it."""
    silent_till_minutes: int = Field(default=60, gt=0)
    """The dashboard warns about a till HQ has not heard from for longer than this."""
    session_hours: int = Field(default=12, gt=0)
    """An admin's browser session ends this long after log-in."""
    password_hash_concurrency: int = Field(default=2, gt=0)
    """Admin password checks (argon2id, 64 MiB each) allowed at once per worker process."""
    login_slow_after: int = Field(default=3, gt=0)
    """Failed log-ins (per username, and per address x 5) before each further try waits."""
    login_lock_after: int = Field(default=10, gt=0)
    """Failed log-ins (per username, and per address x 5) that lock the key."""
    login_lock_minutes: int = Field(default=15, gt=0)
    """How long a locked username or address stays locked."""

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return database_url(value)

    def check_secure(self) -> None:
        """Refuse to serve a real store with the published default secret."""
        if not self.demo and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise InsecureSettingsError(
                "KEDAI_HQ_SECRET_KEY is the built-in demo secret; set a random one "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                "or run with KEDAI_HQ_DEMO=1 on a demo machine"
            )


def load_settings(**overrides: object) -> Settings:
    """Build the settings; a bad value becomes one :class:`SettingsError` line, no traceback."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(x) for x in first.get("loc", ())) or "settings"
        message = str(first.get("ctx", {}).get("error") or first.get("msg", ""))
        raise SettingsError(f"KEDAI_HQ_{field.upper()}: {message}") from None


class SettingsError(ValueError):
    """A setting (from the environment or an option) that HQ cannot use."""


__all__ = ["DatabaseUrlError", "InsecureSettingsError", "Settings", "SettingsError"]
