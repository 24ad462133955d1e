"""Documents to an ESC/POS printer through python-escpos, and the printer the settings name.

python-escpos is the ``printer`` extra, imported only when a real device is opened; any
of its printer classes works here (tests use its ``Dummy``, which keeps the bytes). A
printer that is missing or fails raises :class:`PrinterError`; :func:`print_safely` turns
that into a log line and ``False``, because the sale was committed before printing and a
printer must never block or lose it (the screen offers a reprint).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from terminal.printing.printer import FilePrinter, PrinterError
from terminal.printing.settings import TillSettings

log = logging.getLogger(__name__)

DRAWER_PIN = 2
"""Most drawers are wired to pin 2 (python-escpos ``CD_KICK_2``: ESC p 0 50 50)."""


class DocumentPrinter(Protocol):
    def print_document(self, text: str, *, kick_drawer: bool = False) -> None: ...


class EscposDocuments:
    """A rendered document on an ESC/POS device: logo, text, optional drawer kick, cut."""

    def __init__(self, device: Any, *, logo_line: str = "") -> None:
        self.device = device
        self.logo_line = logo_line

    def print_document(self, text: str, *, kick_drawer: bool = False) -> None:
        d = self.device
        try:
            if self.logo_line:
                d.set(align="center", bold=True, double_height=True, double_width=True)
                d.text(self.logo_line + "\n")
                d.set_with_default()
            d.text(text + "\n")
            if kick_drawer:
                d.cashdraw(DRAWER_PIN)
            d.cut()
        except Exception as exc:  # python-escpos raises many unrelated types
            raise PrinterError(f"The receipt printer failed: {exc}") from exc

    def print_text(self, text: str) -> None:
        """A document with no drawer kick (a reprint, an X or Z report): the till's
        :class:`~terminal.printing.printer.ReceiptPrinter`."""
        self.print_document(text)

    def kick_drawer(self) -> None:
        """Open the drawer with nothing printed (an approved no-sale open)."""
        try:
            self.device.cashdraw(DRAWER_PIN)
        except Exception as exc:  # python-escpos raises many unrelated types
            raise PrinterError(f"The cash drawer did not open: {exc}") from exc


class FileDocuments:
    """The ``file`` printer: documents appended to a text file (a drawer kick is a line)."""

    def __init__(self, path: Path) -> None:
        self.file = FilePrinter(path)

    def print_document(self, text: str, *, kick_drawer: bool = False) -> None:
        self.file.print_text(text + ("\n[drawer opened]" if kick_drawer else ""))

    def print_text(self, text: str) -> None:
        self.file.print_text(text)

    def kick_drawer(self) -> None:
        self.file.print_text("[drawer opened]")


def _escpos(kind: str, address: str) -> Any:
    try:
        from escpos import printer as escpos_printer
    except ImportError as exc:
        raise PrinterError("ESC/POS printing needs `pip install kedai[printer]`.") from exc
    try:
        if kind == "network":
            host, _, port = address.partition(":")
            return escpos_printer.Network(host, port=int(port or 9100))
        if kind == "usb":
            vendor, _, product = address.partition(":")
            return escpos_printer.Usb(int(vendor, 16), int(product, 16))
        return escpos_printer.Serial(devfile=address)
    except Exception as exc:  # a bad address or a device that is not there
        raise PrinterError(f"Cannot open the {kind} printer at {address}: {exc}") from exc


def open_printer(settings: TillSettings) -> DocumentPrinter | None:
    """The printer the settings name (None: print nowhere, show on screen only)."""
    if settings.printer_kind == "none":
        return None
    if settings.printer_kind == "file":
        return FileDocuments(Path(settings.printer_address))
    device = _escpos(settings.printer_kind, settings.printer_address)
    return EscposDocuments(device, logo_line=settings.logo_line)


def print_safely(printer: DocumentPrinter | None, text: str, *, kick_drawer: bool = False) -> bool:
    """Print, or log why not; True if it printed. Never raises (the sale is already saved)."""
    if printer is None:
        return False
    try:
        printer.print_document(text, kick_drawer=kick_drawer)
    except PrinterError as exc:
        log.warning("not printed: %s", exc)
        return False
    return True
