"""Back-office authentication: sessions, CSRF, login throttling and the admin audit trail.

No FastAPI here: these are data functions over HQ's store; ``hq.api.admin`` turns them
into request dependencies.
"""

from hq.auth import audit, login, sessions, throttle

__all__ = ["audit", "login", "sessions", "throttle"]
