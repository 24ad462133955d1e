"""HQ cannot be held open: tokens before bodies, deadlines, per-terminal limits, headers.

These talk raw HTTP over a socket where the point is what HQ does before a request is
complete. Every wait is for an event (HQ answering or closing), bounded by a socket
timeout far above the deadline under test, never a sleep.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.events import push_body, sale
from tests.hq.conftest import Hq, start_hq, stop_hq

GUARD = 60.0
"""Socket timeout: only reached if HQ never answers (the bug these tests catch)."""


@pytest.fixture(scope="module")
def strict_hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hq]:
    """One worker (slots are per worker), short deadlines, one request per terminal."""
    tmp = tmp_path_factory.mktemp("hq-strict")
    env = {
        "KEDAI_HQ_HEADER_TIMEOUT": "1",
        "KEDAI_HQ_BODY_TIMEOUT": "1",
        "KEDAI_HQ_TERMINAL_CONCURRENCY": "1",
    }
    hq = start_hq(tmp, f"sqlite:///{tmp / 'hq.db'}", "sqlite", workers=1, env=env)
    yield hq
    stop_hq(hq)


def _connect(hq: Hq) -> socket.socket:
    host, port = hq.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=GUARD)
    return sock


def _read_answer(sock: socket.socket) -> bytes:
    """Everything HQ sends until it closes or a whole answer is in."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(body) >= length[0]:
                return data


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _head(path: str, token: str | None, length: int, extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: hq\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def test_a_bad_token_is_refused_before_the_body_is_sent(hq: Hq, terminal: tuple[str, str]) -> None:
    with _connect(hq) as sock:
        sock.sendall(_head("/v1/sync/push", "not-a-token", 500_000))
        answer = _read_answer(sock)  # no body sent: HQ must answer anyway
    assert _status(answer) == 401
    assert b'"unauthorized"' in answer


def test_a_slow_request_head_is_cut_off(strict_hq: Hq) -> None:
    with _connect(strict_hq) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hq\r\nX-Slow: ")
        assert sock.recv(1024) == b""  # HQ closed the connection


def test_a_slow_body_gets_408(strict_hq: Hq) -> None:
    tid, token = strict_hq.enroll()
    with _connect(strict_hq) as sock:
        sock.sendall(_head("/v1/sync/push", token, 1000) + b'{"terminal_id": ')
        answer = _read_answer(sock)
    assert _status(answer) == 408
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "request_timeout"


def test_one_terminal_cannot_hold_more_than_its_slots(strict_hq: Hq) -> None:
    tid, token = strict_hq.enroll()
    body = json.dumps(push_body(tid, [sale(tid, 1)])).encode()
    # Terminal slots are 1 here, and the body deadline 1 s: the held request ends in 408,
    # so the other is either refused with 429 while it is held, or served after it.
    with _connect(strict_hq) as held:
        held.sendall(_head("/v1/sync/push", token, len(body)) + body[:10])
        statuses = set()
        with strict_hq.client(token) as c:
            for _ in range(200):
                r = c.get("/v1/sync/whoami")
                statuses.add(r.status_code)
                if r.status_code == 429:
                    assert r.json()["error"]["code"] == "too_many_requests"
                    assert r.headers["retry-after"] == "1"
                    break
        assert _status(_read_answer(held)) == 408
    assert 429 in statuses
    with strict_hq.client(token) as c:  # the slot is given back
        assert c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1)])).status_code == 200


def test_content_length_with_transfer_encoding_is_refused(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    _, token = terminal
    with _connect(hq) as sock:
        sock.sendall(
            _head("/v1/sync/push", token, 5, extra="Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n"
        )
        answer = _read_answer(sock)
    assert _status(answer) == 400


def test_security_headers_and_no_store(hq: Hq, terminal: tuple[str, str]) -> None:
    _, token = terminal
    with hq.client(token) as c:
        private = c.get("/v1/sync/whoami")
        missing = c.get("/v1/nope")
    with hq.client() as c:
        public = c.get("/healthz")
        docs = c.get("/docs")
        spec = c.get("/openapi.json")
    for r in (private, missing, public):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert private.headers["cache-control"] == "no-store"
    assert missing.headers["cache-control"] == "no-store"
    assert docs.status_code == 404  # off unless KEDAI_HQ_API_DOCS=1
    assert spec.status_code == 200 and "/v1/sync/push" in spec.json()["paths"]


def test_gzip_body_still_works_when_read_lazily(
    hq: Hq, terminal: tuple[str, str], tmp_path: Path
) -> None:
    import gzip

    tid, token = terminal
    body = gzip.compress(json.dumps(push_body(tid, [sale(tid, 1)])).encode())
    with hq.client(token) as c:
        r = c.post(
            "/v1/sync/push",
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"


def test_a_refused_push_is_answered_not_reset(hq: Hq, terminal: tuple[str, str]) -> None:
    """HQ answers 401 without reading the body, then reads it away: never a reset."""
    tid, _ = terminal
    body = json.dumps(push_body(tid, [sale(tid, seq) for seq in range(1, 200)])).encode()
    with hq.client("revoked-or-wrong-token") as c:
        for _ in range(20):
            r = c.post("/v1/sync/push", content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 401
        r = c.post("/v1/sync/push", content=b"x", headers={"Content-Encoding": "br"})
        assert r.status_code == 415
        assert c.get("/healthz").status_code == 200
