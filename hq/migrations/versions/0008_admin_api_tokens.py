"""admin API tokens: scripts and BI tools read /v1/reports with a bearer token

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Hand-written; runs on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_api_tokens",
        sa.Column("token_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["username"], ["admins.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id"),
    )
    op.create_index("ix_admin_api_tokens_username", "admin_api_tokens", ["username"], unique=False)
    op.create_index(
        "ix_admin_api_tokens_token_hash", "admin_api_tokens", ["token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_admin_api_tokens_token_hash", table_name="admin_api_tokens")
    op.drop_index("ix_admin_api_tokens_username", table_name="admin_api_tokens")
    op.drop_table("admin_api_tokens")
