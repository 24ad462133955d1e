"""HQ settings, read once per process from ``KEDAI_HQ_*`` environment variables.

``kedai-hq serve --workers N`` hands settings to its worker processes through the same
environment variables, so a worker builds exactly the settings its parent checked.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    def check_secure(self) -> None:
        """Refuse to serve a real store with the published default secret."""
        if not self.demo and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise InsecureSettingsError(
                "KEDAI_HQ_SECRET_KEY is the built-in demo secret; set a random one "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
                "or run with KEDAI_HQ_DEMO=1 on a demo machine"
            )
