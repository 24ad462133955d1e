"""sale rows written from Python; the database checks the receipt number

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:45:00.000000

Migration 0001 projected a ``sale.completed`` outbox row into the sale tables with an
SQL trigger. The checkout now writes those rows itself from the same event object
(``terminal.db.projection.write_sale``), so the trigger goes; rows already written stay
as they are. The cheap counter triggers stay, and the receipt check grows: a sale's
``receipt_seq`` must be the receipt counter plus one (as before, but now the checkout
supplies it rather than the trigger), and its ``receipt_no`` must be this till's
``OUTLET-TERMINAL-NNNNNN`` for that very sequence, so a receipt printed with a number the
database did not allocate can never commit.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RECEIPT_CHECKED = """
CREATE TRIGGER receipt_seq_gapless BEFORE INSERT ON sales
BEGIN
    SELECT RAISE(ABORT, 'receipt_seq must be the receipt counter plus one')
    WHERE NEW.receipt_seq IS NOT (SELECT value + 1 FROM counters WHERE name = 'receipt');
    SELECT RAISE(ABORT, 'receipt_no must be OUTLET-TERMINAL-NNNNNN for its receipt_seq')
    WHERE NEW.receipt_no IS NOT (
        SELECT outlet_code || '-' || terminal_code || '-' || printf('%06d', NEW.receipt_seq)
        FROM store_settings);
END
"""


def upgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sale_completed_projection")
    op.execute("DROP TRIGGER IF EXISTS receipt_seq_gapless")
    op.execute(RECEIPT_CHECKED)


def downgrade() -> None:
    # 0001's own SQL, from its module, so the two cannot drift apart.
    script = op.get_context().script
    assert script is not None
    initial = script.get_revision("0001")
    assert initial is not None and initial.module is not None
    op.execute("DROP TRIGGER IF EXISTS receipt_seq_gapless")
    for statement in initial.module.GAPLESS_TRIGGERS:
        if "receipt_seq_gapless" in statement:
            op.execute(statement)
    op.execute(initial.module.SALE_PROJECTION)
