"""F10: how sync stands: online or not, pending and rejected events (with HQ's reasons),
last success, last error, and "sync now".

Reads the agent's live state when there is an agent and the till's own records
(``sync_state``, the outbox) either way, so it is honest even with no agent running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label, Static

from terminal.services.sync_report import sync_summary, unsent_events
from terminal.ui.agent_port import describe
from terminal.ui.clock import local
from terminal.ui.screens.base import TillModal

if TYPE_CHECKING:
    from datetime import datetime

    from sync.agent import AgentState


def _when(at: datetime | None) -> str:
    return f"{local(at):%d %b %H:%M:%S}" if at is not None else "never"


class SyncScreen(TillModal[None]):
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("f5", "sync_now", "Sync now"),
        Binding("f10", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="sync-box", classes="dialog wide"):
            yield Label("Sync with head office", classes="dialog-title")
            yield Static("Loading...", id="sync-summary")
            yield DataTable(id="sync-events", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Seq", "Event", "Status", "When", "Tries", "Reason")
        self._load()

    def sync_state_changed(self, state: AgentState | None) -> None:
        self._load()

    @work(exclusive=True, group="sync-view", exit_on_error=False)
    async def _load(self) -> None:
        till = self.till
        summary = self.query_one("#sync-summary", Static)
        with self.boundary("reading the sync status", show=summary.update) as outcome:
            status = await sync_summary(till.database)
            events = await unsent_events(till.database)
        if outcome.failed:
            return
        state = till.sync_state
        text, _ = describe(state) if till.agent is not None else ("no sync agent running", "")
        last_ok = (state.last_success_at if state else None) or status.last_push_ok_at
        last_error = (state.last_error if state else None) or status.last_error
        last_error_at = (state.last_error_at if state else None) or status.last_error_at
        lines = [
            f"HQ:            {status.hq_url or 'not enrolled'}",
            f"State:         {text}",
            f"Pending:       {status.pending}    Rejected: {status.rejected}"
            f"    Sent: {status.sent}",
            f"Last success:  {_when(last_ok)}",
            f"Last error:    {last_error or 'none'}"
            + (f" ({_when(last_error_at)})" if last_error and last_error_at else ""),
        ]
        self.query_one("#sync-summary", Static).update("\n".join(lines))
        table = self.query_one(DataTable)
        table.clear()
        for e in events:
            table.add_row(
                str(e.seq), e.type, e.status, _when(e.occurred_at), str(e.attempts), e.reason or ""
            )

    def action_sync_now(self) -> None:
        if self.till.agent is None:
            self.notify("This till is not enrolled with HQ: no agent to sync.", severity="warning")
            return
        self._sync_now()

    @work(exclusive=True, group="sync-now", exit_on_error=False)
    async def _sync_now(self) -> None:
        agent = self.till.agent
        if agent is None:
            return
        self.notify("Syncing...", timeout=2)
        try:
            await agent.sync_once()
        except Exception as exc:  # the agent's own errors (sync.agent.errors): said, kept
            self.error(f"Sync failed: {exc}", "Sync")
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)
