"""The working lists of the ABC analysis (DOMAIN.md), computed in SQL and scoped by
``condition`` (a WHERE on Customer, or None): the ranking that makes a customer "big" or
"top" is the company's (over every customer); the list shows the visible ones.

* :func:`complaining_big_customers` — class A customers of an ABC run with at least
  ``min_complaints`` complaints (after-sales of kind "complaint") dated in ``year``;
* :func:`top_customers` — last year's top customers (the top ``share`` by count of those with
  a positive value, ties included) and what they have ordered this year up to ``today``;
* :func:`cross_sell` — customers whose period purchases (positive quantities) cover only
  1 … ``max_lines`` product lines; a line is a product category, and a product without a
  category counts as a line of its own.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from portal.models import AfterSales, ClassificationResult, Customer, Product, ProductCategory, Transaction, \
    TransactionLine, User

from .common import Period, money

_CUSTOMER_COLUMNS = (Customer.id.label("customer_id"), Customer.number, Customer.name, Customer.value_grade,
                     User.username.label("owner"))


def _with_customer(query, id_column, condition):
    query = query.join(Customer, Customer.id == id_column).outerjoin(User, User.id == Customer.owner_id)
    return query.where(condition) if condition is not None else query


def complaining_big_customers(session: Session, run_id: int, year: int, min_complaints: int = 2,
                              condition=None, limit: int | None = None) -> list[dict]:
    """Class A customers of ABC run ``run_id`` with ≥ ``min_complaints`` complaints in ``year``."""
    a = AfterSales
    complaints = (sa.select(a.customer_id.label("cid"), sa.func.count().label("complaints"),
                            sa.func.max(a.occurred_on).label("last_complaint"))
                  .where(a.kind == "complaint", a.occurred_on >= dt.date(year, 1, 1),
                         a.occurred_on <= dt.date(year, 12, 31))
                  .group_by(a.customer_id).having(sa.func.count() >= min_complaints).subquery())
    r = ClassificationResult
    query = (sa.select(*_CUSTOMER_COLUMNS, r.klass, r.value, complaints.c.complaints, complaints.c.last_complaint)
             .select_from(r).join(complaints, complaints.c.cid == r.customer_id)
             .where(r.run_id == run_id, r.klass == "A"))
    query = _with_customer(query, r.customer_id, condition).order_by(complaints.c.complaints.desc(), r.value.desc())
    if limit:
        query = query.limit(limit)
    return [_money(dict(row), "value") for row in session.execute(query).mappings()]


def _money(row: dict, *names) -> dict:
    for name in names:
        if name in row and row[name] is not None:
            row[name] = money(row[name])
    return row


def _top_query(year: int, share: Decimal, condition):
    """The SELECT of :func:`top_customers`' ranking (customer columns, rank, value_last_year)."""
    t = Transaction.__table__
    last_year = (sa.select(t.c.customer_id.label("cid"), sa.func.sum(t.c.amount).label("v"))
                 .where(t.c.trade_date >= dt.date(year, 1, 1), t.c.trade_date <= dt.date(year, 12, 31))
                 .group_by(t.c.customer_id).having(sa.func.sum(t.c.amount) > 0).subquery())
    p, q = Decimal(share).as_integer_ratio()
    ranked = sa.select(last_year.c.cid, last_year.c.v,
                       sa.func.rank().over(order_by=last_year.c.v.desc()).label("rk"),
                       sa.func.count().over().label("n")).subquery()
    query = (sa.select(*_CUSTOMER_COLUMNS, ranked.c.rk.label("rank"), ranked.c.v.label("value_last_year"))
             .select_from(ranked).where(q * (ranked.c.rk - 1) < p * ranked.c.n))
    return _with_customer(query, ranked.c.cid, condition).order_by(ranked.c.rk, Customer.id)


