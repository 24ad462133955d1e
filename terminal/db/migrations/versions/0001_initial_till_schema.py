"""initial till schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 00:51:58.911288
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "cashiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint("role IN ('cashier','manager')"),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("search_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("hq_balance", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_search_name"), ["search_name"], unique=False)

    op.create_table(
        "gst_rates",
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("effective_from"),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('pending','sent','rejected')"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_seq", ["status", "seq"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("search_name", sa.String(length=200), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("price_cents >= 0"),
        sa.Column("tax_code", sa.String(length=2), nullable=False),
        sa.CheckConstraint("tax_code IN ('SR','ZR','ES')"),
        sa.Column("cdc_eligible", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("barcode"),
        sa.UniqueConstraint("sku"),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_search_name"), ["search_name"], unique=False)

    op.create_table(
        "store_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_code", sa.String(length=16), nullable=False),
        sa.Column("terminal_code", sa.String(length=16), nullable=False),
        sa.Column("store_name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("gst_reg_no", sa.String(length=32), nullable=False),
        sa.Column("loyalty_cents_per_point_earned", sa.Integer(), nullable=False),
        sa.Column("loyalty_point_value_cents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hq_url", sa.String(length=400), nullable=True),
        sa.Column("token", sa.String(length=200), nullable=True),
        sa.Column("terminal_id", sa.String(length=40), nullable=True),
        sa.Column("change_cursor", sa.Integer(), nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False),
        sa.Column("last_push_ok_at", sa.String(length=32), nullable=True),
        sa.Column("last_pull_ok_at", sa.String(length=32), nullable=True),
        sa.Column("last_attempt_at", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tenders",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "parked_sales",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("parked_at", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("cart_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cashier_id"],
            ["cashiers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("opened_at", sa.String(length=32), nullable=False),
        sa.Column("closed_at", sa.String(length=32), nullable=True),
        sa.Column("opening_float_cents", sa.Integer(), nullable=False),
        sa.Column("counted_cash_cents", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cashier_id"],
            ["cashiers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stock",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.PrimaryKeyConstraint("product_id"),
    )
    op.create_table(
        "sales",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("receipt_no", sa.String(length=48), nullable=False),
        sa.Column("receipt_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("receipt_seq"),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("cashier_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("shift_id", sa.Uuid(), nullable=True),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.Column("gst_rate_bp", sa.Integer(), nullable=False),
        sa.Column("rounding_cents", sa.Integer(), nullable=False),
        sa.Column("change_cents", sa.Integer(), nullable=False),
        sa.Column("points_earned", sa.Integer(), nullable=False),
        sa.Column("points_redeemed", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cashier_id"],
            ["cashiers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["outbox.seq"],
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_no"),
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_created_at"), ["created_at"], unique=False)

    op.create_table(
        "loyalty_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("counted_at_hq", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["outbox.seq"],
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["sales.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loyalty_uncounted", ["customer_id", "counted_at_hq"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("tender", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("tendered_cents", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["sales.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_sale_id"), ["sale_id"], unique=False)

    op.create_table(
        "sale_lines",
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0"),
        sa.Column("unit_price_cents", sa.Integer(), nullable=False),
        sa.Column("discount_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("tax_code", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"],
            ["sales.id"],
        ),
        sa.PrimaryKeyConstraint("sale_id", "line_no"),
    )

    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.Integer))
    op.bulk_insert(counters, [{"name": "receipt", "value": 0}, {"name": "event", "value": 0}])
    for statement in (*GAPLESS_TRIGGERS, SALE_PROJECTION):
        op.execute(statement)


GAPLESS_TRIGGERS = (
    """CREATE TRIGGER outbox_seq_gapless BEFORE INSERT ON outbox
    BEGIN
        SELECT RAISE(ABORT, 'outbox seq must be the event counter plus one')
        WHERE NEW.seq != (SELECT value + 1 FROM counters WHERE name = 'event');
    END""",
    """CREATE TRIGGER outbox_seq_bump AFTER INSERT ON outbox
    BEGIN
        UPDATE counters SET value = NEW.seq WHERE name = 'event';
    END""",
    """CREATE TRIGGER receipt_seq_gapless BEFORE INSERT ON sales
    BEGIN
        SELECT RAISE(ABORT, 'receipt_seq must be the receipt counter plus one')
        WHERE NEW.receipt_seq != (SELECT value + 1 FROM counters WHERE name = 'receipt');
    END""",
    """CREATE TRIGGER receipt_seq_bump AFTER INSERT ON sales
    BEGIN
        UPDATE counters SET value = NEW.receipt_seq WHERE name = 'receipt';
    END""",
)


# The sale tables are a projection of the ``sale.completed`` outbox event, written by the
# database in the same statement that stores the event: the checkout sends one INSERT
# (one hand-off to the aiosqlite thread) instead of six, and the local facts can never
# disagree with what HQ is sent. UUIDs are stored as 32 hex digits (SQLAlchemy's Uuid on
# SQLite), hence the replace() of the JSON's dashed form.
SALE_PROJECTION = """
CREATE TRIGGER sale_completed_projection AFTER INSERT ON outbox
WHEN NEW.type = 'sale.completed'
BEGIN
    INSERT INTO sales (
        id, receipt_no, receipt_seq, created_at, cashier_id, customer_id, shift_id,
        subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp,
        rounding_cents, change_cents, points_earned, points_redeemed, event_seq)
    SELECT
        replace(p ->> '$.sale_id', '-', ''),
        p ->> '$.receipt_no',
        (SELECT value + 1 FROM counters WHERE name = 'receipt'),
        NEW.occurred_at,
        replace(p ->> '$.cashier_id', '-', ''),
        replace(p ->> '$.customer_id', '-', ''),
        replace(p ->> '$.shift_id', '-', ''),
        p ->> '$.subtotal_cents', p ->> '$.discount_cents', p ->> '$.total_cents',
        p ->> '$.tax_cents', p ->> '$.gst_rate_bp', p ->> '$.rounding_cents',
        p ->> '$.change_cents',
        (SELECT coalesce(sum(value ->> '$.points'), 0) FROM json_each(p, '$.loyalty')
            WHERE value ->> '$.reason' = 'earn'),
        (SELECT coalesce(-sum(value ->> '$.points'), 0) FROM json_each(p, '$.loyalty')
            WHERE value ->> '$.reason' = 'redeem'),
        NEW.seq
    FROM (SELECT NEW.payload AS p);

    INSERT INTO sale_lines (
        sale_id, line_no, product_id, sku, name, qty, unit_price_cents, discount_cents,
        total_cents, tax_code)
    SELECT
        replace(NEW.payload ->> '$.sale_id', '-', ''),
        value ->> '$.line_no', replace(value ->> '$.product_id', '-', ''),
        value ->> '$.sku', value ->> '$.name', value ->> '$.qty',
        value ->> '$.unit_price_cents', value ->> '$.discount_cents',
        value ->> '$.total_cents', value ->> '$.tax_code'
    FROM json_each(NEW.payload, '$.lines');

    INSERT INTO payments (id, sale_id, tender, amount_cents, tendered_cents, reference)
    SELECT
        replace(value ->> '$.payment_id', '-', ''),
        replace(NEW.payload ->> '$.sale_id', '-', ''),
        value ->> '$.tender', value ->> '$.amount_cents', value ->> '$.tendered_cents',
        value ->> '$.reference'
    FROM json_each(NEW.payload, '$.payments');

    INSERT INTO loyalty_ledger (
        id, customer_id, sale_id, points, reason, created_at, event_seq, counted_at_hq)
    SELECT
        replace(value ->> '$.entry_id', '-', ''),
        replace(value ->> '$.customer_id', '-', ''),
        replace(NEW.payload ->> '$.sale_id', '-', ''),
        value ->> '$.points', value ->> '$.reason', NEW.occurred_at, NEW.seq, 0
    FROM json_each(NEW.payload, '$.loyalty');

    INSERT INTO stock (product_id, on_hand)
    SELECT replace(value ->> '$.product_id', '-', ''), -sum(value ->> '$.qty')
    FROM json_each(NEW.payload, '$.lines')
    WHERE value ->> '$.product_id' IS NOT NULL
    GROUP BY 1
    ON CONFLICT (product_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand;
END
"""


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sale_completed_projection")
    for name in (
        "receipt_seq_bump",
        "receipt_seq_gapless",
        "outbox_seq_bump",
        "outbox_seq_gapless",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")

    op.drop_table("sale_lines")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_sale_id"))

    op.drop_table("payments")
    with op.batch_alter_table("loyalty_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_loyalty_uncounted")

    op.drop_table("loyalty_ledger")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_created_at"))

    op.drop_table("sales")
    op.drop_table("stock")
    op.drop_table("shifts")
    op.drop_table("parked_sales")
    op.drop_table("tenders")
    op.drop_table("sync_state")
    op.drop_table("store_settings")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_search_name"))

    op.drop_table("products")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_seq")

    op.drop_table("outbox")
    op.drop_table("gst_rates")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_search_name"))
        batch_op.drop_index(batch_op.f("ix_customers_phone"))

    op.drop_table("customers")
    op.drop_table("counters")
    op.drop_table("cashiers")
