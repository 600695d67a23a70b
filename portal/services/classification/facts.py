"""The per-customer numbers every classification of one run needs, from one pass over the
trades: a full ``flask portal classify`` (ABC, RFM, matrix, relationship) reads the 2,000,000
transactions once instead of four times (bench/RESULTS.md).

One GROUP BY customer over the trades dated up to the later of the period's end and RFM's
analysis date, each measure a CASE of its own rule — the same sums, counts and maxima as
:func:`abc.customer_values`, :func:`rfm.customer_measures` and the turnover of
:func:`matrix.customer_figures` (tests/classification/test_facts.py checks they agree):

* ABC: value = Σ amount dated in the period; last order = the latest positive trade up to the
  period's end; a customer is classified when it has any trade up to the period's end;
* RFM: up to ``as_of`` (and from ``since``): the latest positive trade, the number of positive
  trades, Σ amount; scored when it has at least one order;
* matrix / relationship: turnover = the ABC value, placed when it has a trade in the period.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import Transaction

from .common import Period, money


def _date(value):
    if isinstance(value, str):  # SQLite hands back a CASE over dates as text
        return dt.date.fromisoformat(value)
    return value


@dataclass
class Facts:
    abc: list          # (customer id, value, last order up to the period's end)
    rfm: list          # (customer id, last order, orders, amount)
    turnover: list     # (customer id, turnover in the period)
    matrix: list | None = None   # MatrixRows of the turnover (matrix.figures), when a kind needs them


def gather(session: Session, period: Period, as_of: dt.date, since: dt.date | None = None) -> Facts:
    t = Transaction.__table__
    d, amount = t.c.trade_date, t.c.amount
    in_period = sa.and_(d >= period.start, d <= period.end)
    to_end = d <= period.end
    in_rfm = d <= as_of if since is None else sa.and_(d <= as_of, d >= since)
    is_order = amount > 0
    query = (sa.select(t.c.customer_id,
                       sa.func.sum(sa.case((in_period, amount), else_=0)),
                       sa.func.sum(sa.case((in_period, 1), else_=0)),
                       sa.func.sum(sa.case((to_end, 1), else_=0)),
                       sa.func.max(sa.case((sa.and_(to_end, is_order), d), else_=None)),
                       sa.func.max(sa.case((sa.and_(in_rfm, is_order), d), else_=None)),
                       sa.func.sum(sa.case((sa.and_(in_rfm, is_order), 1), else_=0)),
                       sa.func.sum(sa.case((in_rfm, amount), else_=0)))
             .where(d <= max(period.end, as_of))
             .group_by(t.c.customer_id))
    abc_rows, rfm_rows, turnover = [], [], []
    for cid, value, n_period, n_to_end, last_end, last_rfm, orders, rfm_amount in session.execute(query):
        value = money(value)
        if n_to_end:
            abc_rows.append((cid, value, _date(last_end)))
        if n_period:
            turnover.append((cid, value))
        if orders:
            rfm_rows.append((cid, _date(last_rfm), int(orders), money(rfm_amount)))
    return Facts(abc_rows, rfm_rows, turnover)
