"""The turnover × profit matrix and the relationship type (DOMAIN.md).

* **turnover** = the sum of the customer's transaction amounts in the period (returns are
  negative); **profit** = Σ over the period's transaction lines of amount − quantity × the
  product's cost price. A line whose product has no cost price adds nothing to the profit
  (its margin is unknown, and counting the whole amount as profit would flatter it);
  a transaction without lines has no known profit.
* **who is placed**: customers with at least one transaction in the period; the others have
  neither turnover nor profit and are not in the matrix.
* **high** means at or above the threshold. A threshold is a number or "median" (the default):
  the median of the placed customers' values (the mean of the two middle ones for an even
  count).
* matrix quadrants: A high turnover / high profit, B high / low, C low / low, D low turnover /
  high profit.
* relationship type by loyalty (customer.loyalty_index, 0–100) × profit: partner high / high,
  functional low loyalty / high profit, emotional high loyalty / low profit, drifting low /
  low. A customer without a loyalty index is "unrated"; the loyalty median is taken over the
  rated customers only.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import Customer, Product, Transaction, TransactionLine

from .common import Period, median, money

MATRIX_QUADRANTS = ("A", "B", "C", "D")
MATRIX_LABELS = {
    "A": _l("A: high turnover, high profit"),
    "B": _l("B: high turnover, low profit"),
    "C": _l("C: low turnover, low profit"),
    "D": _l("D: low turnover, high profit"),
}
MATRIX_FOCUS = {
    "A": _l("Keep and deepen: best service, key-account care, the most frequent visits."),
    "B": _l("Raise the margin: review prices and discounts, sell higher-margin products, cut the cost to serve."),
    "C": _l("Serve economically: phone and mail instead of visits; develop them or let them go."),
    "D": _l("Grow the volume: a larger share of their purchases, cross-selling, more frequent orders."),
}
RELATIONSHIP_TYPES = ("partner", "functional", "emotional", "drifting", "unrated")
RELATIONSHIP_LABELS = {
    "partner": _l("Partner"),
    "functional": _l("Functional"),
    "emotional": _l("Emotional"),
    "drifting": _l("Drifting"),
    "unrated": _l("No loyalty index"),
}
RELATIONSHIP_FOCUS = {
    "partner": _l("Treat as partners: joint planning, priority resources, senior contacts."),
    "functional": _l("Win their loyalty: personal relationships, service beyond the product, longer agreements."),
    "emotional": _l("Turn goodwill into profit: better product mix, upselling, fewer concessions."),
    "drifting": _l("Minimum-cost service; re-assess whether they are worth effort."),
    "unrated": _l("Rate their loyalty on the card (loyalty index) to place them."),
}


@dataclass
class MatrixRow:
    customer_id: int
    turnover: Decimal
    profit: Decimal
    loyalty: int | None = None
    klass: str = ""


def customer_figures(session: Session, period: Period) -> list[MatrixRow]:
    """Turnover, profit and loyalty per customer with a transaction in the period: a GROUP BY
    of the trades, then :func:`figures`."""
    t = Transaction.__table__
    turnover = (sa.select(t.c.customer_id, sa.func.sum(t.c.amount))
                .where(t.c.trade_date >= period.start, t.c.trade_date <= period.end).group_by(t.c.customer_id))
    return figures(session, period, [(cid, money(turn)) for cid, turn in session.execute(turnover)])


def figures(session: Session, period: Period, turnover: list[tuple[int, Decimal]]) -> list[MatrixRow]:
    """MatrixRows of the (customer id, turnover) given: the profit from one GROUP BY of the
    period's lines (which carry their trade's date and customer, migration 0011: no join to
    trade) and their products, the loyalty index from the cards."""
    line, product, customer = TransactionLine.__table__, Product.__table__, Customer.__table__
    profit = (sa.select(line.c.customer_id, sa.func.sum(line.c.amount - line.c.quantity * product.c.cost_price))
              .select_from(line.join(product, line.c.product_id == product.c.id))
              .where(line.c.trade_date >= period.start, line.c.trade_date <= period.end,
                     product.c.cost_price.is_not(None))
              .group_by(line.c.customer_id))
    profits = dict(session.execute(profit).all())
    loyalty = dict(session.execute(sa.select(customer.c.id, customer.c.loyalty_index)
                                   .where(customer.c.loyalty_index.is_not(None))).all())
    return [MatrixRow(cid, turn, money(profits.get(cid)), loyalty.get(cid)) for cid, turn in turnover]


def threshold(setting, values: list[Decimal]) -> Decimal | None:
    if setting == "median":
        return median(values)
    return Decimal(setting)


def place_matrix(rows: list[MatrixRow], turnover_threshold="median", profit_threshold="median") -> dict:
    """Sets each row's quadrant; returns the thresholds used."""
    turn = threshold(turnover_threshold, [r.turnover for r in rows])
    prof = threshold(profit_threshold, [r.profit for r in rows])
    for row in rows:
        high_turnover, high_profit = row.turnover >= turn, row.profit >= prof
        row.klass = ("A" if high_profit else "B") if high_turnover else ("D" if high_profit else "C")
    return {"turnover": None if turn is None else str(turn), "profit": None if prof is None else str(prof)}


def place_relationship(rows: list[MatrixRow], loyalty_threshold="median", profit_threshold="median") -> dict:
    """Sets each row's relationship type; returns the thresholds used."""
    rated = [r for r in rows if r.loyalty is not None]
    loyal = threshold(loyalty_threshold, [Decimal(r.loyalty) for r in rated])
    prof = threshold(profit_threshold, [r.profit for r in rows])
    for row in rows:
        if row.loyalty is None:
            row.klass = "unrated"
            continue
        high_loyalty, high_profit = row.loyalty >= loyal, row.profit >= prof
        if high_loyalty:
            row.klass = "partner" if high_profit else "emotional"
        else:
            row.klass = "functional" if high_profit else "drifting"
    return {"loyalty": None if loyal is None else str(loyal), "profit": None if prof is None else str(prof)}
