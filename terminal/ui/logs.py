"""The till logs to a file: the screen belongs to the cashier, not to log lines."""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_ENV = "KEDAI_TILL_LOG"


def log_path() -> Path:
    override = os.environ.get(LOG_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kedai" / "till.log"


def setup_logging(level: int = logging.INFO) -> Path:
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return path
