"""Last year's top customers (lists.top_customers): the top share by count of the customers
with a positive value, ties included, exactly at ceil(share × n); this year's orders up to
today only, returns not orders; a year end; the row scope."""
import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import Customer
from portal.services.classification import lists

from .helpers import customer, trade

D = Decimal
TODAY = dt.date(2026, 3, 31)


def _archive():
    a, b, c, d, e, f = (customer(n) for n in ("甲", "乙", "丙", "丁", "戊", "己"))
    customer("庚")                                   # never traded
    trade(a, "2025-01-01", "100.00")
    trade(b, "2025-06-01", "60.00")
    trade(b, "2025-12-31", "40.00")                  # last day of the year: B ties with A at 100
    trade(c, "2025-05-05", "80.00")
    trade(d, "2025-07-07", "50.00")
    trade(e, "2025-08-08", "10.00")
    trade(f, "2025-09-09", "-5.00")                  # only a return: not ranked
    trade(a, "2024-12-31", "999.00")                 # the year before: not counted
    trade(a, "2026-01-01", "30.00")                  # this year: an order …
    trade(a, "2026-02-01", "-10.00")                 # … and a return (not an order)
    trade(b, "2026-04-01", "70.00")                  # after today
    trade(c, "2026-03-31", "25.00")                  # today
    db.session.commit()
    return a, b, c


def test_top_share_with_ties_exactly_at_the_boundary(app):
    a, b, c = _archive()
    # n = 5 positive: 0.4 × 5 = 2 → ranks ≤ 2: A and B tied at rank 1; C (rank 3) is out.
    found = lists.top_customers(db.session, 2025, TODAY, share=D("0.4"))
    assert [(r["customer_id"], r["rank"], r["value_last_year"]) for r in found] == [
        (a.id, 1, D("100.00")), (b.id, 1, D("100.00"))]
    # 0.41 × 5 = 2.05 → ceil 3: C is in.
    found = lists.top_customers(db.session, 2025, TODAY, share=D("0.41"))
    assert [r["customer_id"] for r in found] == [a.id, b.id, c.id]
    by_id = {r["customer_id"]: r for r in found}
    assert (by_id[a.id]["orders_this_year"], by_id[a.id]["value_this_year"], by_id[a.id]["last_order"],
            by_id[a.id]["ordered"]) == (1, D("20.00"), dt.date(2026, 1, 1), True)
    assert (by_id[b.id]["orders_this_year"], by_id[b.id]["value_this_year"], by_id[b.id]["ordered"]) == (0, None, False)
    assert (by_id[c.id]["orders_this_year"], by_id[c.id]["last_order"]) == (1, dt.date(2026, 3, 31))


def test_the_ranking_is_the_companys_and_the_list_shows_the_visible(app):
    a, b, c = _archive()
    found = lists.top_customers(db.session, 2025, TODAY, share=D("0.4"), condition=Customer.id == b.id)
    assert [(r["customer_id"], r["rank"]) for r in found] == [(b.id, 1)]
    assert lists.top_customers(db.session, 2030, TODAY) == []
