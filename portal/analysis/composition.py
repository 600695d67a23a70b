"""客户构成分析: sales in the period by grade, by product, by product category and by region,
each with the customers behind it — one page, one tab per breakdown.

Definitions (shown under the table as notes):

* *Sales* are net: the sum of the transactions' amounts in the period, returns (negative
  amounts) included. By grade and by region they come from the transactions' amounts; by
  product and by category from the transaction lines' amounts (a transaction without lines
  has no product and appears in neither).
* *Buying customers* had at least one transaction (line) in the period that counts for the
  row; *customers* (by grade and region) are all the customers of the row in the user's scope,
  whether they traded or not.
* Grade, region and salesperson are the customer's as they are now (the card), not as they
  were at the time of the sale.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from portal.fields import fields_of
from portal.models import Customer, Product, ProductCategory, Region, Transaction, TransactionLine
from portal.models.choices import VALUE_GRADE

from . import drill
from .common import (NONE, code_label, column_is, customers_in_scope, drill_customers, id_or_none, in_scope,
                     session, share, traded_in)
from .registry import Analysis, Chart, Column, Filters, Param, Result, Series, register

BREAKDOWNS = (("grade", _l("By grade")), ("product", _l("By product")), ("category", _l("By product category")),
              ("region", _l("By region")))
GRADE_ORDER = {code: i for i, (code, _zh, _en) in enumerate(VALUE_GRADE)}


def _notes(by: str) -> list:
    notes = [_l("Sales are net: returns (negative amounts) are subtracted.")]
    if by in ("product", "category"):
        notes.append(_l("By product and category the sales come from the transaction lines; transactions "
                        "without lines are not counted here."))
    else:
        notes.append(_l("Customers: all customers of the row (with or without transactions); buying customers: "
                        "those with a transaction in the period."))
    notes.append(_l("Grade, region and salesperson are the customer's current ones."))
    return notes


def compute(filters: Filters, user) -> Result:
    by = filters.param("by")
    return {"grade": by_grade, "product": by_product, "category": by_category, "region": by_region}[by](filters, user)


def per_customer(filters: Filters, user):
    """Per customer: transactions and net sales in the period — aggregated before any join, so
    the customers are joined once each (not once per transaction) and no COUNT DISTINCT runs."""
    return (sa.select(Transaction.customer_id.label("customer_id"), sa.func.count().label("transactions"),
                      sa.func.sum(Transaction.amount).label("sales"))
            .where(filters.period(Transaction.trade_date), *in_scope(filters, user))
            .group_by(Transaction.customer_id).subquery("per_customer"))


def _customer_rows(filters: Filters, user, key_column):
    """{key: (customers, buyers, transactions, sales)} grouped by a Customer column, in one
    query: every customer in scope and filters, with its period's figures if it traded."""
    traded = per_customer(filters, user)
    query = (sa.select(key_column, sa.func.count(Customer.id), sa.func.count(traded.c.customer_id),
                       sa.func.coalesce(sa.func.sum(traded.c.transactions), 0),
                       sa.func.coalesce(sa.func.sum(traded.c.sales), 0))
             .outerjoin(traded, traded.c.customer_id == Customer.id)
             .where(*filters.customer_conditions(user)).group_by(key_column))
    return {key: (customers, buyers, transactions, sales)
            for key, customers, buyers, transactions, sales in session().execute(query)}


def _customer_columns(first: Column) -> list[Column]:
    return [first, Column("customers", _l("Number of customers"), "int"), Column("buyers", _l("Buying customers"), "int"),
            Column("transactions", _l("Number of transactions"), "int"), Column("sales", _l("Net sales"), "money"),
            Column("share", _l("Share of sales (%)"), "decimal")]


def _finish(rows: list[dict], links: list, columns: list[Column], by: str, chart: Chart) -> Result:
    total_sales = sum((r["sales"] for r in rows), 0)
    for row in rows:
        row["share"] = share(row["sales"], total_sales)
    totals = {columns[0].key: _("Total"), "sales": total_sales, "share": share(total_sales, total_sales) if rows else None}
    for key in ("customers", "transactions"):
        if any(key in r for r in rows):
            totals[key] = sum(r.get(key) or 0 for r in rows)
    return Result(columns=columns, rows=rows, drill=links, chart=chart, notes=_notes(by), totals=totals)


