"""Real headless Chromium (Debian's ``chromium``) driven by Playwright, against a real
``kedai-hq serve`` that a real till process has synced to.

Playwright is used as a Python library only: its own browser downloads are never
used (``playwright install`` is not needed); the browser is the system's
``/usr/bin/chromium``. Without it (or without the ``playwright`` package) these tests
skip with the reason, unless ``KEDAI_REQUIRE_BROWSER=1`` makes that a failure (CI).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sync.hq_site import HQ_CLI, TILL, Site, run, till_sync

CHROMIUM = os.environ.get("KEDAI_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ENV = "KEDAI_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
OWNER, ACCOUNTANT, PASSWORD = "boss", "books", "back-office-pass"
SALES = 24


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} not found (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    reason = _missing()
    for item in items:
        if here not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.slow)
        if reason is not None:
            if os.environ.get(REQUIRE_ENV) == "1":
                item.add_marker(pytest.mark.usefixtures("_browser_required"))
            else:
                item.add_marker(pytest.mark.skip(reason=f"{reason}; {REQUIRE_ENV}=1 requires it"))


@pytest.fixture(autouse=False)
def _browser_required() -> None:
    pytest.fail(f"{_missing()} and {REQUIRE_ENV}=1")


@dataclass
class Shop:
    """HQ after one real till synced: what the test knows from the till's own events."""

    site: Site
    terminal_id: str
    sales: list[dict[str, Any]]
    """The ``sale.completed`` payloads HQ accepted, as the till sent them."""
    quarantined_seq: int

    @property
    def url(self) -> str:
        return self.site.url


def _sent_sales(till_db: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(till_db)) as conn:
        rows = conn.execute(
            "SELECT payload FROM outbox WHERE type = 'sale.completed' AND status = 'sent' "
            "ORDER BY seq"
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    if _missing() is not None:
        pytest.skip(_missing() or "")
    site = Site(tmp_path_factory.mktemp("browser-hq"))
    site.start()
    try:
        site.seed_demo()
        till_db, terminal_id = site.enroll_till("till")
        assert till_sync(till_db).returncode == 0  # the catalog and cashiers
        run([*TILL, "simulate", "--sales", str(SALES), "--customers", "--seed", "7",
             "--db", str(till_db)])  # fmt: skip
        with closing(sqlite3.connect(till_db)) as conn, conn:
            conn.execute(
                "UPDATE outbox SET payload = json_set(payload, '$.total_cents', 'lots') "
                "WHERE seq = (SELECT max(seq) FROM outbox)"
            )
            poisoned = conn.execute("SELECT max(seq) FROM outbox").fetchone()[0]
        synced = till_sync(till_db)
        assert synced.returncode == 0, synced.stderr
        for name, role in ((OWNER, "owner"), (ACCOUNTANT, "accountant")):
            run([*HQ_CLI, "create-admin", "--username", name, "--password", PASSWORD,
                 "--role", role, "--database-url", site.database_url])  # fmt: skip
        sales = _sent_sales(till_db)
        assert len(sales) == SALES - 1
        yield Shop(site, terminal_id, sales, poisoned)
    finally:
        site.stop()


@pytest.fixture(scope="module")
def browser(shop: Shop) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
