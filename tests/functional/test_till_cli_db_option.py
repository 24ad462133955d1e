"""``--db`` is a group option: it applies whether typed before or after the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TILL = [sys.executable, "-m", "terminal"]


def test_db_typed_before_the_command_is_the_one_opened(tmp_path):
    db = tmp_path / "group.db"
    other = tmp_path / "env.db"
    env = {**os.environ, "KEDAI_TILL_DB": str(other)}

    def till(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TILL, *args], env=env, capture_output=True, text=True, check=True, timeout=120
        )

    till("--db", str(db), "simulate", "--sales", "2")
    assert db.exists() and not other.exists()
    status = json.loads(till("--db", str(db), "status", "--json").stdout)
    assert status["sales_count"] == 2
    assert status["db_path"] == str(db)
    # Typed after the command it still wins over the group's default and the environment.
    assert json.loads(till("status", "--db", str(db), "--json").stdout)["sales_count"] == 2
