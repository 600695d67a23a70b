"""ABC value classes, gold and drag customers: hand-computed cases at every edge of the rule
(portal/services/classification/abc.py states the rules)."""
import datetime as dt
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.services.classification import ClassificationError, Period, abc
from portal.services.classification.common import window_start

from .helpers import customer, trade

D = Decimal


def classes(values, **kw):
    rows = abc.classify([(i, D(str(v)), None) for i, v in enumerate(values, start=1)], None, **kw)
    return {r.customer_id: r.klass for r in rows}


def by_id(rows):
    return {r.customer_id: r for r in rows}


def test_the_share_before_decides_and_exactly_70_percent_is_not_below_70():
    # 70 | 20 | 10 of 100: shares before 0, 0.70, 0.90
    assert classes([70, 20, 10]) == {1: "A", 2: "B", 3: "B"}
    # just below 70% before → A
    assert classes([69.99, 20.01, 10]) == {1: "A", 2: "A", 3: "B"}


def test_exactly_95_percent_before_is_c():
    assert classes([70, 25, 5]) == {1: "A", 2: "B", 3: "C"}
    assert classes([70, 24.99, 5.01]) == {1: "A", 2: "B", 3: "B"}


def test_tied_customers_share_the_class_of_the_first_of_them():
    # 70 | 20 | 5 | 5: the second 5 has 95 before it by position, but only 90 strictly above it
    rows = by_id(abc.classify([(1, D(70), None), (2, D(20), None), (3, D(5), None), (4, D(5), None)], None))
    assert (rows[3].klass, rows[4].klass) == ("B", "B")
    assert rows[3].share_before == rows[4].share_before == pytest.approx(0.90)
    assert (rows[3].rank, rows[4].rank) == (3, 3)
    # the order the customers come in does not matter
    flipped = by_id(abc.classify([(4, D(5), None), (3, D(5), None), (2, D(20), None), (1, D(70), None)], None))
    assert {k: v.klass for k, v in flipped.items()} == {k: v.klass for k, v in rows.items()}


def test_a_tie_straddling_the_a_threshold_is_all_a():
    # 60 | 20 | 20: the second 20 would start at 80% by position
    assert classes([60, 20, 20]) == {1: "A", 2: "A", 3: "A"}


def test_zero_and_negative_values_are_c_and_do_not_count_in_the_total():
    rows = by_id(abc.classify([(1, D(100), None), (2, D(0), None), (3, D(-30), None)], None))
    assert {k: r.klass for k, r in rows.items()} == {1: "A", 2: "C", 3: "C"}
    # the total is the positive 100, not 70: customer 1 alone is the whole of it
    assert rows[2].share_before == pytest.approx(1.0)


def test_an_empty_period_makes_everyone_c_without_a_share():
    rows = abc.classify([(1, D(0), None), (2, D(0), None)], None)
    assert [(r.klass, r.share_before) for r in rows] == [("C", None), ("C", None)]
    assert abc.classify([], None) == []


def test_thresholds_are_parameters():
    params = abc.AbcParameters(a_share=D("0.5"), b_share=D("0.8"))
    assert classes([50, 30, 20], params=params) == {1: "A", 2: "B", 3: "C"}


def test_gold_is_the_top_5_percent_by_count_with_ties_at_the_line():
    # 20 customers: ceil(5% × 20) = 1 gold
    rows = abc.classify([(i, D(100 - i), None) for i in range(1, 21)], None)
    assert [r.customer_id for r in rows if r.gold] == [1]
    # 21 customers: ceil(1.05) = 2
    rows = abc.classify([(i, D(100 - i), None) for i in range(1, 22)], None)
    assert [r.customer_id for r in rows if r.gold] == [1, 2]
    # a tie with the last gold customer is gold too
    items = [(1, D(99), None), (2, D(99), None)] + [(i, D(50 - i), None) for i in range(3, 21)]
    assert sorted(r.customer_id for r in abc.classify(items, None) if r.gold) == [1, 2]
    # a customer with no positive value is never gold
    assert not any(r.gold for r in abc.classify([(1, D(0), None)], None))


def test_drag_is_the_bottom_20_percent_without_an_order_in_the_12_months_to_the_end():
    end = dt.date(2025, 3, 31)
    start = window_start(end)
    assert start == dt.date(2024, 4, 1)
    items = [(i, D(1000 - i), end) for i in range(1, 9)]           # 8 active customers
    items += [(9, D(5), start - dt.timedelta(days=1)),               # last order the day before the window
              (10, D(3), start)]                                     # … on its first day: not drag
    rows = by_id(abc.classify(items, end))
    assert [k for k, r in rows.items() if r.drag] == [9]
    # never ordered at all (returns only, or no transaction) counts as no order
    items[-1] = (10, D(-3), None)
    rows = by_id(abc.classify(items, end))
    assert sorted(k for k, r in rows.items() if r.drag) == [9, 10]
    # quiet but not in the bottom 20% (ceil(20% × 10) = 2): not drag
    items[0] = (1, D(999), dt.date(2020, 1, 1))
    assert not by_id(abc.classify(items, end))[1].drag


def test_values_come_from_the_period_with_returns_negative_across_a_year_end(app):
    a, b, c, never, old = (customer(n) for n in ("甲公司", "乙公司", "丙公司", "丁公司", "戊公司"))
    trade(a, "2024-06-30", 1000)   # the day before the period
    trade(a, "2024-07-01", 500)    # its first day
    trade(a, "2025-06-30", 200)    # its last day, across the year end
    trade(a, "2025-07-01", 9000)   # the day after
    trade(b, "2024-12-31", 400)
    trade(b, "2025-01-01", -100)   # a return
    trade(c, "2025-02-01", 300)
    trade(c, "2025-02-02", -300)   # returned in full: value 0
    trade(old, "2023-05-01", 800)  # traded, but not in the period
    db.session.commit()
    rows = by_id(abc.compute(db.session, Period(dt.date(2024, 7, 1), dt.date(2025, 6, 30))))
    assert never.id not in rows                                       # a prospect is not classified
    assert {k: r.value for k, r in rows.items()} == {a.id: D("700.00"), b.id: D("300.00"), c.id: D("0.00"),
                                                     old.id: D("0.00")}
    # total 1000: a 0 → A, b 0.70 → B, c and old 0 → C
    assert {k: r.klass for k, r in rows.items()} == {a.id: "A", b.id: "B", c.id: "C", old.id: "C"}
    assert rows[c.id].last_order == dt.date(2025, 2, 1)              # the return is not an order
    assert rows[old.id].drag and not rows[c.id].drag                  # bottom 20% = ceil(0.8) = 1 … ties
    assert Period.of(None, dt.date(2025, 6, 30)).start == dt.date(2024, 7, 1)


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ClassificationError):
        Period.of(dt.date(2025, 2, 1), dt.date(2025, 1, 1))
