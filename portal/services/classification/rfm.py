"""RFM segmentation, exactly as the R package ``rfm`` 0.3.0 scores and segments
(/work/shared/reference/rfm/README.md; tests/classification/test_rfm_reference.py reproduces
its published table):

* per customer, up to the analysis date: recency = analysis date − last order date (days),
  frequency = number of orders, monetary = sum of the orders' amounts;
* cut points = the inner quantiles of each measure (R type 7: h = (n − 1)·p, linear
  between the neighbouring order statistics) **plus 1**; bins are [lower, upper), the first
  lower = min, the last upper = max + 1 — so a value's bin is 1 + the number of cut points it
  is ≥ to. Quantiles are computed with exact fractions, so a cut point that falls on a whole
  number is that number (floating point could put it a hair above and move a customer);
* recency scores run in reverse (most recent = ``bins``), frequency and monetary forward;
  score = 100·R + 10·F + M;
* segments: the first row of :data:`SEGMENTS` whose R, F and M ranges (inclusive) all hold;
  none → "Others".

An order is a transaction with a positive amount. Returns (negative amounts) are not orders
and are not counted in frequency or recency; they do reduce the monetary value. A customer
with no order up to the analysis date is not scored.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.models import Transaction

from .common import money

BINS = 5

# (key, label, (R low, R high), (F low, F high), (M low, M high)) — the package's default table.
SEGMENTS = (
    ("champions", _l("Champions"), (5, 5), (5, 5), (5, 5)),
    ("potential_loyalist", _l("Potential Loyalist"), (3, 5), (3, 5), (2, 5)),
    ("loyal", _l("Loyal Customers"), (2, 4), (2, 4), (2, 4)),
    ("promising", _l("Promising"), (3, 4), (1, 3), (3, 5)),
    ("new", _l("New Customers"), (4, 5), (1, 3), (1, 5)),
    ("cant_lose", _l("Can't Lose Them"), (1, 2), (3, 4), (4, 5)),
    ("at_risk", _l("At Risk"), (1, 2), (2, 5), (4, 5)),
    ("need_attention", _l("Need Attention"), (1, 3), (3, 5), (3, 5)),
    ("about_to_sleep", _l("About To Sleep"), (2, 3), (1, 3), (1, 4)),
    ("lost", _l("Lost"), (1, 1), (1, 5), (1, 5)),
)
OTHERS = "others"
SEGMENT_LABELS = {key: label for key, label, *_ in SEGMENTS} | {OTHERS: _l("Others")}
SEGMENT_ORDER = [key for key, *_ in SEGMENTS] + [OTHERS]

# What the segment asks of the salesperson (shown beside the table).
SEGMENT_FOCUS = {
    "champions": _l("Reward them; early access to new products; ask for referrals."),
    "potential_loyalist": _l("Offer membership or a key-account programme; recommend more products."),
    "loyal": _l("Upsell higher-value products; ask for reviews; keep in regular contact."),
    "promising": _l("Build the relationship: product introductions, a visit, a trial offer."),
    "new": _l("Welcome and onboard them; make the second order easy."),
    "cant_lose": _l("Win them back in person before a competitor does; find out what changed."),
    "at_risk": _l("Call them: a personal offer, renewals, help with any complaint."),
    "need_attention": _l("A limited-time offer or a visit to keep them from drifting."),
    "about_to_sleep": _l("Remind them with popular products and discounts; re-connect."),
    "lost": _l("A low-cost reactivation mailing at most; otherwise leave them be."),
    OTHERS: _l("No typical pattern: treat by grade."),
}


@dataclass
class RfmRow:
    customer_id: int
    recency: int
    frequency: int
    monetary: Decimal
    r: int = 0
    f: int = 0
    m: int = 0
    segment: str = OTHERS

    @property
    def score(self) -> int:
        return 100 * self.r + 10 * self.f + self.m


def quantile(ordered: list, p: Fraction) -> Fraction:
    """R's type 7 quantile of sorted values (exact)."""
    n = len(ordered)
    h = (n - 1) * p
    lo = int(h)  # floor: h ≥ 0
    frac = h - lo
    low = Fraction(ordered[lo])
    if frac == 0 or lo + 1 >= n:
        return low
    return low + frac * (Fraction(ordered[lo + 1]) - low)


def cut_points(values: list, bins: int = BINS) -> list[Fraction]:
    """The inner quantiles (p = 1/bins … (bins−1)/bins) plus 1."""
    ordered = sorted(values)
    return [quantile(ordered, Fraction(k, bins)) + 1 for k in range(1, bins)]


def _bins(values: list, bins: int, scale: int) -> list[int]:
    """Each value's bin, exactly and fast: values times ``scale`` are whole numbers (days,
    orders; cents), so x ≥ cut ⇔ x·scale ≥ ceil(cut·scale), an integer bisect."""
    cuts = [math.ceil(c * scale) for c in cut_points(values, bins)]
    return [1 + bisect.bisect_right(cuts, int(v * scale)) for v in values]


def bin_of(value, cuts: list[Fraction]) -> int:
    """1 + the number of cut points ``value`` is at or above ([lower, upper) bins)."""
    x = Fraction(value)
    return 1 + sum(1 for c in cuts if x >= c)


def segment_of(r: int, f: int, m: int) -> str:
    for key, _label, (r1, r2), (f1, f2), (m1, m2) in SEGMENTS:
        if r1 <= r <= r2 and f1 <= f <= f2 and m1 <= m <= m2:
            return key
    return OTHERS


def customer_measures(session: Session, as_of: dt.date, since: dt.date | None = None
                      ) -> list[tuple[int, dt.date, int, Decimal]]:
    """(customer id, last order date, orders, amount) per customer with an order up to
    ``as_of`` (and from ``since``, if given) — one GROUP BY over the trades."""
    t = Transaction.__table__
    is_order = t.c.amount > 0
    query = (sa.select(t.c.customer_id,
                       sa.func.max(sa.case((is_order, t.c.trade_date), else_=None)),
                       sa.func.sum(sa.case((is_order, 1), else_=0)),
                       sa.func.sum(t.c.amount))
             .where(t.c.trade_date <= as_of)
             .group_by(t.c.customer_id)
             .having(sa.func.sum(sa.case((is_order, 1), else_=0)) > 0))
    if since is not None:
        query = query.where(t.c.trade_date >= since)
    rows = []
    for cid, last, orders, amount in session.execute(query):
        if isinstance(last, str):  # SQLite hands back a CASE over dates as text
            last = dt.date.fromisoformat(last)
        rows.append((cid, last, int(orders), money(amount)))
    return rows


def score(measures: list[tuple[int, dt.date, int, Decimal]], as_of: dt.date, bins: int = BINS) -> list[RfmRow]:
    """RFM scores and segments of (customer id, last order, orders, amount) measures."""
    rows = [RfmRow(cid, (as_of - last).days, orders, amount) for cid, last, orders, amount in measures]
    if not rows:
        return rows
    r_bins = _bins([r.recency for r in rows], bins, 1)
    f_bins = _bins([r.frequency for r in rows], bins, 1)
    m_bins = _bins([r.monetary for r in rows], bins, 100)
    for row, rb, fb, mb in zip(rows, r_bins, f_bins, m_bins):
        row.r, row.f, row.m = bins + 1 - rb, fb, mb
        row.segment = segment_of(row.r, row.f, row.m) if bins == BINS else OTHERS
    return rows


def compute(session: Session, as_of: dt.date, bins: int = BINS, since: dt.date | None = None) -> list[RfmRow]:
    return score(customer_measures(session, as_of, since), as_of, bins)
