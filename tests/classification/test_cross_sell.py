"""Cross-selling candidates (lists.cross_sell): customers whose purchases in the period cover
1 … max_lines product lines, a line being a category and a product without one a line of its
own; returns (negative quantities) are no purchase; the period's ends (a year end); ties in
value by customer id; the row scope; a page (limit/offset) and the whole list streamed."""
import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import Customer, ProductCategory
from portal.services.classification import lists
from portal.services.classification.common import Period

from .helpers import customer, product, sale

D = Decimal
YEAR = Period.of(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def _archive():
    ink, paper = ProductCategory(code="INK", name="耗材"), ProductCategory(code="PAP", name="纸张")
    db.session.add_all([ink, paper])
    db.session.flush()
    black, colour = product("K", category=ink), product("C", category=ink)      # one line: 耗材
    a4 = product("A4", category=paper)
    loose = product("X")                                                     # no category: its own line
    a, b, c, d, e, f = (customer(n) for n in ("甲", "乙", "丙", "丁", "戊", "己"))
    customer("庚")                                                           # never traded
    sale(a, "2025-01-01", (black, 1, "50.00"), (colour, 2, "25.00"))         # 1 line, 100
    sale(b, "2025-12-31", (black, 1, "60.00"), (a4, 1, "40.00"))             # 2 lines, 100 (ties A)
    sale(c, "2025-03-03", (black, 1, "10.00"), (a4, 1, "10.00"), (loose, 1, "10.00"))   # 3 lines
    sale(d, "2025-05-05", (loose, 3, "10.00"))                                # 1 line (the product), 30
    sale(d, "2025-06-06", (a4, -1, "10.00"))                                  # a return: no line, no value
    sale(e, "2024-12-31", (black, 1, "10.00"))                                # the year before …
    sale(e, "2026-01-01", (a4, 1, "10.00"))                                   # … and after: not listed
    sale(f, "2025-07-07", (a4, -2, "10.00"))                                  # only a return: not listed
    db.session.commit()
    return a, b, c, d


def _rows(found):
    return [(r["customer_id"], r["lines"], r["value"], r["line_names"]) for r in found]


def test_lines_values_names_and_the_year_end(app):
    a, b, c, d = _archive()
    assert _rows(lists.cross_sell(db.session, YEAR, 2)) == [
        (a.id, 1, D("100.00"), "耗材"), (b.id, 2, D("100.00"), "、".join(sorted(["耗材", "纸张"]))),
        (d.id, 1, D("30.00"), "产品X")]
    three = _rows(lists.cross_sell(db.session, YEAR, 3))
    assert [r[0] for r in three] == [a.id, b.id, c.id, d.id]
    assert three[2] == (c.id, 3, D("30.00"), "、".join(sorted(["耗材", "纸张", "产品X"])))
    assert _rows(lists.cross_sell(db.session, YEAR, 1)) == [(a.id, 1, D("100.00"), "耗材"), (d.id, 1, D("30.00"), "产品X")]


def test_an_empty_period_lists_nobody(app):
    _archive()
    assert lists.cross_sell(db.session, Period.of(dt.date(2023, 1, 1), dt.date(2023, 12, 31)), 2) == []
    assert lists.count_cross_sell(db.session, Period.of(dt.date(2023, 1, 1), dt.date(2023, 12, 31)), 2) == 0


def test_the_condition_is_applied_and_a_page_is_a_slice_of_the_whole_list(app):
    a, b, c, d = _archive()
    whole = lists.cross_sell(db.session, YEAR, 3)
    assert list(lists.iter_cross_sell(db.session, YEAR, 3, batch=1)) == whole
    assert lists.count_cross_sell(db.session, YEAR, 3) == 4
    assert lists.cross_sell(db.session, YEAR, 3, limit=2) == whole[:2]
    assert lists.cross_sell(db.session, YEAR, 3, limit=2, offset=2) == whole[2:]
    only = Customer.id.in_([b.id, d.id])
    assert [r["customer_id"] for r in lists.cross_sell(db.session, YEAR, 3, condition=only)] == [b.id, d.id]
    assert lists.count_cross_sell(db.session, YEAR, 3, condition=only) == 2
