"""Report rollups kept at ingest: sales per UTC hour and products per UTC hour.

Reports over a quarter of a chain read millions of sales; the dashboard and the GST F5
read these sums instead (:mod:`hq.reports`). They are written in the transaction that
writes the facts, from the same new, valid events (:class:`hq.ingest._Collector` is only
handed those), so a resent batch adds nothing, a quarantined event adds nothing, and a
quarantined event retried through :mod:`hq.retry` adds once, when it becomes facts.

A batch is summed in Python first; then each table gets one ``INSERT ... ON CONFLICT DO
UPDATE SET c = c + excluded.c`` (:meth:`hq.bulk.BulkWriter.upsert`; on PostgreSQL both
run in the statement that writes the batch's facts, :meth:`hq.bulk.BulkWriter.write_all`).
Every key names its terminal and one terminal's pushes are serialised by its row lock, so
concurrent pushes of two tills never touch the same rollup row.

:func:`backfill` computes the same rows from the fact tables in SQL; migration 0012 uses
it so an upgraded HQ reports what it did before, and a store whose facts were written
around ingest can be brought back in line with :func:`rebuild`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from hq import models as m
from hq.bulk import BulkWriter, Write
from sync import protocol as p

SALES_HOURLY = cast(Table, m.SalesHourly.__table__)
PRODUCT_HOURLY = cast(Table, m.ProductHourly.__table__)

SALES_KEY = ("hour", "terminal_id", "cashier_id", "gst_rate_bp")
SALES_SUMS = (
    "sales", "gross_cents", "refunds", "refunded_cents", "discount_cents", "tax_cents",
    "sr_cents", "zr_cents", "es_cents", "off_rate_sales",
)  # fmt: skip
PRODUCT_KEY = ("hour", "terminal_id", "sku", "name")
PRODUCT_SUMS = ("qty", "net_cents", "sales")
NO_RATE = -1
"""``gst_rate_bp`` of a refund's rollup row (refunds carry no rate)."""


def rate_share(standard_cents: int, rate_bp: int) -> int:
    """The GST check's expected tax (:mod:`hq.reports.gst_f5`), for ``standard_cents >= 0``."""
    return (2 * standard_cents * rate_bp + 10_000 + rate_bp) // (2 * (10_000 + rate_bp))


@dataclass
class Rollups:
    """One batch's sums, keyed as the tables are."""

    sales: dict[tuple[datetime, str, UUID, int], list[int]] = field(default_factory=dict)
    products: dict[tuple[datetime, str, str, str], tuple[list[int], set[UUID]]] = field(
        default_factory=dict
    )

    def add(
        self,
        *,
        when: datetime,
        terminal_id: str,
        sale_id: UUID,
        payload: p.SaleCompleted | p.SaleRefunded,
    ) -> None:
        """Count a new sale or refund dated ``when`` (UTC, as its facts are dated)."""
        hour = when.replace(minute=0, second=0, microsecond=0)
        by_code = {"SR": 0, "ZR": 0, "ES": 0}
        refund = isinstance(payload, p.SaleRefunded)
        sign = -1 if refund else 1
        skus: set[str] = set()
        for ln in sorted(payload.lines, key=lambda ln: ln.line_no):
            if ln.tax_code in by_code:
                by_code[ln.tax_code] += ln.total_cents
            key = (hour, terminal_id, ln.sku, ln.name)
            entry = self.products.setdefault(key, ([0, 0], set()))
            entry[0][0] += sign * ln.qty
            entry[0][1] += sign * ln.total_cents
            if ln.sku not in skus:  # the receipt counts once per sku, on its first line
                skus.add(ln.sku)
                entry[1].add(sale_id)
        sr, zr, es = by_code["SR"], by_code["ZR"], by_code["ES"]
        if isinstance(payload, p.SaleRefunded):
            rate = NO_RATE
            discount = sum(ln.discount_cents for ln in payload.lines)
            row = [0, 0, 1, -payload.total_cents, -discount, -payload.tax_cents, -sr, -zr, -es, 0]
        else:
            rate = payload.gst_rate_bp
            off = int(sr < 0 or payload.tax_cents != rate_share(sr, rate))
            row = [
                1, payload.total_cents, 0, 0, payload.discount_cents, payload.tax_cents,
                sr, zr, es, off,
            ]  # fmt: skip
        key4 = (hour, terminal_id, payload.cashier_id, rate)
        have = self.sales.get(key4)
        if have is None:
            self.sales[key4] = row
        else:
            for i, value in enumerate(row):
                have[i] += value

    async def write(self, bulk: BulkWriter) -> None:
        """One additive upsert per table, rows in key order."""
        await bulk.write_all(self.writes(bulk))

    def writes(self, bulk: BulkWriter) -> list[Write]:
        """The two additive upserts (rows in key order), for :meth:`BulkWriter.write_all`
        (ingest runs them with the batch's other fact inserts); none for no sales."""
        if not self.sales:
            return []
        u, ts = bulk.uuid, bulk.timestamp
        return [
            Write(
                SALES_HOURLY,
                SALES_KEY,
                [
                    (ts(h), t, u(c), r, *sums)
                    for (h, t, c, r), sums in sorted(self.sales.items(), key=_sales_order)
                ],
                sums=SALES_SUMS,
            ),
            Write(
                PRODUCT_HOURLY,
                PRODUCT_KEY,
                [
                    (ts(h), t, sku, name, qty, net, len(ids))
                    for (h, t, sku, name), ([qty, net], ids) in sorted(self.products.items())
                ],
                sums=PRODUCT_SUMS,
            ),
        ]


