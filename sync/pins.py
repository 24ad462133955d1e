"""Cashier PIN hashing, shared by HQ (which sets PINs) and the till (which checks them).

PINs are short, so the hash must be slow: stdlib ``hashlib.scrypt`` (no extra native
dependency on the till) with a per-PIN random salt. The encoded form carries its own
parameters so they can be raised later without breaking stored hashes.

Parameters: scrypt's work is proportional to ``n * r * p`` but its memory only to
``n * r``. ``n=2**12, r=8, p=4`` costs the same time as the textbook ``n=2**14, r=8,
p=1`` (~40 ms) in a quarter of the memory (4 MiB instead of 16 MiB), which keeps a
login on a low-spec till inside its memory budget. A 4-digit PIN's real protection is
the lockout and the file permissions, not the hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**12, 8, 4
_PREFIX = "scrypt"


def hash_pin(pin: str, *, n: int = _N) -> str:
    """Return ``scrypt$n$r$p$salt$hash`` for ``pin``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32)
    return "$".join(
        [_PREFIX, str(n), str(_R), str(_P), _b64(salt), _b64(digest)],
    )


def verify_pin(pin: str, encoded: str) -> bool:
    """Check ``pin`` against an encoded hash in constant time; a malformed hash fails."""
    try:
        prefix, n, r, p, salt, digest = encoded.split("$")
        if prefix != _PREFIX or not _sane(int(n), int(r), int(p)):
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * int(r) * int(n) * 2 + 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _sane(n: int, r: int, p: int) -> bool:
    """Hashes arrive from HQ: never let one make the till allocate or spin without bound."""
    return 2 <= n <= 2**16 and 1 <= r <= 16 and 1 <= p <= 16 and 128 * n * r <= 32 * 2**20


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
