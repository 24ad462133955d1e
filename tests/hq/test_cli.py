"""``kedai-hq`` commands, run as real processes where the process boundary matters."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.events import push_body, sale
from tests.hq.conftest import start_hq, stop_hq

KEDAI_HQ = [sys.executable, "-m", "hq"]


def _run(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*KEDAI_HQ, *args, "--database-url", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_enroll_prints_the_token_once_and_stores_only_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "hq.db"
    out = _run("enroll", "--outlet", "amk", "--terminal", "t01", "--json", db=db)
    assert out.returncode == 0, out.stderr
    enrolled = json.loads(out.stdout)
    assert enrolled["terminal_id"] == "AMK-T01"
    token = enrolled["token"]
    assert len(token) >= 43  # 256 bits, urlsafe base64
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT terminal_id, token_hash FROM terminals").fetchall()
        dump = "\n".join(conn.iterdump())
    assert rows == [("AMK-T01", hashlib.sha256(token.encode()).hexdigest())]
    assert token not in dump
    again = _run("enroll", "--outlet", "AMK", "--terminal", "T01", db=db)
    assert again.returncode != 0 and "already enrolled" in again.stderr
    text = _run("enroll", "--outlet", "AMK", "--terminal", "T01", "--replace", db=db)
    assert text.returncode == 0
    new_token = text.stdout.splitlines()[1].removeprefix("token ")
    assert new_token != token and len(new_token) >= 43


def test_serve_refuses_the_default_secret_outside_demo_mode(tmp_path: Path) -> None:
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("KEDAI_HQ_")}
    out = subprocess.run(
        [*KEDAI_HQ, "serve", "--port", "1", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        env=env_clean,
        timeout=60,
    )
    assert out.returncode != 0
    assert "KEDAI_HQ_SECRET_KEY" in out.stderr
    demo = subprocess.run(
        [*KEDAI_HQ, "serve", "--help"], capture_output=True, text=True, env=env_clean, timeout=60
    )
    assert demo.returncode == 0 and "--workers" in demo.stdout


def test_serve_reports_summary_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "hq.db"
    assert _run("seed-demo", db=db).returncode == 0
    enrolled = json.loads(
        _run("enroll", "--outlet", "DEMO", "--terminal", "T09", "--json", db=db).stdout
    )
    tid, token = enrolled["terminal_id"], enrolled["token"]
    hq = start_hq(tmp_path, f"sqlite:///{db}", "sqlite", workers=1, env=None)
    try:
        with hq.client(token) as c:
            r = c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1), sale(tid, 2)]))
            assert r.status_code == 200
        assert (
            _run(
                "create-admin", "--username", "boss", "--password", "s3cret-pass", db=db
            ).returncode
            == 0
        )
        with httpx.Client(base_url=hq.base_url) as c:
            assert c.get("/v1/reports/summary").status_code == 401
            assert c.get("/v1/reports/summary", auth=("boss", "wrong-pass")).status_code == 401
            api = c.get("/v1/reports/summary", auth=("boss", "s3cret-pass")).json()
    finally:
        code = stop_hq(hq)
    assert code == 0, hq.log.read_text()
    log = hq.log.read_text()
    assert "kedai-hq serving http://127.0.0.1" in log
    assert "Application shutdown complete" in log
    out = _run("report", "summary", "--json", db=db)
    summary = json.loads(out.stdout)
    assert summary["sales_count"] == 2 == api["sales_count"]
    assert summary["sales_total_cents"] == 2 * 1320
    assert summary["loyalty_points_outstanding"] == 480  # the demo customers' opening points
    assert summary["terminals"] == [
        {
            "terminal": "DEMO-T09",
            "contiguous_seq": 2,
            "last_seen_at": summary["terminals"][0]["last_seen_at"],
            "quarantined": 0,
            "revoked": False,
        }
    ]
    assert summary["terminals"][0]["last_seen_at"]
    assert "DEMO-T09" in _run("report", "summary", db=db).stdout


def test_import_catalog_rejects_a_bad_file_with_its_line(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("sku,name,price\nA1,Apple,1.20\nA2,Pear,1.234\n")
    out = _run("import-catalog", str(csv), db=tmp_path / "hq.db")
    assert out.returncode != 0
    assert "line 3" in out.stderr


def test_revoke_unknown_terminal_fails(tmp_path: Path) -> None:
    out = _run("revoke", "--terminal", "NOPE-T1", db=tmp_path / "hq.db")
    assert out.returncode != 0 and "no terminal" in out.stderr


@pytest.mark.postgres
def test_migrate_is_idempotent_on_postgres(postgres_url: str) -> None:
    for _ in range(2):
        out = subprocess.run(
            [*KEDAI_HQ, "migrate", "--database-url", postgres_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "up to date" in out.stdout


def test_multi_worker_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    hq = start_hq(tmp_path, f"sqlite:///{tmp_path / 'hq.db'}", "sqlite", workers=2, env=None)
    assert httpx.get(f"{hq.base_url}/healthz").json()["status"] == "ok"
    hq.proc.send_signal(signal.SIGTERM)
    assert hq.proc.wait(timeout=20) == 0, hq.log.read_text()


def test_database_url_may_be_a_plain_path_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    env = {**os.environ, "KEDAI_HQ_DATABASE_URL": str(db)}
    out = subprocess.run(
        [*KEDAI_HQ, "report", "summary", "--json"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sales_count"] == 0
    assert db.exists()
    for bad in ("postgresql://u@h:notaport/db", "mysql://h/db"):
        env["KEDAI_HQ_DATABASE_URL"] = bad
        out = subprocess.run(
            [*KEDAI_HQ, "report", "summary"], capture_output=True, text=True, env=env
        )
        assert out.returncode != 0
        assert "Traceback" not in out.stderr
        assert "KEDAI_HQ_DATABASE_URL" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
