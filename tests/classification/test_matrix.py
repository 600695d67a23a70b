"""Turnover × profit matrix and relationship type: profit from cost prices, median and stated
thresholds, at-threshold counts as high, customers without loyalty or without trades."""
import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import ProductCategory
from portal.services.classification import Period, matrix

from .helpers import customer, product, sale, trade

D = Decimal
PERIOD = Period(dt.date(2024, 7, 1), dt.date(2025, 6, 30))


def rows(**kw):
    return [matrix.MatrixRow(i, D(t), D(p), loyalty) for i, (t, p, loyalty) in enumerate(kw["data"], start=1)]


def test_profit_is_line_amount_less_quantity_times_cost_and_unknown_costs_add_nothing(app):
    ink = product("INK", cost="6.00")
    paper = product("PAPER", cost="2.50")
    mystery = product("X", cost=None)
    a, b, idle = customer("甲公司", loyalty_index=80), customer("乙公司"), customer("丙公司")
    sale(a, "2024-12-31", (ink, 10, "10.00"), (paper, 4, "5.00"))   # 100 + 20; profit 40 + 10
    sale(a, "2025-01-01", (ink, -2, "10.00"))                        # a return: -20, profit -8
    sale(a, "2024-06-30", (ink, 100, "10.00"))                       # outside the period
    sale(b, "2025-03-01", (mystery, 3, "10.00"))                     # no cost: 30 turnover, no profit
    trade(b, "2025-03-02", "70.00")                                  # no lines: turnover only
    trade(idle, "2023-01-01", "500.00")
    db.session.commit()
    found = {r.customer_id: (r.turnover, r.profit, r.loyalty) for r in matrix.customer_figures(db.session, PERIOD)}
    assert found == {a.id: (D("100.00"), D("42.00"), 80), b.id: (D("100.00"), D("0.00"), None)}


def test_matrix_quadrants_with_median_thresholds_and_ties_at_the_median_high():
    data = rows(data=[(100, 50, None), (100, 10, None), (10, 10, None), (10, 50, None), (55, 30, None)])
    used = matrix.place_matrix(data)
    # medians: turnover 55, profit 30 — the fifth customer sits exactly on both: high/high
    assert used == {"turnover": "55", "profit": "30"}
    assert [r.klass for r in data] == ["A", "B", "C", "D", "A"]


def test_matrix_stated_thresholds_and_an_even_count_median():
    data = rows(data=[(100, 50, None), (40, 20, None)])
    assert matrix.place_matrix(data) == {"turnover": "70", "profit": "35"}
    assert [r.klass for r in data] == ["A", "C"]
    assert matrix.place_matrix(data, D("40"), D("60")) == {"turnover": "40", "profit": "60"}
    assert [r.klass for r in data] == ["B", "B"]


def test_relationship_types_by_loyalty_and_profit_and_unrated_customers():
    data = rows(data=[(1, 50, 90), (1, 50, 10), (1, 10, 90), (1, 10, 10), (1, 99, None)])
    used = matrix.place_relationship(data, "median", D("30"))
    # loyalty median over the four rated customers: (10 + 90) / 2 = 50
    assert used == {"loyalty": "50", "profit": "30"}
    assert [r.klass for r in data] == ["partner", "functional", "emotional", "drifting", "unrated"]
    data = rows(data=[(1, 30, 50)])
    matrix.place_relationship(data, D("50"), D("30"))
    assert data[0].klass == "partner"   # exactly at both thresholds


def test_an_empty_period_places_nobody(app):
    assert matrix.customer_figures(db.session, PERIOD) == []
    assert matrix.place_matrix([]) == {"turnover": None, "profit": None}
