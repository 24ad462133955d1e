"""Bad input gets the right 4xx in the ``{"error": {code, message}}`` shape, never a 5xx."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from hq import manage
from tests.events import push_body, sale
from tests.hq.conftest import TEST_MAX_BODY, Hq


def _error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_push_without_token_is_401(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, _ = terminal
    with hq.client() as c:
        r = c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1)]))
    _error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    assert hq.scalar("SELECT count(*) FROM events WHERE terminal_id = :t", t=tid) == 0


def test_push_with_bad_token_is_401(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    with hq.client(token[:-2] + "xx") as c:
        _error(c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1)])), 401)
    with hq.client() as c:
        r = c.get("/v1/sync/changes", headers={"Authorization": "Basic Zm9vOmJhcg=="})
        _error(r, 401)


def test_revoked_token_is_401(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    with hq.client(token) as c:
        assert c.get("/v1/sync/whoami").status_code == 200
        assert manage.revoke_terminal_sync(hq.database_url, terminal_id=tid)
        _error(c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1)])), 401)
        _error(c.get("/v1/sync/whoami"), 401)


def test_pushing_another_terminals_events_is_403(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    other, _ = hq.enroll()
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1), sale(other, 1)]))
        _error(r, 403, "wrong_terminal")
        r = c.post("/v1/sync/push", json=push_body(other, [sale(other, 1)]))
        _error(r, 403, "wrong_terminal")
    assert hq.scalar("SELECT count(*) FROM events WHERE terminal_id = :t", t=other) == 0
    assert hq.scalar("SELECT count(*) FROM events WHERE terminal_id = :t", t=tid) == 0


def test_malformed_json_is_400(hq: Hq, terminal: tuple[str, str]) -> None:
    _, token = terminal
    with hq.client(token) as c:
        r = c.post(
            "/v1/sync/push",
            content=b'{"terminal_id": "x", "events": [',
            headers={"Content-Type": "application/json"},
        )
    _error(r, 400, "invalid_json")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("events"),
        lambda b: b.update(extra=1),
        lambda b: b["events"][0].pop("event_id"),
        lambda b: b["events"][0].update(event_id="not-a-uuid"),
        lambda b: b.update(events=[b["events"][0]] * 501),
    ],
    ids=["no-events", "extra-field", "no-event-id", "bad-event-id", "too-many"],
)
def test_invalid_request_shape_is_422(hq: Hq, terminal: tuple[str, str], mutate) -> None:
    tid, token = terminal
    body = push_body(tid, [sale(tid, 1)])
    mutate(body)
    with hq.client(token) as c:
        _error(c.post("/v1/sync/push", json=body), 422, "validation_error")


def test_oversize_body_is_413(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    big = json.dumps(push_body(tid, [sale(tid, 1)])).encode() + b" " * TEST_MAX_BODY
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", content=big, headers={"Content-Type": "application/json"})
        _error(r, 413, "payload_too_large")
        # Small on the wire, too big once decompressed (a gzip bomb): also 413.
        bomb = gzip.compress(b"[" + b" " * (TEST_MAX_BODY * 4) + b"]")
        assert len(bomb) < TEST_MAX_BODY
        r = c.post(
            "/v1/sync/push",
            content=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        _error(r, 413, "payload_too_large")


def test_broken_gzip_and_unknown_encoding_are_4xx(hq: Hq, terminal: tuple[str, str]) -> None:
    _, token = terminal
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", content=b"not gzip", headers={"Content-Encoding": "gzip"})
        _error(r, 400, "bad_gzip")
        r = c.post("/v1/sync/push", content=b"x", headers={"Content-Encoding": "br"})
        _error(r, 415)


def test_unknown_route_and_method_use_the_error_shape(hq: Hq) -> None:
    with hq.client() as c:
        _error(c.get("/v1/nope"), 404, "not_found")
        _error(c.get("/v1/sync/push"), 405, "method_not_allowed")


def test_changes_query_is_validated(hq: Hq, terminal: tuple[str, str]) -> None:
    _, token = terminal
    with hq.client(token) as c:
        _error(c.get("/v1/sync/changes", params={"since": -1}), 422)
        _error(c.get("/v1/sync/changes", params={"since": "abc"}), 422)
        _error(c.get("/v1/sync/changes", params={"limit": 0}), 422)


def test_healthz_and_openapi(hq: Hq) -> None:
    with hq.client() as c:
        health = c.get("/healthz").json()
        spec = c.get("/openapi.json").json()
    assert health == {
        "status": "ok",
        "database": "sqlite" if hq.backend == "sqlite" else "postgresql",
    }
    assert {"/v1/sync/push", "/v1/sync/changes", "/v1/sync/whoami", "/healthz"} <= set(
        spec["paths"]
    )
