"""ABC value classification (DOMAIN.md): sort the customers by value, class each by the
cumulative share of the total *before* it — below 70% → A, below 95% → B, else C (the
thresholds are parameters).

The rules at the edges, as tested in tests/classification/test_abc.py:

* **value** = the sum of the customer's transaction amounts dated in the period; returns are
  negative amounts and reduce it.
* **who is classified**: every customer with at least one transaction dated on or before the
  period's end. A customer with none in the period has value 0 and is C. A customer who never
  traded (a prospect) is not classified: no result row, the card's grade is left alone.
* **total** = the sum of the positive values. A customer whose value is 0 or negative is C
  and adds nothing to the cumulative sum. An empty period (total 0) makes everyone C.
* **ties**: customers with the same value get the same class — the share before counts only
  the customers with a strictly greater value, so the order of tied customers never matters.
* **exactly at a threshold**: share before = 70% is not below 70%, so B (and 95% → C).
* **gold** 金牌客户: the top 5% by count — customers with a positive value whose rank
  (1 + the number of customers with a greater value) is at most ceil(5% × the number
  classified); customers tied with the last one are gold too.
* **drag** 拉后腿客户: the bottom 20% by count (rank from the bottom, ties included the same
  way, at most ceil(20% × the number classified)) that have no order — a transaction with a
  positive amount — in the 12 months ending on the period's end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import Transaction

from .common import Period, money, window_start

A_SHARE, B_SHARE = Decimal("0.70"), Decimal("0.95")
GOLD_SHARE, DRAG_SHARE, DRAG_MONTHS = Decimal("0.05"), Decimal("0.20"), 12
CLASSES = ("A", "B", "C")


@dataclass
class AbcRow:
    customer_id: int
    value: Decimal
    last_order: object = None           # date of the last positive transaction up to the period's end
    klass: str = "C"
    rank: int = 0                       # 1 = highest value; tied customers share the rank
    share_before: float | None = None   # cumulative share of the customers with a greater value
    gold: bool = False
    drag: bool = False

    @property
    def flags(self) -> str | None:
        found = [name for name, on in (("gold", self.gold), ("drag", self.drag)) if on]
        return ",".join(found) or None


@dataclass
class AbcParameters:
    a_share: Decimal = A_SHARE
    b_share: Decimal = B_SHARE
    gold_share: Decimal = GOLD_SHARE
    drag_share: Decimal = DRAG_SHARE
    drag_months: int = DRAG_MONTHS
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"a_share": str(self.a_share), "b_share": str(self.b_share), "gold_share": str(self.gold_share),
                "drag_share": str(self.drag_share), "drag_months": self.drag_months}


def customer_values(session: Session, period: Period) -> list[tuple[int, Decimal, object]]:
    """(customer id, value in the period, last order date up to the period's end) of every
    customer with a transaction on or before the period's end — one GROUP BY over the trades."""
    t = Transaction.__table__
    in_period = t.c.trade_date >= period.start
    query = (sa.select(t.c.customer_id,
                       sa.func.sum(sa.case((in_period, t.c.amount), else_=0)),
                       sa.func.max(sa.case((t.c.amount > 0, t.c.trade_date), else_=None)))
             .where(t.c.trade_date <= period.end)
             .group_by(t.c.customer_id))
    return [(cid, money(value), last) for cid, value, last in session.execute(query)]


def _min_ranks(values: list[Decimal]) -> list[int]:
    """1-based ranks of values already sorted in the wanted order; equal values share the
    rank of the first of them."""
    ranks, previous, rank = [], object(), 0
    for i, value in enumerate(values, start=1):
        if value != previous:
            rank, previous = i, value
        ranks.append(rank)
    return ranks


def classify(items: list[tuple[int, Decimal, object]], period_end=None, params: AbcParameters | None = None
             ) -> list[AbcRow]:
    """Class, rank, share before and the gold/drag flags of (customer id, value, last order)
    items, by the rules of this module. ``period_end`` dates the drag rule's 12 months."""
    params = params or AbcParameters()
    rows = sorted((AbcRow(cid, value, last) for cid, value, last in items), key=lambda r: (-r.value, r.customer_id))
    n = len(rows)
    if not n:
        return rows
    total = sum((r.value for r in rows if r.value > 0), Decimal(0))
    for row, rank in zip(rows, _min_ranks([r.value for r in rows])):
        row.rank = rank
    # Cumulative sum of strictly greater values: walk the tie groups.
    before, i = Decimal(0), 0
    while i < n:
        j = i
        while j < n and rows[j].value == rows[i].value:
            j += 1
        for row in rows[i:j]:
            if total > 0:
                row.share_before = float(before / total)
            if row.value > 0 and total > 0:
                if before < params.a_share * total:
                    row.klass = "A"
                elif before < params.b_share * total:
                    row.klass = "B"
                else:
                    row.klass = "C"
            else:
                row.klass = "C"
        before += sum((r.value for r in rows[i:j] if r.value > 0), Decimal(0))
        i = j
    gold_count = math.ceil(params.gold_share * n)
    for row in rows:
        row.gold = row.value > 0 and row.rank <= gold_count
    drag_count = math.ceil(params.drag_share * n)
    since = window_start(period_end, params.drag_months) if period_end is not None else None
    ascending = list(reversed(rows))
    for row, rank in zip(ascending, _min_ranks([r.value for r in ascending])):
        quiet = row.last_order is None or (since is not None and row.last_order < since)
        row.drag = rank <= drag_count and quiet
    return rows


def compute(session: Session, period: Period, params: AbcParameters | None = None) -> list[AbcRow]:
    """The ABC classes of every customer who has traded, over ``period``."""
    return classify(customer_values(session, period), period.end, params)
