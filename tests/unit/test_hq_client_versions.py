"""The agent's HQ client (one layer, HQ's answers from an httpx MockTransport): an answer
from a newer HQ (a field or a kind of change this build does not know) stops syncing
with words that say to upgrade the till, not a bare validation error."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sync.agent.errors import SyncProtocolError
from sync.agent.hq_client import HqClient


def _client(body: dict[str, Any]) -> HqClient:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=json.dumps(body)))
    return HqClient(httpx.AsyncClient(transport=transport))


PRODUCT = {
    "product_id": "6f0c8a36-6f43-4a8e-9b5c-3f7b7a1d2e10",
    "sku": "KOPI-001",
    "barcode": None,
    "name": "Kopi-O Powder 500g",
    "price_cents": 330,
    "tax_code": "SR",
    "cdc_eligible": True,
    "active": True,
}


async def _changes(body: dict[str, Any]) -> Any:
    return await _client(body).changes("http://hq.test", "token", since=0, limit=10)


async def test_the_current_contract_parses() -> None:
    page = await _changes(
        {"changes": [{"seq": 1, "kind": "product", "data": PRODUCT}], "next": 1, "more": False}
    )
    assert page.changes[0].data.sku == "KOPI-001"


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 1, "kind": "product", "data": {**PRODUCT, "colour": "red"}},
        {"seq": 1, "kind": "promotion", "data": {"id": 1}},
    ],
    ids=["unknown field", "unknown kind"],
)
async def test_a_newer_hq_says_to_upgrade_the_till(change: dict[str, Any]) -> None:
    with pytest.raises(SyncProtocolError, match="install the new Kedai version"):
        await _changes({"changes": [change], "next": 1, "more": False})


async def test_a_broken_answer_is_still_called_broken() -> None:
    with pytest.raises(SyncProtocolError, match="not a valid ChangePage"):
        await _changes({"changes": [], "next": "soon", "more": False})
