"""Offline overspend: members whose points were redeemed at two or more tills beyond their
balance, because neither till could see the other's redemption.

Each till redeems against HQ's balance as last pulled plus its own unsynced deltas
(DESIGN invariant 8), so two offline tills may each redeem within a balance that does not
cover both. HQ applies every delta (loyalty is a ledger, never refused for going below
zero), and the balance goes negative. This report finds those moments:

* the member's deltas are replayed in the order HQ applied them
  (:func:`hq.reports.loyalty.applied_order`), one step per event;
* an *episode* opens when a redemption takes the running balance below zero, and closes
  when the balance is back at zero or above; every redemption while it is open is in it;
* with each such redemption go the redemptions HQ had applied before it from *other*
  terminals that were not yet at HQ when it was made (received after it occurred): what
  its till could not have seen;
* an episode is listed when those redemptions come from two or more terminals.

A till's ``occurred_at`` is its own clock; an event whose clock HQ flagged as off is
dated by HQ's arrival time instead (as every report dates it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, window
from hq.reports.loyalty import applied_order, point_value_cents
from hq.reports.sales import cents

MAX_MEMBERS = 500


class OverspendEvent(BaseModel):
    event_id: uuid.UUID | None
    event_type: str | None
    terminal_id: str | None
    terminal_seq: int | None
    occurred_at: datetime
    received_at: datetime
    points: int
    """The event's net delta for this member (a redemption is negative)."""
    redeemed: int
    """Points this event redeemed, as a positive number."""
    balance_after: int


class Overspend(BaseModel):
    customer_id: uuid.UUID
    name: str
    phone: str | None
    terminals: list[str]
    balance_before: int
    """The balance just before the first of these redemptions was applied."""
    redeemed_points: int
    lowest_balance: int
    overspent_points: int
    """How far below zero the balance went."""
    overspent_cents: int
    """Its value at the redeem rate in the store settings."""
    current_balance: int
    went_negative_at: datetime
    events: list[OverspendEvent]


class OverspendReport(BaseModel):
    query: ReportQuery
    point_value_cents: int
    rows: list[Overspend]
    members: int
    overspent_points: int
    overspent_cents: int

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["customer_id", "name", "phone", "terminals", "balance_before", "redeemed",
                "lowest_balance", "overspent_points", "overspent_value", "current_balance",
                "went_negative_at", "event_id", "event_terminal", "event_seq", "event_at",
                "event_points", "balance_after"]  # fmt: skip
        out: list[list[Any]] = []
        for r in self.rows:
            member = [str(r.customer_id), r.name, r.phone or "", " ".join(r.terminals),
                      r.balance_before, r.redeemed_points, r.lowest_balance, r.overspent_points,
                      cents(r.overspent_cents), r.current_balance,
                      r.went_negative_at.isoformat()]  # fmt: skip
            for e in r.events:
                out.append(
                    [*member, str(e.event_id or ""), e.terminal_id or "",
                     "" if e.terminal_seq is None else e.terminal_seq, e.occurred_at.isoformat(),
                     e.points, e.balance_after]
                )  # fmt: skip
        return head, out


@dataclass
class _Step:
    """One event's effect on one member's balance."""

    key: Any
    index: int
    """Its place in the order HQ applied them."""
    event: OverspendEvent
    before: int


@dataclass
class _Episode:
    steps: dict[Any, _Step] = field(default_factory=dict)
    crossed: _Step | None = None
    lowest: int = 0


async def _candidates(session: AsyncSession, query: ReportQuery, scope: Scope) -> list[uuid.UUID]:
    """Members who redeemed in the period and whose running balance ever went below zero.

    The running sum is a window function (SQLite and PostgreSQL both have them) over the
    ledgers of the period's redeemers only, in HQ's order; only the few members whose
    balance dipped are then replayed in Python.
    """
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    redeemers = (
        select(m.LoyaltyEntry.customer_id)
        .where(
            and_(
                m.LoyaltyEntry.reason == "redeem",
                m.LoyaltyEntry.occurred_at >= lo,
                m.LoyaltyEntry.occurred_at < hi,
            )
        )
        .distinct()
    )
    running = (
        select(
            m.LoyaltyEntry.customer_id,
            func.sum(m.LoyaltyEntry.points)
            .over(partition_by=m.LoyaltyEntry.customer_id, order_by=applied_order())
            .label("running"),
        )
        .outerjoin(m.Event, m.Event.event_id == m.LoyaltyEntry.event_id)
        .where(m.LoyaltyEntry.customer_id.in_(redeemers))
        .subquery()
    )
    dipped = (
        select(running.c.customer_id)
        .where(running.c.running < 0)
        .distinct()
        .order_by(running.c.customer_id)
        .limit(MAX_MEMBERS)
    )
    return list((await session.execute(dipped)).scalars())


