"""The sale screen's queue of scanned codes: numbered, looked up one at a time, in order.

Plain state, no widgets: the screen starts its consumer worker when :meth:`put` or
:meth:`release` says so and runs :meth:`drain` in it. F9 and F4 :meth:`hold` the queue at
the position of their key, wait for the codes before it with :meth:`through`, and
:meth:`release` it when the cart has been paid or parked: codes scanned after the key
are only then looked up, into the next cart.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class ScanQueue:
    def __init__(self) -> None:
        self._pending: deque[tuple[int, str]] = deque()
        self.taken = 0
        """Codes taken so far; each queued code carries its number."""
        self.looked_up = 0
        """The number of the last code looked up (added or refused)."""
        self._hold_after: int | None = None
        """While set (F9, F4), codes numbered above it wait."""
        self._progress = asyncio.Condition()
        self._consuming = False

    def put(self, code: str) -> bool:
        """Queue a code; True if the caller must start a consumer (:meth:`drain`)."""
        self.taken += 1
        self._pending.append((self.taken, code))
        return self._start()

    def _may_take(self) -> bool:
        return bool(self._pending) and (
            self._hold_after is None or self._pending[0][0] <= self._hold_after
        )

    def _start(self) -> bool:
        if self._consuming or not self._may_take():
            return False
        self._consuming = True
        return True

    def hold(self, through: int) -> None:
        """Look up no code numbered above ``through`` until :meth:`release`."""
        self._hold_after = through

    def release(self) -> bool:
        """End the hold; True if the caller must start a consumer."""
        self._hold_after = None
        return self._start()

    async def through(self, number: int) -> None:
        """Wait until codes up to ``number`` have been looked up."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.looked_up >= number)

    async def settled(self) -> None:
        """Wait until every code not held back has been looked up."""
        held = self._hold_after
        await self.through(self.taken if held is None else min(held, self.taken))

    async def drain(self, add: Callable[[str], Awaitable[None]]) -> None:
        """The one consumer: ``add`` each code in order until empty or held.

        ``add`` must not raise for a bad code (it reports it itself); if it does, the
        code still counts as looked up so that nobody waits for it for ever.
        """
        try:
            while self._may_take():
                number, code = self._pending.popleft()
                try:
                    await add(code)
                finally:
                    self.looked_up = number
                    async with self._progress:
                        self._progress.notify_all()
        finally:
            self._consuming = False