def top_customers(session: Session, year: int, today: dt.date, share: Decimal = Decimal("0.05"),
                  condition=None, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Last year's (``year``) top customers by value, with this year's orders up to ``today``:
    value_last_year, rank, orders_this_year, value_this_year, last_order, ordered (bool).
    ``limit``/``offset`` page the list in SQL (:func:`top_customers_page` with the total).

    Two steps, both in SQL: the ranking (one GROUP BY of last year's trades, rank() and the
    count of ranked customers as windows, the top-share test in integers: rank ≤ ceil(p/q · n)
    ⇔ q·(rank − 1) < p·n), then this year's orders of the (few) top customers only, by their
    ids along the (customer, date) index — not a join of two whole-year aggregates, which
    SQLite ran as a nested scan (11 s at 2,000,000 trades, bench/RESULTS.md)."""
    return _top_rows(session, _top_query(year, share, condition), year, today, limit, offset)


def top_customers_page(session: Session, year: int, today: dt.date, share: Decimal = Decimal("0.05"),
                       condition=None, *, limit: int, offset: int = 0) -> tuple[list[dict], int]:
    """One page of :func:`top_customers` and how many the whole list has, from one ranking
    (the count is a window of the same query)."""
    query = _top_query(year, share, condition).add_columns(sa.func.count().over().label("total_count"))
    rows = _top_rows(session, query, year, today, limit, offset)
    if not rows:
        return [], count_top_customers(session, year, share, condition) if offset else 0
    total = rows[0]["total_count"]
    for row in rows:
        del row["total_count"]
    return rows, total


def _top_rows(session: Session, query, year: int, today: dt.date, limit: int | None, offset: int) -> list[dict]:
    if limit:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = [_money(dict(row), "value_last_year") for row in session.execute(query).mappings()]
    this_year = _orders_between(session, [r["customer_id"] for r in rows], dt.date(year + 1, 1, 1), today)
    for row in rows:
        orders, value, last = this_year.get(row["customer_id"], (0, None, None))
        row.update(orders_this_year=orders, value_this_year=value, last_order=last, ordered=orders > 0)
    return rows


def count_top_customers(session: Session, year: int, share: Decimal = Decimal("0.05"), condition=None) -> int:
    """How many customers :func:`top_customers` lists (for a pager)."""
    query = _top_query(year, share, condition).order_by(None)
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _orders_between(session: Session, customer_ids: list[int], start: dt.date, end: dt.date) -> dict:
    """customer id → (orders, value, last order) of those customers' trades dated start … end."""
    t = Transaction.__table__
    is_order = t.c.amount > 0
    found = {}
    for begin in range(0, len(customer_ids), 1000):
        query = (sa.select(t.c.customer_id, sa.func.sum(sa.case((is_order, 1), else_=0)), sa.func.sum(t.c.amount),
                           sa.func.max(sa.case((is_order, t.c.trade_date), else_=None)))
                 .where(t.c.customer_id.in_(customer_ids[begin:begin + 1000]), t.c.trade_date >= start,
                        t.c.trade_date <= end)
                 .group_by(t.c.customer_id))
        for cid, orders, value, last in session.execute(query):
            if isinstance(last, str):
                last = dt.date.fromisoformat(last)
            found[cid] = (int(orders), money(value), last)
    return found


def _product_line():
    """A product's line: its category id, or (no category) minus its own id — distinct either way."""
    return sa.func.coalesce(Product.category_id, -Product.id)


class joined_ids(FunctionElement):
    """The values of an integer expression of a group, as one text ``"3,-7,12"`` (order
    unspecified): ``group_concat(x)`` in SQLite, ``string_agg(x::text, ',')`` in PostgreSQL."""

    type = sa.String()
    inherit_cache = True
    name = "joined_ids"


@compiles(joined_ids)
def _joined_ids_default(element, compiler, **kw):
    (expr,) = list(element.clauses)
    return f"string_agg(CAST({compiler.process(expr, **kw)} AS TEXT), ',')"


@compiles(joined_ids, "sqlite")
def _joined_ids_sqlite(element, compiler, **kw):
    (expr,) = list(element.clauses)
    return f"group_concat({compiler.process(expr, **kw)})"


def _line_name_map(session: Session) -> dict[int, str]:
    """line id (see :func:`_product_line`) → its name: categories by id, products without a
    category by minus their id (a few hundred rows at most)."""
    names = {cid: name for cid, name in session.execute(sa.select(ProductCategory.id, ProductCategory.name))}
    names.update({-pid: name for pid, name in session.execute(
        sa.select(Product.id, Product.name).where(Product.category_id.is_(None)))})
    return names


def cross_sell_query(period: Period, max_lines: int = 2, condition=None):
    """The SELECT of :func:`cross_sell` (customer columns, lines, value, line_ids), sorted by
    value (largest first) then customer id; one GROUP BY over the period's purchase lines of
    the customers ``condition`` admits (the condition is applied before the aggregate)."""
    # The lines carry their transaction's date and customer (migration 0011): the period's
    # purchase lines are ranges of a covering index, with no join to trade (which read every
    # line of the archive). Two plain GROUP BYs — (customer, line), then customer — instead
    # of one with COUNT(DISTINCT) and a distinct string_agg, which sorted every line per
    # customer (2 s on PostgreSQL at 3,000,000 lines).
    line = TransactionLine
    product_line = _product_line().label("line")
    bought = (sa.select(line.customer_id.label("cid"), product_line, sa.func.sum(line.amount).label("value"))
              .select_from(line).join(Product, Product.id == line.product_id)
              .where(line.trade_date >= period.start, line.trade_date <= period.end, line.quantity > 0))
    if condition is not None:
        bought = bought.where(line.customer_id.in_(sa.select(Customer.id).where(condition)))
    bought = bought.group_by(line.customer_id, _product_line()).subquery("bought")
    lines = (sa.select(bought.c.cid, sa.func.count().label("lines"), sa.func.sum(bought.c.value).label("value"),
                       joined_ids(bought.c.line).label("line_ids"))
             .group_by(bought.c.cid).having(sa.func.count() <= max_lines).subquery())
    query = sa.select(*_CUSTOMER_COLUMNS, lines.c.lines, lines.c.value, lines.c.line_ids).select_from(lines)
    return _with_customer(query, lines.c.cid, condition).order_by(lines.c.value.desc(), Customer.id)


def cross_sell(session: Session, period: Period, max_lines: int = 2, condition=None,
               limit: int | None = None, offset: int = 0) -> list[dict]:
    """Customers whose purchases in the period cover 1 … ``max_lines`` product lines, with
    lines (count), value (their lines' amount) and the lines' names (sorted, joined by "、"),
    largest value first. ``limit``/``offset`` page the list in SQL (a page shows a page;
    :func:`iter_cross_sell` streams the whole list for a download)."""
    query = cross_sell_query(period, max_lines, condition)
    if limit:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return list(_cross_sell_rows(session, session.execute(query).mappings()))


def cross_sell_page(session: Session, period: Period, max_lines: int = 2, condition=None, *, limit: int,
                    offset: int = 0) -> tuple[list[dict], int]:
    """One page of :func:`cross_sell` and how many rows the whole list has — one query (the
    count is a window over the same aggregate, so the purchase lines are grouped once)."""
    query = cross_sell_query(period, max_lines, condition).add_columns(sa.func.count().over().label("total_count"))
    result = list(session.execute(query.limit(limit).offset(offset)).mappings())
    if not result:     # a page past the end: count without fetching
        return [], count_cross_sell(session, period, max_lines, condition) if offset else 0
    total = result[0]["total_count"]
    rows = []
    for row in _cross_sell_rows(session, result):
        row.pop("total_count", None)
        rows.append(row)
    return rows, total


def iter_cross_sell(session: Session, period: Period, max_lines: int = 2, condition=None,
                    batch: int = 2000):
    """Every row of :func:`cross_sell`, fetched ``batch`` at a time from one query (for an
    Excel download that writes them as they come)."""
    result = session.execute(cross_sell_query(period, max_lines, condition),
                             execution_options={"yield_per": batch}).mappings()
    yield from _cross_sell_rows(session, result)


def count_cross_sell(session: Session, period: Period, max_lines: int = 2, condition=None) -> int:
    """How many customers :func:`cross_sell` lists (for a pager)."""
    query = cross_sell_query(period, max_lines, condition).order_by(None)
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def _cross_sell_rows(session: Session, result):
    names = None
    for row in result:
        if names is None:
            names = _line_name_map(session)
        row = _money(dict(row), "value")
        ids = {int(i) for i in (row.pop("line_ids") or "").split(",") if i}
        row["line_names"] = "、".join(sorted({names.get(i, "") for i in ids}))
        yield row
