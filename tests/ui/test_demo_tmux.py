"""`kedai-till demo` in a real terminal (tmux): log in, scan, pay, find the receipt.

Marked slow: it starts a real ``kedai-hq serve``. Skipped when tmux is missing, unless
``KEDAI_REQUIRE_TMUX=1`` (CI), where a missing tmux is a failure.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SESSION = "kedai-demo-test"


def _tmux(sock: str, *args: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", sock, *args], capture_output=True, text=True, timeout=20, check=True
    )
    return done.stdout


def _wait_for(sock: str, needle: str, timeout: float = 45) -> str:
    deadline = time.monotonic() + timeout
    pane = ""
    while time.monotonic() < deadline:
        pane = _tmux(sock, "capture-pane", "-p", "-t", SESSION)
        if needle in pane:
            return pane
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the pane shows:\n{pane}")


@pytest.fixture
def tmux_socket(tmp_path: Path):
    if shutil.which("tmux") is None:
        if os.environ.get("KEDAI_REQUIRE_TMUX") == "1":
            pytest.fail("tmux is required (KEDAI_REQUIRE_TMUX=1) but not installed")
        pytest.skip("tmux is not installed")
    sock = f"kedai-{os.getpid()}-{tmp_path.name}"
    try:
        yield sock
    finally:  # the demo (and its HQ) must not outlive the test, whatever happened
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, timeout=20)


def test_demo_sale_in_tmux(tmp_path: Path, tmux_socket: str) -> None:
    demo_dir = tmp_path / "demo"
    done_file = tmp_path / "exit-code"
    home = tmp_path / "home"
    command = (
        f"cd {tmp_path} && env HOME={home} XDG_DATA_HOME={home}/share "
        f"XDG_STATE_HOME={home}/state XDG_CONFIG_HOME={home}/config TERM=xterm-256color "
        f"{sys.executable} -c 'from terminal.cli import main; main()' demo --dir {demo_dir} "
        f"--keep; echo $? > {done_file}; sleep 60"
    )
    _tmux(tmux_socket, "new-session", "-d", "-s", SESSION, "-x", "120", "-y", "36", command)
    try:
        _tmux(tmux_socket, "resize-window", "-t", SESSION, "-x", "120", "-y", "36")
        _wait_for(tmux_socket, "Kedai Demo Mart", timeout=90)  # HQ up, till synced, login painted
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "1234", "Enter")
        _wait_for(tmux_socket, "opening float")
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "Enter")
        _wait_for(tmux_socket, "Scan/SKU")
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "8880000000019", "Enter")
        _wait_for(tmux_socket, "TOTAL S$         3.30")  # HQ's demo item on that barcode
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "F9")
        _wait_for(tmux_socket, "PAYMENT")
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "5", "Enter")
        pane = _wait_for(tmux_socket, "DEMO-T01-000001")
        assert "GST Reg No: M90312345X" in pane
        assert "GST 9% included" in pane and "0.27" in pane
        assert "CHANGE DUE  S$1.70" in pane

        # The agent was nudged by the sale: HQ acknowledges it without anyone asking.
        till = sqlite3.connect(demo_dir / "till.db")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses = [
                r[0]
                for r in till.execute("SELECT status FROM outbox WHERE type = 'sale.completed'")
            ]
            if statuses == ["sent"]:
                break
            time.sleep(0.3)
        till.close()
        assert statuses == ["sent"]
        _tmux(tmux_socket, "send-keys", "-t", SESSION, "Enter")
        _wait_for(tmux_socket, "online")

        _tmux(tmux_socket, "send-keys", "-t", SESSION, "C-q")
        deadline = time.monotonic() + 30
        while not done_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        pane = _tmux(tmux_socket, "capture-pane", "-p", "-t", SESSION)
        assert done_file.exists(), f"the demo did not exit within 30 s of Ctrl+Q:\n{pane}"
        assert done_file.read_text().strip() == "0", pane
        hq_log = (demo_dir / "hq.log").read_text()
        assert "Finished server process" in hq_log  # HQ was stopped cleanly, not killed
    finally:
        subprocess.run(
            ["tmux", "-L", tmux_socket, "kill-session", "-t", SESSION],
            capture_output=True,
            timeout=20,
        )
