"""Another till's receipt at the refund screen: ask HQ, or say why a manual return is next.

The question goes through the agent (the UI's :class:`~terminal.ui.agent_port.AgentPort`),
whose HQ client has a short timeout: a cashier with a customer at the counter waits a few
seconds at most, then gets the manual return. Every failure is an answer in words here
(the one place the refund screen learns about sync errors), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.agent.errors import NotEnrolledError, SyncError, SyncRefusedError, SyncTransportError
from terminal.services.returns import hq_sale_view

if TYPE_CHECKING:
    from sync.protocol import SaleLookup
    from terminal.services.schemas import PastSale
    from terminal.ui.port import TillPort


@dataclass(frozen=True)
class AtHq:
    """The sale as HQ holds it, and as the refund screen shows it."""

    sale: SaleLookup
    view: PastSale


def other_till(number: str, till: TillPort) -> str | None:
    """The till that printed ``number`` when it is not this one (else None)."""
    st = till.store.store
    head, _, seq = number.rpartition("-")
    if head and seq.isdigit() and head != f"{st.outlet_code}-{st.terminal_code}":
        return head
    return None


async def look_up(till: TillPort, number: str) -> AtHq | str:
    """HQ's copy of another till's sale, or why there is none (then: a manual return)."""
    where = other_till(number, till) or "another till"
    manual = "Make a manual return (F5) with a manager instead."
    if till.agent is None:
        return f"{number} was sold at {where}, and this till is not syncing with HQ. {manual}"
    try:
        sale = await till.agent.lookup_sale(number)
    except NotEnrolledError:
        return f"{number} was sold at {where}; this till is not enrolled with HQ. {manual}"
    except SyncTransportError:
        return f"{number} was sold at {where}, and HQ cannot be reached (offline). {manual}"
    except SyncRefusedError as exc:
        return f"HQ refused this till ({exc.message}). {manual}"
    except SyncError as exc:
        return f"HQ could not look {number} up ({exc.message}). {manual}"
    if sale is None:
        return (
            f"{number} is not at HQ (yet): its till may not have synced it. Check the "
            f"number, or {manual[0].lower()}{manual[1:]}"
        )
    return AtHq(sale, await hq_sale_view(till.database, sale))
