"""The till's printer as the UI uses it: documents as plain text, and the cash drawer."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.printing.escpos_out import EscposDocuments, FileDocuments
from terminal.printing.printer import CashDrawer, FilePrinter, PrinterError

pytest.importorskip("escpos")
from escpos.constants import CD_KICK_2  # noqa: E402
from escpos.printer import Dummy  # noqa: E402


def test_an_escpos_printer_prints_text_as_a_document_and_kicks_the_drawer_alone() -> None:
    as_text, as_document = Dummy(), Dummy()
    EscposDocuments(as_text).print_text("X REPORT")
    EscposDocuments(as_document).print_document("X REPORT")
    assert as_text.output == as_document.output  # no drawer kick in a report
    assert CD_KICK_2 not in as_text.output
    drawer = Dummy()
    printer = EscposDocuments(drawer)
    assert isinstance(printer, CashDrawer)
    printer.kick_drawer()
    assert drawer.output == CD_KICK_2  # nothing printed, nothing cut


def test_the_file_printer_writes_documents_and_drawer_opens(tmp_path: Path) -> None:
    roll = tmp_path / "roll.txt"
    printer = FileDocuments(roll)
    assert isinstance(printer, CashDrawer)
    printer.print_text("Z REPORT")
    printer.kick_drawer()
    text = roll.read_text()
    assert text.index("Z REPORT") < text.index("[drawer opened]")


def test_a_plain_receipt_file_has_no_drawer(tmp_path: Path) -> None:
    assert not isinstance(FilePrinter(tmp_path / "r.txt"), CashDrawer)


def test_a_jammed_drawer_is_a_printer_error() -> None:
    class Jammed:
        def cashdraw(self, _: int) -> None:
            raise OSError("jammed")

    with pytest.raises(PrinterError, match="jammed"):
        EscposDocuments(Jammed()).kick_drawer()
