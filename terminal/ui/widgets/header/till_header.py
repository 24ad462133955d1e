"""The till's header: store, terminal, cashier, clock and the live sync indicator.

The sync part is set by the app from ``SyncStateChanged`` messages (can_replace, so a
burst of agent updates is one repaint); the clock ticks from the app's injectable clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from terminal.ui.agent_port import describe
from terminal.ui.clock import Clock, local
from terminal.ui.widgets.text import show_text

if TYPE_CHECKING:
    from sync.agent import AgentState


class TillHeader(Horizontal):
    DEFAULT_CSS = """
    TillHeader {
        height: 1;
        background: $primary-darken-2;
        color: white;
    }
    TillHeader Label { padding: 0 1; }
    TillHeader #hdr-store { width: 1fr; text-style: bold; }
    /* Text colours chosen for WCAG AA contrast on each state's background. */
    TillHeader #hdr-sync.online { background: $success; color: black; }
    TillHeader #hdr-sync.offline { background: $error; color: white; text-style: bold; }
    TillHeader #hdr-sync.warning { background: $warning; color: black; }
    TillHeader #hdr-sync.unknown { background: $panel; color: $foreground; }
    """

    sync_state: reactive[AgentState | None] = reactive(None, always_update=True, init=False)

    def __init__(
        self,
        *,
        store: str,
        till: str,
        cashier: str,
        clock: Clock,
        sync_state: AgentState | None = None,
    ) -> None:
        super().__init__()
        self.set_reactive(TillHeader.sync_state, sync_state)
        self._store = store
        self._till = till
        self._cashier = cashier
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield Label(self._store, id="hdr-store")
        yield Label(self._till, id="hdr-till")
        yield Label(self._cashier, id="hdr-cashier")
        yield Label("", id="hdr-clock")
        yield Label("", id="hdr-sync")

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1.0, self._tick)
        self.watch_sync_state(self.sync_state)

    def _tick(self) -> None:
        # Ticks every second, shows minutes: most ticks change nothing (no repaint, no
        # layout of the screen, which ``Label.update`` always asks for).
        show_text(self.query_one("#hdr-clock", Label), f"{local(self._clock()):%d %b %H:%M}")

    def watch_sync_state(self, state: AgentState | None) -> None:
        text, css = describe(state)
        label = self.query_one("#hdr-sync", Label)
        show_text(label, text)
        label.set_classes(css)
