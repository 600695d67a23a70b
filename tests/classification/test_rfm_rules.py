"""RFM's rules on small hand-computed cases: type 7 quantiles, cut points + 1, [lower, upper)
bins, reverse recency, first matching segment, returns."""
import datetime as dt
from decimal import Decimal
from fractions import Fraction

from portal.extensions import db
from portal.services.classification import rfm

from .helpers import customer, trade


def test_type_7_quantiles_are_exact():
    assert rfm.quantile([1, 2, 3, 4], Fraction(1, 5)) == Fraction(8, 5)        # h = 0.6 → 1 + 0.6
    assert rfm.quantile([10], Fraction(4, 5)) == 10
    assert rfm.cut_points([1, 2, 3, 4, 5, 6], 5) == [3, 4, 5, 6]               # h = 1, 2, 3, 4 → +1


def test_bins_are_lower_inclusive_upper_exclusive():
    cuts = rfm.cut_points([1, 2, 3, 4, 5, 6], 5)                                # [1,3) [3,4) [4,5) [5,6) [6,7)
    assert [rfm.bin_of(x, cuts) for x in (1, 2, 3, 4, 5, 6)] == [1, 1, 2, 3, 4, 5]
    # equal cut points leave empty bins: everyone with the same frequency
    assert [rfm.bin_of(x, rfm.cut_points([2, 2, 2], 5)) for x in (2,)] == [1]


def test_recency_runs_in_reverse_and_the_first_matching_segment_wins():
    on = dt.date(2024, 12, 31)
    measures = [(i, on - dt.timedelta(days=days), orders, Decimal(amount))
                for i, (days, orders, amount) in enumerate([(1, 9, 900), (10, 5, 500), (20, 3, 300),
                                                            (30, 2, 200), (40, 1, 100), (50, 1, 50)], start=1)]
    rows = {r.customer_id: r for r in rfm.score(measures, on)}
    assert rows[1].r == 5 and rows[6].r == 1
    assert (rows[1].r, rows[1].f, rows[1].m, rows[1].segment) == (5, 5, 5, "champions")
    # 5/5/5 also fits Potential Loyalist (3–5/3–5/2–5): the first row wins
    assert rfm.segment_of(5, 5, 5) == "champions" and rfm.segment_of(3, 3, 2) == "potential_loyalist"
    assert rfm.segment_of(1, 1, 1) == "lost" and rfm.segment_of(5, 5, 1) == "others"
    assert rows[1].score == 555


def test_returns_are_not_orders_but_reduce_the_amount(app):
    a, only_returns = customer("甲公司"), customer("乙公司")
    trade(a, "2024-11-01", 300)
    trade(a, "2024-12-20", -50)    # later than the last order: recency stays with the order
    trade(a, "2025-01-05", 999)    # after the analysis date
    trade(only_returns, "2024-10-01", -10)
    db.session.commit()
    measures = rfm.customer_measures(db.session, dt.date(2024, 12, 31))
    assert measures == [(a.id, dt.date(2024, 11, 1), 1, Decimal("250.00"))]
