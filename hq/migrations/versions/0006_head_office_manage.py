"""head office manages the shops: cashiers per outlet, feed removals, member address,
scheduled prices, outlet details

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30

Hand-written; runs on SQLite (batch mode) and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("gst_reg_no", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("opening_hours", sa.String(length=200), nullable=True))
    with op.batch_alter_table("cashiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet_code", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_cashiers_outlet_code"), ["outlet_code"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_cashiers_outlet_code_outlets"), "outlets", ["outlet_code"], ["code"]
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.Text(), nullable=True))
    op.create_table(
        "feed_removals",
        sa.Column("removal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("removal_id"),
    )
    with op.batch_alter_table("feed_removals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_removals_change_seq"), ["change_seq"], unique=False
        )

    op.create_table(
        "product_prices",
        sa.Column("price_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outlet_code"], ["outlets.code"]),
        sa.ForeignKeyConstraint(["product_id"], ["products.product_id"]),
        sa.PrimaryKeyConstraint("price_id"),
    )
    with op.batch_alter_table("product_prices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_prices_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_prices_product_id"))
    op.drop_table("product_prices")
    with op.batch_alter_table("feed_removals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_removals_change_seq"))
    op.drop_table("feed_removals")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("address")
    with op.batch_alter_table("cashiers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cashiers_outlet_code_outlets"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_cashiers_outlet_code"))
        batch_op.drop_column("outlet_code")
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("gst_reg_no")
        batch_op.drop_column("address")
