"""The till's own settings (printer, receipt width), read once at start.

From the environment (``KEDAI_TILL_PRINTER_KIND=network``...) or a settings file,
``$XDG_CONFIG_HOME/kedai/till.env`` (``KEDAI_TILL_SETTINGS_FILE`` names another), in the
same ``KEY=value`` form. Nothing here is a secret; the till's HQ token lives in its
database (mode 0600), not in settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PrinterKind = Literal["none", "file", "network", "usb", "serial"]


def settings_file() -> Path:
    named = os.environ.get("KEDAI_TILL_SETTINGS_FILE")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "kedai" / "till.env"


class TillSettings(BaseSettings):
    """How this till prints. Built once at start (:func:`load_settings`) and passed down."""

    model_config = SettingsConfigDict(env_prefix="KEDAI_TILL_", extra="ignore")

    printer_kind: PrinterKind = "none"
    """``none`` (screen only), ``file`` (append to a text file), ``network`` (ESC/POS over
    TCP), ``usb`` or ``serial`` (ESC/POS on a local device; needs the ``printer`` extra)."""
    printer_address: str = ""
    """``file``: a path; ``network``: ``host`` or ``host:port`` (9100 by default);
    ``usb``: ``vendor:product`` in hex (``04b8:0202``); ``serial``: a device (``/dev/ttyUSB0``)."""
    receipt_width: Annotated[int, Field(ge=24, le=64)] = 42
    """Characters per line: 42 for 80 mm paper in font A, 32 for 58 mm."""
    drawer_kick_on_cash: bool = True
    """Open the cash drawer (pulse on pin 2) after a sale or refund with cash."""
    logo_line: Annotated[str, Field(max_length=64)] = ""
    """A line printed large and bold above the store name (a text logo)."""

    @model_validator(mode="after")
    def _address_given(self) -> TillSettings:
        if self.printer_kind not in ("none",) and not self.printer_address.strip():
            raise ValueError(f"printer_kind {self.printer_kind!r} needs a printer_address")
        return self


def load_settings() -> TillSettings:
    """Environment first, then the settings file (if there is one)."""
    path = settings_file()
    if path.is_file():
        return TillSettings(_env_file=path)
    return TillSettings()
