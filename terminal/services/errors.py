"""Errors services raise for the UI and CLI to show.

Hierarchy::

    TillError                    anything a cashier can be told about and act on
    ├── CheckoutError            the sale cannot be finalized as asked (nothing written)
    │   ├── EmptyCartError
    │   ├── UnknownProductError
    │   ├── BadQuantityError
    │   ├── UnknownCustomerError
    │   ├── UnknownCashierError
    │   └── PaymentError         short payment, non-cash overpayment, CDC limit, points
    ├── ApprovalRequired         the action needs a manager's approval it does not carry
    ├── RefundError              a refund the sale cannot take (over-refund, bad tenders)
    ├── NotFoundError            a lookup found nothing (unknown barcode, customer...)
    ├── LoginError               wrong PIN, locked out
    ├── NotInitialisedError      the database has no store settings yet
    └── StorageError             the local database is locked, full or unwritable

Each carries a ``code`` (stable, for tests and logs) and a message written for a cashier.
"""

from __future__ import annotations


class TillError(Exception):
    code = "till_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CheckoutError(TillError):
    code = "checkout_error"


class EmptyCartError(CheckoutError):
    code = "empty_cart"


class UnknownProductError(CheckoutError):
    code = "unknown_product"


class BadQuantityError(CheckoutError):
    code = "bad_quantity"


class UnknownCustomerError(CheckoutError):
    code = "unknown_customer"


class UnknownCashierError(CheckoutError):
    code = "unknown_cashier"


class PaymentError(CheckoutError):
    code = "payment"


class ApprovalRequired(TillError):
    """Nothing was written: ask a manager's PIN for each of ``needs`` and try again.

    ``needs`` are ``(action, line_no)`` pairs (``line_no`` None: the whole sale), so a
    screen can ask once per action and pass the approvals back with the request.
    """

    code = "approval_required"

    def __init__(self, message: str, needs: list[tuple[str, int | None]]) -> None:
        super().__init__(message)
        self.needs = needs


class RefundError(TillError):
    code = "refund"


class NotFoundError(TillError):
    code = "not_found"


class LoginError(TillError):
    code = "login"


class LockedError(LoginError):
    """Too many wrong PINs: log-in (or approvals) locked for a while."""

    code = "locked"


class NotInitialisedError(TillError):
    code = "not_initialised"


class StorageError(TillError):
    code = "storage"
