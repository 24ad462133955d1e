"""report rollups: sales and products per UTC hour, kept at ingest, filled from the facts

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL. The tables are filled from the fact tables
here (:func:`hq.rollups.backfill`, the same SQL a rebuild runs), so an upgraded HQ
reports exactly the figures it reported before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hq.rollups import backfill

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sums(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "sales_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("gst_rate_bp", sa.Integer(), nullable=False),
        *_sums(
            "sales",
            "gross_cents",
            "refunds",
            "refunded_cents",
            "discount_cents",
            "tax_cents",
            "sr_cents",
            "zr_cents",
            "es_cents",
            "off_rate_sales",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("hour", "terminal_id", "cashier_id", "gst_rate_bp"),
        sqlite_with_rowid=False,  # stored in key order: a period is one range scan
    )
    op.create_table(
        "product_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        *_sums("qty", "net_cents", "sales"),
        sa.PrimaryKeyConstraint("hour", "terminal_id", "sku", "name"),
        sqlite_with_rowid=False,
    )
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("product_hourly")
    op.drop_table("sales_hourly")
