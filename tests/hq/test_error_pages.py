"""A browser that meets an error in the back office gets a page in words, with the same
status, not the API's JSON; tills and scripts keep the JSON (real HQ app in-process)."""

from __future__ import annotations

from fastapi import FastAPI

from tests.hq.test_staff_pages import OWNER, app, client, db_url, logged_in

__all__ = ["app", "db_url"]  # fixtures used by the tests below

PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def test_a_browser_gets_error_pages_and_the_api_keeps_json(app: FastAPI) -> None:
    async with logged_in(app, OWNER) as (c, _):
        r = await c.get("/reports/sales?from=2026-12-05&to=2026-12-01", headers=PAGE)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert "<h1>Check what was asked</h1>" in r.text
        assert "&#39;to&#39; is before &#39;from&#39;" in r.text and "Value error" not in r.text
        r = await c.get("/members/not-a-uuid", headers=PAGE)
        assert r.status_code == 404 and "There is no page at /members/not-a-uuid." in r.text
        r = await c.get("/no-such-page", headers=PAGE)
        assert r.status_code == 404 and "There is no page at /no-such-page." in r.text
        assert 'lang="en-SG"' in r.text
        # the same asked by a script: the API's JSON, as before
        r = await c.get("/reports/sales?from=2026-12-05&to=2026-12-01")
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
        r = await c.get("/reports/sales?from=someday", headers=PAGE)
        assert r.status_code == 422 and "From: &#39;someday&#39; is not in the form" in r.text
        r = await c.get("/v1/no-such-thing", headers=PAGE)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    async with client(app) as c:  # not logged in: still sent to log in
        r = await c.get("/reports/sales", headers=PAGE)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