async def _steps(session: AsyncSession, customer_id: uuid.UUID) -> list[_Step]:
    stmt = (
        select(m.LoyaltyEntry, m.Event.type, m.Event.terminal_seq)
        .outerjoin(m.Event, m.Event.event_id == m.LoyaltyEntry.event_id)
        .where(m.LoyaltyEntry.customer_id == customer_id)
        .order_by(*applied_order())
    )
    steps: list[_Step] = []
    balance = 0
    for r in await session.execute(stmt):
        e = r.LoyaltyEntry
        key = e.event_id or e.entry_id
        redeemed = -e.points if e.reason == "redeem" and e.points < 0 else 0
        if steps and steps[-1].key == key:  # another delta of the same event
            ev = steps[-1].event
            balance += e.points
            ev.points += e.points
            ev.redeemed += redeemed
            ev.balance_after = balance
            continue
        before = balance
        balance += e.points
        event = OverspendEvent(
            event_id=e.event_id,
            event_type=r.type,
            terminal_id=e.terminal_id,
            terminal_seq=r.terminal_seq,
            occurred_at=e.occurred_at,
            received_at=e.received_at,
            points=e.points,
            redeemed=redeemed,
            balance_after=balance,
        )
        steps.append(_Step(key, len(steps), event, before))
    return steps


def _episodes(steps: list[_Step]) -> list[_Episode]:
    episodes: list[_Episode] = []
    current: _Episode | None = None
    for i, step in enumerate(steps):
        ev = step.event
        if ev.balance_after >= 0:
            current = None
            continue
        if not ev.redeemed or ev.terminal_id is None:
            continue
        if current is None:
            current = _Episode(crossed=step, lowest=ev.balance_after)
            episodes.append(current)
        current.steps[step.key] = step
        current.lowest = min(current.lowest, ev.balance_after)
        for earlier in steps[:i]:  # redemptions its till could not have seen yet
            other = earlier.event
            if (
                other.redeemed
                and other.terminal_id not in (None, ev.terminal_id)
                and other.received_at > ev.occurred_at
            ):
                current.steps.setdefault(earlier.key, earlier)
    return episodes


def _in_scope(
    terminals: set[str], outlets: dict[str, str], query: ReportQuery, scope: Scope
) -> bool:
    if query.terminal and query.terminal not in terminals:
        return False
    codes = {outlets.get(t) for t in terminals}
    if query.outlet and query.outlet not in codes:
        return False
    return scope.outlets is None or bool(codes & set(scope.outlets))


async def overspend(*, session: AsyncSession, query: ReportQuery, scope: Scope) -> OverspendReport:
    value = await point_value_cents(session)
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    outlets = dict(
        (await session.execute(select(m.Terminal.terminal_id, m.Terminal.outlet_code))).all()
    )
    rows: list[Overspend] = []
    for customer_id in await _candidates(session, query, scope):
        member = await session.get(m.Customer, customer_id)
        for ep in _episodes(await _steps(session, customer_id)):
            assert ep.crossed is not None
            if not lo <= ep.crossed.event.occurred_at < hi:
                continue
            terminals = {s.event.terminal_id for s in ep.steps.values() if s.event.terminal_id}
            if len(terminals) < 2 or not _in_scope(terminals, outlets, query, scope):
                continue
            ordered = sorted(ep.steps.values(), key=lambda s: s.index)
            rows.append(
                Overspend(
                    customer_id=customer_id,
                    name=member.name if member else "",
                    phone=member.phone if member else None,
                    terminals=sorted(terminals),
                    balance_before=ordered[0].before,
                    redeemed_points=sum(s.event.redeemed for s in ordered),
                    lowest_balance=ep.lowest,
                    overspent_points=-ep.lowest,
                    overspent_cents=-ep.lowest * value,
                    current_balance=member.loyalty_balance if member else 0,
                    went_negative_at=ep.crossed.event.occurred_at,
                    events=[s.event for s in ordered],
                )
            )
    rows.sort(key=lambda r: (r.went_negative_at, str(r.customer_id)))
    return OverspendReport(
        query=query,
        point_value_cents=value,
        rows=rows,
        members=len({r.customer_id for r in rows}),
        overspent_points=sum(r.overspent_points for r in rows),
        overspent_cents=sum(r.overspent_cents for r in rows),
    )