def by_grade(filters: Filters, user) -> Result:
    grouped = _customer_rows(filters, user, Customer.value_grade)
    spec = fields_of(Customer)["value_grade"]
    rows, links = [], []
    for grade in sorted(grouped, key=lambda g: GRADE_ORDER.get(g, len(GRADE_ORDER))):
        customers, buyers, transactions, sales = grouped[grade]
        rows.append({"grade": spec.choice_label(grade) if grade else _("Ungraded"), "code": grade, "customers": customers,
                     "buyers": buyers, "transactions": transactions, "sales": sales})
        code = grade or NONE
        links.append({"customers": drill.link("composition.grade", value_grade=code, **filters.drill_params(dates=False)),
                      "*": drill.link("composition.grade", value_grade=code, bought="1", **filters.drill_params())})
    return _finish(rows, links, _customer_columns(Column("grade", spec.label)), "grade",
                   Chart("bar", category="grade", series=[Series("sales")]))


def by_region(filters: Filters, user) -> Result:
    grouped = _customer_rows(filters, user, Customer.region_id)
    names = {r.id: (r.name, r.name_en, r.sort_order) for r in session().execute(
        sa.select(Region.id, Region.name, Region.name_en, Region.sort_order).where(Region.id.in_([k for k in grouped if k])))}
    order = sorted(grouped, key=lambda k: (-(grouped[k][3] or 0), names.get(k, ("", "", 0))[2], k or 0))
    rows, links = [], []
    for region_id in order:
        customers, buyers, transactions, sales = grouped[region_id]
        label = code_label(*names[region_id][:2]) if region_id in names else _("No region")
        rows.append({"region": label, "customers": customers, "buyers": buyers, "transactions": transactions,
                     "sales": sales})
        links.append({"customers": drill.link("composition.region", in_region=id_or_none(region_id),
                                              **filters.drill_params(dates=False)),
                      "*": drill.link("composition.region", in_region=id_or_none(region_id), bought="1",
                                      **filters.drill_params())})
    return _finish(rows, links, _customer_columns(Column("region", fields_of(Customer)["region_id"].label)), "region",
                   Chart("bar", category="region", series=[Series("sales")]))


def _line_totals(filters: Filters, user, key):
    """Subquery (key, sales, quantity, buyers) of the period's lines grouped by ``key`` (a
    TransactionLine or Product column) in one pass over the lines' own date and customer (no
    join to trade); the scope and filters limit the lines read. The labels are joined to the
    ~100 groups afterwards, not carried through the grouping of every line. (Measured faster
    on PostgreSQL than a per-(customer, key) subquery, whose sort spills.)"""
    query = (sa.select(key.label("key"), sa.func.coalesce(sa.func.sum(TransactionLine.amount), 0).label("sales"),
                       sa.func.coalesce(sa.func.sum(TransactionLine.quantity), 0).label("quantity"),
                       sa.func.count(sa.distinct(TransactionLine.customer_id)).label("buyers"))
             .select_from(TransactionLine)
             .where(filters.period(TransactionLine.trade_date),
                    *customers_in_scope(filters, user, TransactionLine.customer_id)))
    if key.class_ is Product:
        query = query.join(Product, Product.id == TransactionLine.product_id)
    return query.group_by(key).subquery("lines")


def _line_columns(first: list[Column]) -> list[Column]:
    return first + [Column("quantity", _l("Quantity"), "decimal"), Column("buyers", _l("Buying customers"), "int"),
                    Column("sales", _l("Net sales"), "money"), Column("share", _l("Share of sales (%)"), "decimal")]


def by_product(filters: Filters, user) -> Result:
    lines = _line_totals(filters, user, TransactionLine.product_id)
    query = (sa.select(Product.id, Product.code, Product.name, lines.c.sales, lines.c.quantity, lines.c.buyers)
             .join(Product, Product.id == lines.c.key))
    rows, links = [], []
    for pid, code, name, sales, quantity, buyers in sorted(session().execute(query), key=lambda r: (-r[3], r[1])):
        rows.append({"code": code, "product": name, "quantity": quantity, "buyers": buyers, "sales": sales})
        links.append(drill.link("composition.product", product=pid, **filters.drill_params()))
    columns = _line_columns([Column("code", fields_of(Product)["code"].label), Column("product", _l("Product"))])
    return _finish(rows, links, columns, "product",
                   Chart("bar", category="product", series=[Series("sales")], horizontal=True, top=20))


