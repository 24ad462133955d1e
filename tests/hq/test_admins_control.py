"""An owner's control of the other admins on the real HQ app in-process, on SQLite and
PostgreSQL: every admin's API tokens listed (never a secret) and revocable, after which
the token gets a 401; a deactivated admin's session is gone and they cannot log in again
until reactivated; nobody deactivates themself and the last active owner stays; only
owners see the page or act; each step audited. ``kedai-hq admin ...`` does the same."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI

from hq import manage
from tests.hq.test_api_tokens import (
    ACCOUNTANT,
    OWNER,
    PASSWORD,
    Store,
    app,
    bearer,
    client,
    csrf_of,
    log_in,
    make_token,
    store_url,
)

__all__ = ["app", "store_url"]  # fixtures used by the tests below

SECOND_OWNER = "partner"


async def _summary(token: str, app: FastAPI) -> int:
    async with client(app) as script:
        return (await script.get("/v1/reports/summary", headers=bearer(token))).status_code


async def test_an_owner_revokes_another_admins_token(app: FastAPI, store_url: str) -> None:
    async with client(app) as books:
        await log_in(books, ACCOUNTANT)
        token = await make_token(books, "Excel refresh")
    assert await _summary(token, app) == 200
    async with client(app) as boss:
        await log_in(boss, OWNER)
        page = await boss.get("/admins")
        assert page.status_code == 200
        assert "Excel refresh" in page.text and ACCOUNTANT in page.text
        assert token not in page.text  # the secret is never shown again
        [token_id] = Store(store_url, {}).rows("SELECT token_id FROM admin_api_tokens")[0]
        forged = await boss.post(f"/admins/tokens/{token_id}/revoke")
        assert forged.status_code == 403 and await _summary(token, app) == 200
        url, csrf = f"/admins/tokens/{token_id}/revoke", csrf_of(page)
        asked = await boss.post(url, data={"csrf_token": csrf})
        assert asked.status_code == 200 and "API token “Excel refresh”?" in asked.text
        assert await _summary(token, app) == 200  # the first press only asks
        r = await boss.post(url, data={"csrf_token": csrf, "confirm": "1"})
        assert r.status_code == 303
        assert await _summary(token, app) == 401
        again = await boss.post(
            f"/admins/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(page)}
        )
        assert again.status_code == 404
    audit = Store(store_url, {}).rows(
        "SELECT username, action, detail FROM admin_audit WHERE action = 'api_token.revoke'"
    )
    assert audit == [(OWNER, "api_token.revoke", f"a token of {ACCOUNTANT}")]


async def test_only_an_owner_sees_and_acts(app: FastAPI, store_url: str) -> None:
    async with client(app) as books:
        await log_in(books, ACCOUNTANT)
        page = await books.get("/admins")
        assert page.status_code == 403 and "Only an owner" in page.text
        assert (await books.get("/v1/admin/admins")).status_code == 403
        tokens = await books.get("/account/tokens")
        r = await books.post(
            "/admins/deactivate", data={"username": OWNER, "csrf_token": csrf_of(tokens)}
        )
        assert r.status_code == 403
    rows = Store(store_url, {}).rows("SELECT disabled_at FROM admins WHERE username = :u", u=OWNER)
    assert rows == [(None,)]
    async with client(app) as boss:
        await log_in(boss, OWNER)
        overview = (await boss.get("/v1/admin/admins")).json()
        assert {(a["username"], a["role"], a["active"]) for a in overview["admins"]} == {
            (OWNER, "owner", True),
            (ACCOUNTANT, "accountant", True),
        }
        schema = (await boss.get("/openapi.json")).json()
        assert "/v1/admin/admins" in schema["paths"] and "/v1/admin/categories" in schema["paths"]


async def test_a_deactivated_admin_is_signed_out_and_cannot_log_in(
    app: FastAPI, store_url: str
) -> None:
    async with client(app) as books:
        await log_in(books, ACCOUNTANT)
        token = await make_token(books, "nightly")
        assert (await books.get("/account/tokens")).status_code == 200
        async with client(app) as boss:
            await log_in(boss, OWNER)
            csrf = csrf_of(await boss.get("/admins"))
            r = await boss.post("/admins/deactivate", data={"username": ACCOUNTANT})
            assert r.status_code == 403  # no CSRF token
            r = await boss.post(
                "/admins/deactivate", data={"username": ACCOUNTANT, "csrf_token": csrf}
            )
            assert r.status_code == 303
            listing = await boss.get("/admins")
            assert "deactivated" in listing.text
            # The accountant's open session is gone, as is their token.
            gone = await books.get("/account/tokens")
            assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
            assert await _summary(token, app) == 401
            store = Store(store_url, {})
            sessions = "SELECT count(*) FROM admin_sessions WHERE username = :u"
            assert store.rows(sessions, u=ACCOUNTANT) == [(0,)]
            # The right password no longer logs them in, nor opens Basic.
            async with client(app) as fresh:
                form = await fresh.get("/login")
                r = await fresh.post(
                    "/login",
                    data={"username": ACCOUNTANT, "password": PASSWORD,
                          "csrf_token": csrf_of(form)},
                )  # fmt: skip
                assert r.status_code != 303
                basic = await fresh.get("/v1/reports/summary", auth=(ACCOUNTANT, PASSWORD))
                assert basic.status_code == 401
            # Reactivated, they log in again; the old token stays revoked.
            r = await boss.post(
                "/admins/reactivate", data={"username": ACCOUNTANT, "csrf_token": csrf}
            )
            assert r.status_code == 303
        async with client(app) as fresh:
            await log_in(fresh, ACCOUNTANT)
        assert await _summary(token, app) == 401
    actions = store.rows(
        "SELECT username, action, target FROM admin_audit WHERE action LIKE 'admin.%' "
        "ORDER BY audit_id"
    )
    assert actions == [
        (OWNER, "admin.deactivate", ACCOUNTANT),
        (OWNER, "admin.reactivate", ACCOUNTANT),
    ]


async def test_the_last_owner_stays_and_nobody_ends_themself(app: FastAPI, store_url: str) -> None:
    store = Store(store_url, {})
    async with client(app) as boss:
        await log_in(boss, OWNER)
        csrf = csrf_of(await boss.get("/admins"))
        for action in ("deactivate", "remove"):
            r = await boss.post(f"/admins/{action}", data={"username": OWNER, "csrf_token": csrf})
            assert r.status_code == 422 and "yourself" in r.text
        missing = await boss.post("/admins/remove", data={"username": "nobody", "csrf_token": csrf})
        assert missing.status_code == 422 and "No admin" in missing.text
        nul = await boss.post("/admins/remove", data={"username": "a\x00b", "csrf_token": csrf})
        assert nul.status_code == 422
        await asyncio.to_thread(
            manage.create_admin_sync, store_url, username=SECOND_OWNER, password=PASSWORD
        )
        async with client(app) as partner:
            await log_in(partner, SECOND_OWNER)
            remove = {"username": SECOND_OWNER, "csrf_token": csrf}
            asked = await boss.post("/admins/remove", data=remove)
            assert asked.status_code == 200 and f"Remove admin {SECOND_OWNER}?" in asked.text
            assert (await partner.get("/admins")).status_code == 200  # still signed in
            r = await boss.post("/admins/remove", data={**remove, "confirm": "1"})
            assert r.status_code == 303
            assert (await partner.get("/admins")).status_code == 303  # signed out
        assert store.rows("SELECT count(*) FROM admins WHERE username = :u", u=SECOND_OWNER) == [
            (0,)
        ]
    # From the command line (no one signed in) the last active owner is refused too.
    try:
        await asyncio.to_thread(
            manage.admin_account_sync, store_url, action="deactivate", username=OWNER
        )
    except Exception as exc:
        assert "last active owner" in str(exc)
    else:
        raise AssertionError("the last owner was deactivated")
    assert store.rows("SELECT disabled_at FROM admins WHERE username = :u", u=OWNER) == [(None,)]
    removed = store.rows("SELECT username, target FROM admin_audit WHERE action = 'admin.remove'")
    assert removed == [(OWNER, SECOND_OWNER)]


KEDAI_HQ = [sys.executable, "-m", "hq"]


def _run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KEDAI_HQ, *args, "--database-url", f"sqlite:///{db}"],
        capture_output=True, text=True, env=dict(os.environ), timeout=60,
    )  # fmt: skip


def test_admin_commands_list_revoke_deactivate_and_remove(tmp_path: Path) -> None:
    db = tmp_path / "hq.db"
    url = f"sqlite:///{db}"
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    store = Store(url, {})
    store.rows(
        "INSERT INTO admin_api_tokens (username, name, token_hash, created_at) "
        "VALUES (:u, 'bi', :h, CURRENT_TIMESTAMP)",
        u=ACCOUNTANT,
        h="0" * 64,
    )
    listed = json.loads(_run("admin", "list", "--json", db=db).stdout)
    assert {(a["username"], a["role"], a["active"]) for a in listed["admins"]} == {
        (OWNER, "owner", True),
        (ACCOUNTANT, "accountant", True),
    }
    [tok] = listed["tokens"]
    assert tok["username"] == ACCOUNTANT and tok["revoked_at"] is None and "token_hash" not in tok
    out = _run("admin", "revoke-token", str(tok["token_id"]), db=db)
    assert out.returncode == 0 and f"of {ACCOUNTANT} revoked" in out.stdout
    assert _run("admin", "revoke-token", str(tok["token_id"]), db=db).returncode != 0
    out = _run("admin", "deactivate", ACCOUNTANT, db=db)
    assert out.returncode == 0, out.stderr
    assert "DEACTIVATED" in _run("admin", "list", db=db).stdout
    last = _run("admin", "deactivate", OWNER, db=db)
    assert last.returncode != 0 and "last active owner" in last.stderr
    assert _run("admin", "remove", OWNER, "--yes", db=db).returncode != 0
    out = _run("admin", "remove", ACCOUNTANT, "--yes", db=db)
    assert out.returncode == 0 and f"admin {ACCOUNTANT} removed" in out.stdout
    assert store.rows("SELECT username FROM admins") == [(OWNER,)]
    assert store.rows(
        "SELECT username, action FROM admin_audit WHERE action IN "
        "('api_token.revoke', 'admin.deactivate', 'admin.remove') ORDER BY audit_id"
    ) == [
        ("(command line)", "api_token.revoke"),
        ("(command line)", "admin.deactivate"),
        ("(command line)", "admin.remove"),
    ]
