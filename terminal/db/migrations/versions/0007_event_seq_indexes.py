"""an index on every column that refers to an outbox event

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:30:00

``sales``, ``loyalty_ledger``, ``refunds`` and ``till_activity`` name the outbox event
that carried them (``event_seq``) but had no index on it. Pruning sent events asks of each
candidate whether any row still refers to it, and SQLite checks the same on every deleted
outbox row (foreign keys are on): without these indexes each question scanned the whole
table, so one prune of a till holding 50,000 sent sales took minutes with the write lock
held, and a sale waiting to commit behind it timed out. Marking a pushed batch's points
as counted at HQ looked its ledger rows up by ``event_seq`` too.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("sales", "loyalty_ledger", "refunds", "till_activity")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_event_seq", table, ["event_seq"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_event_seq", table_name=table)
