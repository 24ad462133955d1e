"""Sending a rendered receipt somewhere: a file (tests, no printer) or an ESC/POS printer.

``python-escpos`` is an optional dependency (the ``printer`` extra): it is imported only
when an :class:`EscposPrinter` is made, and a missing package is a clear error then.
Printing is blocking I/O; the UI calls :meth:`ReceiptPrinter.print_text` from a thread
worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class PrinterError(Exception):
    """The receipt could not be printed (the sale itself is already saved)."""


@runtime_checkable
class ReceiptPrinter(Protocol):
    def print_text(self, text: str) -> None: ...


@runtime_checkable
class CashDrawer(Protocol):
    """A printer with a cash drawer on it (an ESC/POS drawer port, or the ``file`` roll)."""

    def kick_drawer(self) -> None: ...


class FilePrinter:
    """Appends each receipt to a text file (a paper roll you can grep)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def print_text(self, text: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(text + "\n\n" + "=" * 42 + "\n\n")
        except OSError as exc:
            raise PrinterError(f"Could not write the receipt to {self.path}: {exc}") from exc


class EscposPrinter:
    """A USB/network/serial ESC/POS printer via python-escpos (``pip install kedai[printer]``)."""

    def __init__(self, device: Any) -> None:
        self.device = device

    @classmethod
    def network(cls, host: str, port: int = 9100) -> EscposPrinter:
        try:
            from escpos.printer import Network
        except ImportError as exc:
            raise PrinterError("ESC/POS printing needs `pip install kedai[printer]`.") from exc
        return cls(Network(host, port=port))

    def print_text(self, text: str) -> None:
        try:
            self.device.text(text + "\n")
            self.device.cut()
        except Exception as exc:  # python-escpos raises many unrelated types
            raise PrinterError(f"The receipt printer failed: {exc}") from exc
