"""The till installs and runs without the HQ stack (DESIGN: dependency direction)."""

from __future__ import annotations

import subprocess
import sys


def test_till_modules_never_import_hq_or_its_web_stack():
    code = (
        "import sys\n"
        "import terminal.cli, terminal.services.checkout, terminal.services.setup\n"
        "import terminal.services.reference, terminal.services.status, sync.agent\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', "
        "'starlette', 'asyncpg') or m.startswith('hq')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_domain_is_pure():
    """terminal.domain does no I/O: it imports neither the database nor the network."""
    code = (
        "import sys\n"
        "import terminal.domain.cart, terminal.domain.tender, terminal.domain.gst\n"
        "import terminal.domain.loyalty, terminal.domain.money, terminal.domain.receipt_no\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'aiosqlite', 'httpx', 'sqlite3', 'textual')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
