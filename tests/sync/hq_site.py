"""A real HQ process and real till files, driven through both CLIs, for end-to-end tests.

Reuses the HQ engineer's ``Hq`` handle (``tests/hq/conftest.py``) for reading HQ's
store; adds what the sync tests need beyond it: restarting HQ on the *same* port (the
till stores HQ's URL at enrollment), and running ``kedai-till`` / ``kedai-hq`` as
subprocesses exactly as a person would.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from hq import manage
from tests.hq.conftest import SECRET, Hq, free_port, stop_hq, wait_healthy

TILL = [sys.executable, "-c", "from terminal.cli import main; main()"]
HQ_CLI = [sys.executable, "-m", "hq"]


def run(
    argv: list[str], *, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{argv[3:]} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


@dataclass
class Site:
    """One HQ (SQLite file) on a fixed loopback port, plus the tills enrolled with it."""

    tmp: Path
    port: int = field(default_factory=free_port)
    hq: Hq | None = None
    _codes: int = 0

    @property
    def db_file(self) -> Path:
        return self.tmp / "hq.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.db_file}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Hq:
        log = self.tmp / "hq.log"
        env = {**os.environ, "KEDAI_HQ_SECRET_KEY": SECRET}
        argv = manage.serve_argv(
            database_url=self.database_url, port=self.port, workers=1, access_log=False
        )
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.hq = wait_healthy(Hq("sqlite", self.database_url, self.url, proc, log))
        return self.hq

    def stop(self) -> None:
        if self.hq is not None:
            stop_hq(self.hq)
            self.hq = None

    def seed_demo(self) -> None:
        run([*HQ_CLI, "seed-demo", "--database-url", self.database_url])

    def enroll_till(self, name: str, outlet: str = "DEMO") -> tuple[Path, str]:
        """`kedai-hq enroll` then `kedai-till enroll`; returns (till db, terminal id)."""
        self._codes += 1
        out = run(
            [
                *HQ_CLI,
                "enroll",
                "--outlet",
                outlet,
                "--terminal",
                f"T{self._codes:02d}",
                "--json",
                "--database-url",
                self.database_url,
            ]
        )
        enrolled = json.loads(out.stdout)
        db = self.tmp / f"{name}.db"
        run([*TILL, "enroll", "--server", self.url, "--token", enrolled["token"], "--db", str(db)])
        return db, enrolled["terminal_id"]

    def snapshot(self, to: Path) -> None:
        """A consistent backup of HQ's store (SQLite's online backup API, WAL included)."""
        with closing(sqlite3.connect(self.db_file)) as src, closing(sqlite3.connect(to)) as dst:
            src.backup(dst)

    def restore(self, backup: Path) -> None:
        assert self.hq is None
        for suffix in ("-wal", "-shm"):
            Path(f"{self.db_file}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, self.db_file)

    def scalar(self, sql: str) -> object:
        with closing(sqlite3.connect(self.db_file)) as conn:
            return conn.execute(sql).fetchone()[0]


def till_sync(db: Path) -> subprocess.CompletedProcess[str]:
    return run([*TILL, "sync", "--once", "--db", str(db)], check=False)


def till_status(db: Path) -> dict[str, object]:
    return json.loads(run([*TILL, "status", "--json", "--db", str(db)]).stdout)