def _sales_order(item: tuple[tuple[datetime, str, UUID, int], list[int]]) -> tuple[Any, ...]:
    (h, t, c, r), _ = item
    return (h, t, str(c), r)


# ------------------------------------------------------------------------------ backfill


def _hour(dialect: str, column: str) -> str:
    """The UTC hour of a stored timestamp, in the column's own stored form."""
    if dialect == "postgresql":
        return f"date_trunc('hour', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"substr({column}, 1, 13) || ':00:00.000000'"


def backfill_statements(dialect: str) -> Sequence[str]:
    """``INSERT ... SELECT`` statements filling both rollups from the fact tables (which
    must be empty in the rollups beforehand)."""
    hour = _hour(dialect, "s.occurred_at")
    by_code = ", ".join(
        f"CAST(SUM(CASE WHEN tax_code = '{code.upper()}' THEN total_cents ELSE 0 END)"
        f" AS BIGINT) AS {code}"
        for code in ("sr", "zr", "es")
    )
    columns = ", ".join((*SALES_KEY, *SALES_SUMS))
    sales = f"""
        INSERT INTO sales_hourly ({columns})
        SELECT x.hour, x.terminal_id, x.cashier_id, x.rate,
               SUM(CASE WHEN x.kind = 'sale' THEN 1 ELSE 0 END),
               SUM(CASE WHEN x.kind = 'sale' THEN x.total_cents ELSE 0 END),
               SUM(CASE WHEN x.kind = 'sale' THEN 0 ELSE 1 END),
               SUM(CASE WHEN x.kind = 'sale' THEN 0 ELSE x.total_cents END),
               SUM(x.discount_cents), SUM(x.tax_cents), SUM(x.sr), SUM(x.zr), SUM(x.es),
               SUM(CASE WHEN x.kind = 'sale' AND (
                        x.gst_rate_bp IS NULL OR x.sr < 0
                        OR x.tax_cents <> (2 * x.sr * x.gst_rate_bp + 10000 + x.gst_rate_bp)
                                          / (2 * (10000 + x.gst_rate_bp)))
                   THEN 1 ELSE 0 END)
        FROM (
            SELECT {hour} AS hour, s.terminal_id, s.cashier_id, s.kind, s.total_cents,
                   s.discount_cents, s.tax_cents, s.gst_rate_bp,
                   CASE WHEN s.kind = 'sale' THEN COALESCE(s.gst_rate_bp, {NO_RATE})
                        ELSE {NO_RATE} END AS rate,
                   COALESCE(l.sr, 0) AS sr, COALESCE(l.zr, 0) AS zr, COALESCE(l.es, 0) AS es
            FROM sales AS s
            LEFT JOIN (  -- BIGINT: PostgreSQL's SUM of BIGINT is NUMERIC, whose / is exact
                SELECT sale_id,
                       {by_code}
                FROM sale_lines GROUP BY sale_id
            ) AS l ON l.sale_id = s.sale_id
        ) AS x
        GROUP BY x.hour, x.terminal_id, x.cashier_id, x.rate
    """
    products = f"""
        INSERT INTO product_hourly (hour, terminal_id, sku, name, qty, net_cents, sales)
        SELECT {hour}, s.terminal_id, l.sku, l.name, SUM(l.qty), SUM(l.total_cents),
               SUM(CASE WHEN l.line_no = f.first_line THEN 1 ELSE 0 END)
        FROM sale_lines AS l
        JOIN sales AS s ON s.sale_id = l.sale_id
        JOIN (
            SELECT sale_id, sku, MIN(line_no) AS first_line FROM sale_lines GROUP BY sale_id, sku
        ) AS f ON f.sale_id = l.sale_id AND f.sku = l.sku
        GROUP BY {hour}, s.terminal_id, l.sku, l.name
    """
    return [sales, products]


def backfill(connection: Connection) -> None:
    """Fill the (empty) rollups from the facts, on a synchronous connection (Alembic's)."""
    for sql in backfill_statements(connection.dialect.name):
        connection.execute(text(sql))


def rebuild(connection: Connection) -> None:
    """Empty the rollups and fill them again from the facts (one transaction: the caller's)."""
    connection.execute(text("DELETE FROM sales_hourly"))
    connection.execute(text("DELETE FROM product_hourly"))
    backfill(connection)
