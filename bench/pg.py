"""One throwaway PostgreSQL cluster for the whole benchmark run.

Started on first use from the installed server binaries (``initdb`` + ``pg_ctl``, fsync
on, default settings) and stopped by the runner at the end; each benchmark makes its
own databases in it. PostgreSQL refuses to run as root: then the cluster runs as the
``postgres`` system user (``runuser``) in a directory of its own.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.net import free_port


class NoPostgres(Exception):
    """The server binaries are not installed (the benchmark says so and goes on)."""


class Cluster:
    def __init__(self) -> None:
        pg_ctl = shutil.which("pg_ctl") or next(
            iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)), None
        )
        if pg_ctl is None:
            raise NoPostgres("PostgreSQL server binaries (pg_ctl) not found")
        self.bindir = Path(pg_ctl).resolve().parent
        self.home = Path(tempfile.mkdtemp(prefix="kedai-bench-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.home, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.data = self.home / "data"
        self._names = itertools.count(1)
        quiet = subprocess.DEVNULL
        subprocess.run(
            [*self.prefix, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8"],
            stdout=quiet, stderr=quiet, check=True,
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.home} -c max_connections=300"
        )
        subprocess.run(
            [*self._ctl(), "-w", "-l", str(self.home / "log"), "-o", options, "start"],
            stdout=quiet,
            stderr=quiet,
            check=True,
        )
        self.base = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _ctl(self) -> list[str]:
        return [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.data)]

    def create_db(self, stem: str) -> str:
        """A fresh database; returns its SQLAlchemy-style URL (``postgresql://...``)."""
        import psycopg

        name = f"{stem}_{next(self._names)}"
        with psycopg.connect(f"{self.base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [*self._ctl(), "-m", "fast", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(self.home, ignore_errors=True)


_cluster: Cluster | None = None


def cluster() -> Cluster:
    """The run's cluster, started on first use (raises :class:`NoPostgres`)."""
    global _cluster
    if _cluster is None:
        _cluster = Cluster()
        atexit.register(stop)
    return _cluster


def stop() -> None:
    global _cluster
    if _cluster is not None:
        _cluster.stop()
        _cluster = None
