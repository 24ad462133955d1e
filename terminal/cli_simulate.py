"""`kedai-till simulate`: scripted days through the same services a cashier uses.

For demos, soak tests, benchmarks and HQ's reconciliation: sales, and with the rates,
refunds, points redemptions, new customers, cancels, and shifts closed with a count.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import TYPE_CHECKING

import click

from terminal.cli_common import db_option, fail, open_db

if TYPE_CHECKING:
    from terminal.services.simulate import DayRates, DayTally

_rate = click.FloatRange(0.0, 1.0)


@click.command()
@db_option
@click.option("--sales", "count", type=click.IntRange(min=1), required=True)
@click.option("--customers", is_flag=True, help="Attach demo loyalty customers to ~40%.")
@click.option("--seed", type=int, default=None, help="Random seed, for repeatable runs.")
@click.option("--refund-rate", type=_rate, default=0.0, help="Refunds per sale (0-1).")
@click.option("--redeem-rate", type=_rate, default=0.0, help="Member sales paid partly in points.")
@click.option("--new-customer-rate", type=_rate, default=0.0, help="New members per sale.")
@click.option("--cancel-rate", type=_rate, default=0.0, help="Carts cancelled per sale.")
@click.option(
    "--shifts",
    type=click.IntRange(min=0),
    default=0,
    help="Spread the sales over K shifts, each closed with counted cash (a Z report).",
)
def simulate(
    db_path: Path,
    count: int,
    customers: bool,
    seed: int | None,
    refund_rate: float,
    redeem_rate: float,
    new_customer_rate: float,
    cancel_rate: float,
    shifts: int,
) -> None:
    """Make N realistic sales through the checkout service (demo, soak, benchmarks)."""
    from terminal.services.errors import TillError
    from terminal.services.simulate import DayRates

    rates = DayRates(
        refund=refund_rate, redeem=redeem_rate, new_customer=new_customer_rate, cancel=cancel_rate
    )
    try:
        tally = asyncio.run(_simulate(db_path, count, customers, seed, rates, shifts))
    except TillError as exc:
        fail(exc.message)
    extra = [
        f"{n} {what}"
        for n, what in (
            (tally.refunds, "refunds"),
            (tally.cancels, "cancels"),
            (tally.new_customers, "new customers"),
            (tally.redeemed_points, "points redeemed"),
            (tally.shifts_closed, "shifts closed"),
        )
        if n
    ]
    click.echo(
        f"{tally.sales} sales written to {db_path}" + (f" ({', '.join(extra)})" if extra else "")
    )


async def _simulate(
    db_path: Path,
    count: int,
    customers: bool,
    seed: int | None,
    rates: DayRates,
    shifts: int,
) -> DayTally:
    from sync import demo_data
    from terminal.services.setup import catalog_size, init_till, seed_demo
    from terminal.services.simulate import simulate_day

    db = open_db(db_path)
    try:
        await init_till(db)
        if await catalog_size(db) == 0:
            await seed_demo(db, customers=customers)
        cashiers = demo_data.demo_cashiers()
        customer_ids = [c.customer_id for c in demo_data.demo_customers()] if customers else []
        return await simulate_day(
            db,
            random.Random(seed),
            sales=count,
            cashier_id=cashiers[0].cashier_id,
            manager_id=next(c.cashier_id for c in cashiers if c.role == "manager"),
            customer_ids=customer_ids,
            rates=rates,
            shifts=shifts,
        )
    finally:
        await db.dispose()
