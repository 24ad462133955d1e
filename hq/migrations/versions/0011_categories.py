"""product categories, a loyalty date index, admins that can be deactivated

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("category_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("category_id"),
        sa.UniqueConstraint("name_key"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ADD CONSTRAINT, and a batch table copy would drop the products
        # table's unnamed CHECK constraints; a column with REFERENCES (NULL default) it has.
        op.execute(
            "ALTER TABLE products ADD COLUMN category_id INTEGER "
            "REFERENCES categories (category_id)"
        )
    else:
        op.add_column("products", sa.Column("category_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "products_category_id_fkey", "products", "categories", ["category_id"], ["category_id"]
        )
    op.create_index("ix_products_category_id", "products", ["category_id"], unique=False)
    op.create_index(
        "ix_loyalty_entries_occurred_at", "loyalty_entries", ["occurred_at"], unique=False
    )
    op.add_column("admins", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE admins DROP COLUMN disabled_at")
    op.drop_index("ix_loyalty_entries_occurred_at", table_name="loyalty_entries")
    op.drop_index("ix_products_category_id", table_name="products")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("products_category_id_fkey", "products", type_="foreignkey")
    op.execute("ALTER TABLE products DROP COLUMN category_id")
    op.drop_table("categories")
