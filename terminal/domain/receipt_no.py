"""Receipt numbers: ``OUTLET-TERMINAL-NNNNNN``, gapless per terminal."""

from __future__ import annotations


def format_receipt_no(outlet: str, terminal: str, n: int) -> str:
    if n < 1:
        raise ValueError("receipt numbers start at 1")
    return f"{outlet}-{terminal}-{n:06d}"
