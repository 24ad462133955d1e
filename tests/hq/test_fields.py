"""The back office reads a price, a GST registration number and an email one way."""

from __future__ import annotations

import pytest

from hq import fields


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("3.30", 330), (" 3.3 ", 330), ("3", 300), ("0.05", 5), ("S$1,250.50", 125050),
     ("$12", 1200), ("1000000.00", 100_000_000)],
)  # fmt: skip
def test_a_price_is_read_as_the_person_sees_it(typed: str, cents: int) -> None:
    assert fields.price_cents(typed) == cents


@pytest.mark.parametrize(
    "typed", ["", "abc", "1e3", "NaN", "Infinity", "-1.00", "+3", "3_000", "1.234", ".5", "1,00"]
)
def test_anything_else_is_not_a_price(typed: str) -> None:
    with pytest.raises(fields.FieldError, match="is not a price like 3.30"):
        fields.price_cents(typed)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("M90312345X", "M90312345X"), ("mr-8500001-7", "MR-8500001-7"),
     ("200312345a", "200312345A"), ("T08LL1234A", "T08LL1234A"), ("  ", None)],
)  # fmt: skip
def test_gst_registration_numbers_as_iras_issues_them(typed: str, kept: str | None) -> None:
    assert fields.gst_reg_no(typed) == kept


@pytest.mark.parametrize("typed", ["!!!", "M9-1", "GST", "ABCDEFGHIJ", "M903 12345X", "-M9031234-"])
def test_other_gst_numbers_are_refused(typed: str) -> None:
    with pytest.raises(fields.FieldError, match="is not a GST registration number"):
        fields.gst_reg_no(typed)


def test_an_email_needs_a_name_and_a_domain() -> None:
    assert fields.email(" ah.hock@example.sg ") == "ah.hock@example.sg"
    assert fields.email("") is None
    for odd in ("ah.hock", "ah.hock@example", "@example.sg", "a b@example.sg", "a@@b.sg"):
        with pytest.raises(fields.FieldError, match="is not an email address"):
            fields.email(odd)
