"""Cashier PIN hashes: slow, salted, self-describing, modest in memory."""

from __future__ import annotations

from sync.pins import hash_pin, verify_pin


def test_pin_round_trip_and_salting():
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b  # a fresh salt each time
    assert verify_pin("1234", a) and verify_pin("1234", b)
    assert not verify_pin("1235", a)
    assert "1234" not in a


def test_hash_memory_stays_small_for_low_spec_tills():
    _, n, r, p, _, _ = hash_pin("0000").split("$")
    assert 128 * int(n) * int(r) <= 4 * 1024 * 1024  # scrypt's memory: 128 * n * r bytes
    assert int(n) * int(r) * int(p) >= 2**14 * 8  # no cheaper than the textbook cost


def test_hashes_made_with_other_parameters_still_verify():
    old = hash_pin("9999", n=2**10)
    assert verify_pin("9999", old) and not verify_pin("1234", old)


def test_malformed_hashes_never_verify():
    huge = "scrypt$1048576$64$1$AAAA$AAAA"  # would need 8 GiB: refused before hashing
    for bad in ("", "scrypt$", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AA==$AA==", "plain-1234", huge):
        assert not verify_pin("1234", bad)
