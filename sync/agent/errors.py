"""Errors the sync agent raises, one class per thing a person does something different about.

Hierarchy::

    SyncError                   sync did not complete; nothing local was lost or half-done
    ├── SyncTransportError      HQ unreachable, timed out, or the connection dropped
    │                           mid-answer: retry later (with backoff), events stay pending
    ├── SyncRefusedError        HQ answered 401/403: the token is wrong or revoked, or it
    │                           belongs to another terminal; re-enroll the till
    ├── SyncProtocolError       HQ answered something this build does not expect (a 5xx,
    │                           a 4xx other than 401/403, a body that does not validate)
    └── NotEnrolledError        this till has no HQ URL or token yet: `kedai-till enroll`

httpx exceptions are translated to :class:`SyncTransportError` in exactly one place
(``sync.agent.hq_client.HqClient.send``), so no other module needs to know httpx's hierarchy.
Every message is one line, written for a person reading ``kedai-till sync --once``'s
stderr or the till's status bar.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class; ``code`` is stable (tests, logs), ``message`` is for people."""

    code = "sync_error"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        """The HTTP status HQ answered with, when there was an answer."""


class SyncTransportError(SyncError):
    code = "hq_unreachable"


class SyncRefusedError(SyncError):
    code = "hq_refused"


class SyncProtocolError(SyncError):
    code = "hq_protocol"


class NotEnrolledError(SyncError):
    code = "not_enrolled"
