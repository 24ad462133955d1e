"""till operations: refused approvals, cancels, Z reports, approval limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.alter_column("manager_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=8), nullable=False, server_default="granted")
        )
        batch_op.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_limits", sa.JSON(), nullable=True))
    op.create_table(
        "cancels",
        sa.Column("cancel_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approval_id", sa.Uuid(), nullable=True),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cancel_id"),
    )
    with op.batch_alter_table("cancels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cancels_terminal_id"), ["terminal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cancels_shift_id"), ["shift_id"], unique=False)
    op.create_table(
        "z_reports",
        sa.Column("shift_id", sa.Uuid(), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gross_sales_cents", sa.BigInteger(), nullable=False),
        sa.Column("refunds_cents", sa.BigInteger(), nullable=False),
        sa.Column("net_sales_cents", sa.BigInteger(), nullable=False),
        sa.Column("sales_count", sa.Integer(), nullable=False),
        sa.Column("refunds_count", sa.Integer(), nullable=False),
        sa.Column("cancels_count", sa.Integer(), nullable=False),
        sa.Column("expected_cash_cents", sa.BigInteger(), nullable=False),
        sa.Column("counted_cash_cents", sa.BigInteger(), nullable=False),
        sa.Column("variance_cents", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("shift_id"),
    )
    with op.batch_alter_table("z_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_z_reports_terminal_id"), ["terminal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_z_reports_closed_at"), ["closed_at"], unique=False)
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_original_sale_id"), ["original_sale_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_original_sale_id"))
    with op.batch_alter_table("z_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_z_reports_closed_at"))
        batch_op.drop_index(batch_op.f("ix_z_reports_terminal_id"))
    op.drop_table("z_reports")
    with op.batch_alter_table("cancels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cancels_shift_id"))
        batch_op.drop_index(batch_op.f("ix_cancels_terminal_id"))
    op.drop_table("cancels")
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("approval_limits")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_column("locked")
        batch_op.drop_column("failed_attempts")
        batch_op.drop_column("outcome")
        batch_op.alter_column("manager_id", existing_type=sa.Uuid(), nullable=False)
