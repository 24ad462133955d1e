"""HQ on PostgreSQL for the harness: a temporary cluster and a Site that uses it.

The cluster comes from the installed server binaries (through tests/hq/pg.py, which
runs them as the ``postgres`` user when the harness runs as root). Backups are
``pg_dump`` custom-format files taken while HQ runs; a restore stops HQ, recreates the
database and ``pg_restore``\\ s the older dump, as an operator would.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.hq.conftest import free_port
from tests.hq.pg import pg_ctl_for_tests
from tests.sync.hq_site import Site

DBNAME = "kedai_chaos"


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        from pytest_postgresql.executors.proc import PostgreSQLExecutor

        pg_ctl = pg_ctl_for_tests()
        if pg_ctl is None:
            raise RuntimeError("PostgreSQL server binaries are not installed")
        self.bin = Path(shutil.which("pg_dump") or _real_bin(pg_ctl, "pg_dump")).parent
        self.port = free_port()
        # The server runs as ``postgres``: its socket directory must be reachable by it.
        self.socket_dir = Path(tempfile.mkdtemp(prefix="kedai-pgsock-"))
        self.socket_dir.chmod(0o777)
        self.executor = PostgreSQLExecutor(
            executable=pg_ctl,
            host="127.0.0.1",
            port=self.port,
            datadir=str(tmp / "pgdata"),
            unixsocketdir=str(self.socket_dir),
            logfile=str(tmp / "pg.log"),
            startparams="-w",
            dbname="postgres",
        )

    def start(self) -> None:
        self.executor.start()
        self.executor.wait_for_postgres()
        self.sql(f"CREATE DATABASE {DBNAME}")

    def stop(self) -> None:
        try:
            self.executor.stop()
        finally:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def url(self, dbname: str = DBNAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(statement)


def _real_bin(pg_ctl: str, name: str) -> str:
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return found[0] if found else name


@dataclass
class PgSite(Site):
    """A :class:`~tests.sync.hq_site.Site` whose HQ stores in PostgreSQL."""

    pg: Postgres | None = None

    @property
    def database_url(self) -> str:
        assert self.pg is not None
        return self.pg.url()

    def snapshot(self, to: Path) -> None:
        assert self.pg is not None
        subprocess.run(
            [str(self.pg.bin / "pg_dump"), "-Fc", "-f", str(to), self.pg.url()],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def restore(self, backup: Path) -> None:
        assert self.hq is None and self.pg is not None
        self.pg.sql(f"DROP DATABASE {DBNAME} WITH (FORCE)")
        self.pg.sql(f"CREATE DATABASE {DBNAME}")
        subprocess.run(
            [str(self.pg.bin / "pg_restore"), "-d", self.pg.url(), str(backup)],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())
