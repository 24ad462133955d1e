"""till operations: approvals, refunds, cancels, voids, cash movements, Z reports

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cashiers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval_failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("approval_locked_until", sa.String(length=32), nullable=True))
    with op.batch_alter_table("store_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approval_limits", sa.Text(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("z_report", sa.Text(), nullable=True))

    op.create_table(
        "approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("manager_id", sa.Uuid(), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["cashier_id"], ["cashiers.id"]),
        sa.ForeignKeyConstraint(["manager_id"], ["cashiers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("original_sale_id", sa.Uuid(), nullable=False),
        sa.Column("credit_note_no", sa.String(length=48), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("rounding_cents", sa.Integer(), nullable=False),
        sa.Column("to_cash", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("points_reversed", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cashier_id"], ["cashiers.id"]),
        sa.ForeignKeyConstraint(["event_seq"], ["outbox.seq"]),
        sa.ForeignKeyConstraint(["original_sale_id"], ["sales.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_note_no"),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_refunds_original_sale_id"), ["original_sale_id"], unique=False
        )
    op.create_table(
        "refund_lines",
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0"),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("tax_code", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"]),
        sa.PrimaryKeyConstraint("refund_id", "line_no"),
    )
    op.create_table(
        "refund_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("tender", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("refund_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_payments_refund_id"), ["refund_id"], unique=False
        )
    op.create_table(
        "till_activity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('cancel','void','cash_in','cash_out','no_sale')"),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cashier_id"], ["cashiers.id"]),
        sa.ForeignKeyConstraint(["event_seq"], ["outbox.seq"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("till_activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_till_activity_shift_id"), ["shift_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("till_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_till_activity_shift_id"))
    op.drop_table("till_activity")
    with op.batch_alter_table("refund_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_payments_refund_id"))
    op.drop_table("refund_payments")
    op.drop_table("refund_lines")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_original_sale_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_created_at"))
    op.drop_table("refunds")
    op.drop_table("approvals")
    # SQLite >= 3.35 drops a column in place. A batch (copy-and-rename) would trip the
    # receipt trigger, which reads store_settings, while the table is being renamed.
    op.drop_column("shifts", "z_report")
    op.drop_column("store_settings", "approval_limits")
    op.drop_column("cashiers", "approval_locked_until")
    op.drop_column("cashiers", "approval_failed_attempts")
