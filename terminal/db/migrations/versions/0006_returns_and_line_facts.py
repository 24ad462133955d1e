"""returns of other tills' sales and manual returns; price override and age check on lines

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 11:00:00

A refund may now name a sale this till does not hold (looked up at HQ) or none at all
(a manual return), so ``refunds.original_sale_id`` loses its NOT NULL and its foreign
key to ``sales``, and ``original_receipt_no`` keeps the number printed on the credit note.

SQLite cannot drop a constraint, and the usual table copy cannot run here: migrations run
in one transaction with ``foreign_keys=ON`` (which cannot be switched off inside it), and
dropping ``refunds`` would break ``refund_lines``' and ``refund_payments``' references.
So the table's stored definition is edited in place, the procedure SQLite documents for
removing NOT NULL and FOREIGN KEY constraints (https://sqlite.org/lang_altertable.html,
section 7): the rows on disk do not change.
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = re.compile(
    r",\s*FOREIGN KEY\s*\(\s*original_sale_id\s*\)\s*REFERENCES\s+sales\s*\(\s*id\s*\)"
)
_NOT_NULL = re.compile(r"(original_sale_id\s+CHAR\(32\))\s+NOT NULL")


def _edit_refunds_definition(edit: Callable[[str], str]) -> None:
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'refunds'")
    ).scalar_one()
    new = edit(sql)
    if new == sql:
        raise RuntimeError("refunds: unexpected table definition, not changed")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'refunds'"),
        {"sql": new},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _loosen(sql: str) -> str:
    return _NOT_NULL.sub(r"\1", _FK.sub("", sql, count=1), count=1)


def _tighten(sql: str) -> str:
    sql = re.sub(r"(original_sale_id\s+CHAR\(32\))", r"\1 NOT NULL", sql, count=1)
    head, _, tail = sql.rpartition(")")
    return f"{head.rstrip()}, \n\tFOREIGN KEY(original_sale_id) REFERENCES sales (id)\n){tail}"


def upgrade() -> None:
    _edit_refunds_definition(_loosen)
    op.add_column("refunds", sa.Column("original_receipt_no", sa.String(length=40), nullable=True))
    # Plain ADD COLUMNs: a batch table copy would drop sale_lines' unnamed CHECK.
    op.add_column("sale_lines", sa.Column("list_price_cents", sa.Integer(), nullable=True))
    op.add_column("sale_lines", sa.Column("price_override_by", sa.Uuid(), nullable=True))
    op.add_column(
        "sale_lines",
        sa.Column("age_confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    for table, column in (
        ("sale_lines", "age_confirmed"),
        ("sale_lines", "price_override_by"),
        ("sale_lines", "list_price_cents"),
        ("refunds", "original_receipt_no"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    # Refunds of sales this till does not hold cannot stay under the old foreign key
    # (their events stay in the outbox, so HQ keeps them).
    foreign = (
        "SELECT id FROM refunds WHERE original_sale_id IS NULL"
        " OR original_sale_id NOT IN (SELECT id FROM sales)"
    )
    for table in ("refund_lines", "refund_payments"):
        op.execute(f"DELETE FROM {table} WHERE refund_id IN ({foreign})")
    op.execute(f"DELETE FROM refunds WHERE id IN ({foreign})")
    _edit_refunds_definition(_tighten)
