"""HQ's sync endpoints over one httpx client: the one place httpx errors are seen.

Every transport failure becomes :class:`SyncTransportError`, a 401/403 a
:class:`SyncRefusedError`, any other unexpected answer a :class:`SyncProtocolError`
(see :mod:`sync.agent.errors`); answers are parsed into the wire models of
:mod:`sync.protocol`.
"""

from __future__ import annotations

from importlib import metadata
from typing import TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic import BaseModel

from sync.agent.errors import SyncProtocolError, SyncRefusedError, SyncTransportError
from sync.protocol import ChangePage, PushResponse, SaleLookup, WhoAmI

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
"""Bounded: a dead HQ costs at most a few seconds per attempt, never a hung agent."""
LOOKUP_TIMEOUT = httpx.Timeout(3.0)


def _version() -> str:
    try:
        return metadata.version("kedai")
    except metadata.PackageNotFoundError:  # run from a source tree
        return "0+unknown"


USER_AGENT = f"kedai-till/{_version()}"
"""How a till names itself to HQ (HQ shows the version on its dashboard)."""
"""A cashier waits on a sale lookup with a customer at the counter: a few seconds, then
the till offers a manual return instead."""

_M = TypeVar("_M", bound=BaseModel)


class HqClient:
    """HQ's three sync endpoints over one client; the one place httpx errors are seen."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        method: str,
        url: str,
        *,
        token: str,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, int] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        all_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        all_headers |= headers or {}
        try:
            response = await self.client.request(
                method,
                url,
                content=content,
                headers=all_headers,
                params=params,
                timeout=timeout or self.client.timeout,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SyncTransportError(f"HQ unreachable at {url}: {_describe(exc)}") from exc
        if response.status_code in (401, 403):
            raise SyncRefusedError(
                f"HQ refused this till ({response.status_code}): {_error_message(response)}",
                status_code=response.status_code,
            )
        if response.status_code >= 400:
            raise SyncProtocolError(
                f"HQ answered {response.status_code} to {method} {url}: {_error_message(response)}",
                status_code=response.status_code,
            )
        return response

    async def whoami(self, base: str, token: str) -> WhoAmI:
        response = await self.send("GET", f"{base}/v1/sync/whoami", token=token)
        return _parse(WhoAmI, response)

    async def push(
        self, base: str, token: str, body: bytes, *, pending_after: int | None = None
    ) -> PushResponse:
        """``pending_after``: events still waiting once this batch is in, for HQ's view
        of the till's health."""
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if pending_after is not None:
            headers["X-Kedai-Pending"] = str(max(0, pending_after))
        response = await self.send(
            "POST", f"{base}/v1/sync/push", token=token, content=body, headers=headers
        )
        return _parse(PushResponse, response)

    async def changes(self, base: str, token: str, since: int, limit: int) -> ChangePage:
        response = await self.send(
            "GET",
            f"{base}/v1/sync/changes",
            token=token,
            params={"since": since, "limit": limit},
        )
        return _parse(ChangePage, response)

    async def sale(self, base: str, token: str, receipt_no: str) -> SaleLookup | None:
        """A sale HQ holds, by receipt number (None: HQ has no such sale, or not yet)."""
        try:
            response = await self.send(
                "GET",
                f"{base}/v1/sync/sales/{quote(receipt_no, safe='')}",
                token=token,
                timeout=LOOKUP_TIMEOUT,
            )
        except SyncProtocolError as exc:
            if exc.status_code in (404, 422):  # 422: not a receipt number HQ could hold
                return None
            raise
        return _parse(SaleLookup, response)


def _parse(model: type[_M], response: httpx.Response) -> _M:
    try:
        return model.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        if first["type"] in _NEWER_HQ:
            # HQ was upgraded before this till. Syncing stops rather than skipping what
            # the till cannot store (past the cursor, it would never be pulled again);
            # selling goes on offline, and the upgraded till syncs from where it stopped.
            raise SyncProtocolError(
                f"HQ sends data this till's version does not know ({where}): install the "
                "new Kedai version on this till to sync again; selling goes on meanwhile",
                status_code=response.status_code,
            ) from exc
        raise SyncProtocolError(
            f"HQ's answer is not a valid {model.__name__}: {where}: {first['msg']}",
            status_code=response.status_code,
        ) from exc


_NEWER_HQ = frozenset({"extra_forbidden", "union_tag_invalid"})
"""Validation errors that mean HQ speaks a newer contract: a field or a kind of change
this build does not have."""


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _error_message(response: httpx.Response) -> str:
    """HQ's ``{error: {code, message}}`` if it sent one, else the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200].replace("\n", " ") or response.reason_phrase
