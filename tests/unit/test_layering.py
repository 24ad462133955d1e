"""The package graph is one-way (``terminal -> sync <- hq``) and the till is layered.

The rules are import-linter contracts in ``pyproject.toml``; this runs them (so a plain
``pytest`` enforces them, not only ``scripts/check``), proves on a copy of the tree that
they bite, and checks at run time that the till starts without HQ's web stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("terminal", "sync", "hq")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sync/agent/batches.py", "import terminal.services", "never import the till or HQ"),
        ("sync/protocol.py", "import sync.pins", "sync.protocol imports nothing of ours"),
        ("terminal/services/status.py", "import hq", "The till never imports HQ"),
        ("hq/changes.py", "import terminal.db", "HQ never imports the till"),
        ("terminal/domain/money.py", "import sqlalchemy", "domain rules do no I/O"),
        ("terminal/db/engine.py", "import terminal.services.checkout", "Till layers"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree_copy: Path, module: str, line: str, contract: str
) -> None:
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{line}  # added by the test\n")
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_till_starts_without_hq_or_its_web_stack() -> None:
    """At run time too: importing the till's entry points loads no web-stack module."""
    code = (
        "import sys\n"
        "import terminal.cli, terminal.services.checkout, terminal.services.setup\n"
        "import terminal.services.reference, terminal.services.status, sync.agent.agent\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', "
        "'starlette', 'asyncpg', 'hq')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
