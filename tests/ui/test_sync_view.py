"""The header's sync indicator and the Sync screen, against a fake agent (unit level).

The real agent is exercised end to end by the tmux demo test; here a small fake with the
agent's interface lets the tests publish states and count nudges deterministically.
"""

from __future__ import annotations

from collections.abc import Callable

from sync.agent import AgentState
from terminal.ui.screens.sync import SyncScreen
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, notices, scan, settle, text_of


class FakeAgent:
    def __init__(self) -> None:
        self.state = AgentState(enrolled=True, online=True, pending=0, hq_url="http://hq.test")
        self.nudges = 0
        self.local_changes = 0
        self.syncs = 0
        self.ran = False
        self._subscribers: list[Callable[[AgentState], None]] = []

    async def run(self) -> None:
        self.ran = True

    def nudge(self) -> None:
        self.nudges += 1

    async def local_change(self) -> None:
        self.local_changes += 1

    async def sync_once(self) -> None:
        self.syncs += 1
        self.publish(online=True, pending=0)

    def subscribe(self, callback: Callable[[AgentState], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    async def aclose(self) -> None:
        pass

    def publish(self, **changes: object) -> None:
        self.state = self.state.model_copy(update=changes)
        for callback in list(self._subscribers):
            callback(self.state)


async def test_header_follows_the_agent_and_a_sale_nudges_it(make_app) -> None:
    agent = FakeAgent()
    app = make_app(agent=agent)
    async with app.run_test() as pilot:
        await login(pilot)
        assert agent.ran
        assert text_of(app, "#hdr-sync") == "online 0 pending"
        for pending in range(1, 30):  # a burst of updates: merged, the last one wins
            agent.publish(online=False, pending=pending)
        await settle(pilot)
        assert text_of(app, "#hdr-sync") == "OFFLINE 29 pending"
        assert app.screen.query_one("#hdr-sync").has_class("offline")
        before = agent.local_changes
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert agent.local_changes == before + 1


async def test_sync_screen_lists_rejected_events_and_syncs_now(make_app, till_path) -> None:
    import sqlite3

    agent = FakeAgent()
    app = make_app(agent=agent)
    async with app.run_test(size=(120, 36)) as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", "f1", "enter")
        await settle(pilot)
        with sqlite3.connect(till_path) as con:  # as the agent records HQ's refusal
            con.execute("UPDATE outbox SET status='rejected', reason='unknown product' WHERE seq=1")
        agent.publish(online=True, pending=0, rejected=1, last_error="1 event rejected by HQ")
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        summary = text_of(app, "#sync-summary")
        assert "Rejected: 1" in summary
        assert "1 event rejected by HQ" in summary
        table = app.screen.query_one("#sync-events")
        row = [str(c) for c in table.get_row_at(0)]
        assert row[1:3] == ["sale.completed", "rejected"] and row[5] == "unknown product"
        await pilot.press("f5")
        await settle(pilot)
        assert agent.syncs == 1


async def test_without_an_agent_the_header_says_sync_is_off(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        assert text_of(app, "#hdr-sync") == "sync off"
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert any("not enrolled" in n for n in notices(app))