def by_category(filters: Filters, user) -> Result:
    lines = _line_totals(filters, user, Product.category_id)
    query = (sa.select(lines.c.key, ProductCategory.name, ProductCategory.name_en, lines.c.sales, lines.c.quantity,
                       lines.c.buyers)
             .select_from(lines).outerjoin(ProductCategory, ProductCategory.id == lines.c.key))
    rows, links = [], []
    for cid, name, name_en, sales, quantity, buyers in sorted(session().execute(query), key=lambda r: (-r[3], r[0] or 0)):
        rows.append({"category": code_label(name, name_en) if cid else _("Uncategorised"), "quantity": quantity,
                     "buyers": buyers, "sales": sales})
        links.append(drill.link("composition.category", category=id_or_none(cid), **filters.drill_params()))
    return _finish(rows, links, _line_columns([Column("category", fields_of(Product)["category_id"].label)]), "category",
                   Chart("pie", category="category", series=[Series("sales")]))


register(Analysis(
    "composition", _l("Customer composition"), compute,
    description=_l("Sales by grade, product, product category and region, with the customers behind each figure."),
    params=(Param("by", _l("Breakdown"), choices=BREAKDOWNS, default="grade", tabs=True),), order=10,
    icon="fa-pie-chart"))


# --- drill-downs: the customers behind a row ---------------------------------------------------

def _bought(params):
    """Customers with a transaction in the drill's period."""
    return traded_in(drill.period_filters(params))


def _bought_lines(params, *conditions):
    """Customers with a transaction line meeting ``conditions`` in the drill's period (the
    lines' own date and customer: no join to trade)."""
    filters = drill.period_filters(params)
    return Customer.id.in_(sa.select(TransactionLine.customer_id)
                           .where(filters.period(TransactionLine.trade_date), *conditions))


def _grade_label(params):
    code = params.get("value_grade")
    label = _("Ungraded") if code == NONE else fields_of(Customer)["value_grade"].choice_label(code)
    return _with_period(label, params)


def _with_period(label: str, params) -> str:
    if params.get("bought") == "1" or params.get("product") or params.get("category"):
        if params.get("from") or params.get("to"):
            return _("%(what)s, bought %(start)s – %(end)s", what=label, start=params.get("from", "…"),
                     end=params.get("to", "…"))
    return label


@drill.define("composition.grade", label=_grade_label)
def _drill_grade(params):
    grade = drill.require(params, "value_grade", choices=(*GRADE_ORDER, NONE))
    conditions = [column_is(Customer.value_grade, grade, kind="text"), *drill_customers(params)]
    if drill.optional(params, "bought", choices=("1",)):
        conditions.append(_bought(params))
    return sa.and_(*conditions)


def _region_label(params):
    value = params.get("in_region")
    region = session().get(Region, int(value)) if value and value.isdigit() else None
    return _with_period(str(region) if region else _("No region"), params)


@drill.define("composition.region", label=_region_label)
def _drill_region(params):
    region = params.get("in_region")
    if region != NONE:
        drill.require(params, "in_region", kind="int")
    conditions = [column_is(Customer.region_id, region), *drill_customers(params)]
    if drill.optional(params, "bought", choices=("1",)):
        conditions.append(_bought(params))
    return sa.and_(*conditions)


def _product_label(params):
    value = params.get("product")
    product = session().get(Product, int(value)) if value and value.isdigit() else None
    return _with_period(_("Bought %(product)s", product=product.name if product else "?"), params)


@drill.define("composition.product", label=_product_label)
def _drill_product(params):
    product = drill.require(params, "product", kind="int")
    return sa.and_(*drill_customers(params), _bought_lines(params, TransactionLine.product_id == product))


def _category_label(params):
    value = params.get("category")
    category = session().get(ProductCategory, int(value)) if value and value.isdigit() else None
    name = str(category) if category else _("Uncategorised")
    return _with_period(_("Bought from %(category)s", category=name), params)


@drill.define("composition.category", label=_category_label)
def _drill_category(params):
    category = params.get("category")
    if category != NONE:
        drill.require(params, "category", kind="int")
    products = sa.select(Product.id).where(column_is(Product.category_id, category))
    return sa.and_(*drill_customers(params), _bought_lines(params, TransactionLine.product_id.in_(products)))
