"""inventory and purchasing: the stock ledger, thresholds, suppliers, purchase orders,
goods receipts; movements backfilled from the sales already held

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL. The backfill is one ``INSERT ... SELECT``
(ids and timestamps are copied as stored, so it is the same on both dialects): every sale
and refund line naming a product becomes the movement ingest would have written for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO stock_movements
    (kind, reference, line_no, outlet_code, product_id, qty, unit_cost_cents, occurred_at,
     actor, note)
SELECT s.kind, l.sale_id, l.line_no, t.outlet_code, l.product_id, -l.qty, NULL,
       s.occurred_at, s.terminal_id, NULL
FROM sale_lines AS l
JOIN sales AS s ON s.sale_id = l.sale_id
JOIN terminals AS t ON t.terminal_id = s.terminal_id
WHERE l.product_id IS NOT NULL AND s.kind IN ('sale', 'refund')
"""


def upgrade() -> None:
    op.create_table(
        "stock_movements",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost_cents", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["outlet_code"], ["outlets.code"]),
        sa.PrimaryKeyConstraint("kind", "reference", "line_no"),
    )
    op.create_index(
        "ix_stock_movements_outlet_product", "stock_movements", ["outlet_code", "product_id"]
    )
    op.create_table(
        "stock_thresholds",
        sa.Column("outlet_code", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("min_qty", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["outlet_code"], ["outlets.code"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.product_id"]),
        sa.PrimaryKeyConstraint("outlet_code", "product_id"),
    )
    op.create_table(
        "suppliers",
        sa.Column("supplier_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("gst_reg_no", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("supplier_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("po_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["outlet_code"], ["outlets.code"]),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.supplier_id"]),
        sa.PrimaryKeyConstraint("po_id"),
    )
    op.create_index("ix_purchase_orders_supplier_id", "purchase_orders", ["supplier_id"])
    op.create_index("ix_purchase_orders_outlet_code", "purchase_orders", ["outlet_code"])
    op.create_table(
        "purchase_order_lines",
        sa.Column("po_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_cost_cents", sa.BigInteger(), nullable=False),
        sa.Column("tax_code", sa.String(length=2), nullable=False),
        sa.Column("received_qty", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["po_id"], ["purchase_orders.po_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.product_id"]),
        sa.PrimaryKeyConstraint("po_id", "line_no"),
    )
    op.create_table(
        "goods_receipts",
        sa.Column("receipt_id", sa.Uuid(), nullable=False),
        sa.Column("po_id", sa.Integer(), nullable=True),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=False),
        sa.Column("supplier_ref", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("taxable_cents", sa.BigInteger(), nullable=False),
        sa.Column("tax_cents", sa.BigInteger(), nullable=False),
        sa.Column("gst_rate_bp", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["outlet_code"], ["outlets.code"]),
        sa.ForeignKeyConstraint(["po_id"], ["purchase_orders.po_id"]),
        sa.ForeignKeyConstraint(["supplier_id"], ["suppliers.supplier_id"]),
        sa.PrimaryKeyConstraint("receipt_id"),
    )
    op.create_index("ix_goods_receipts_po_id", "goods_receipts", ["po_id"])
    op.create_index("ix_goods_receipts_received_at", "goods_receipts", ["received_at"])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_goods_receipts_received_at", table_name="goods_receipts")
    op.drop_index("ix_goods_receipts_po_id", table_name="goods_receipts")
    op.drop_table("goods_receipts")
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_outlet_code", table_name="purchase_orders")
    op.drop_index("ix_purchase_orders_supplier_id", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_table("suppliers")
    op.drop_table("stock_thresholds")
    op.drop_index("ix_stock_movements_outlet_product", table_name="stock_movements")
    op.drop_table("stock_movements")
