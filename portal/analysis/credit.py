"""信用分析: customers and open amounts per credit class (信用等级), credit limits against what
was actually bought on credit.

The archive records how each transaction was paid (付款方式) but not when a debt was settled:
there is no receivable ledger. So the *open amount* is defined as what the customer bought
**on credit** (付款方式 = 赊账) in the chosen period, net of returns on credit (negative
amounts). With the default period (the last 12 months) that is the credit a customer has
been using lately; with a period as long as the payment terms (月结30/60/90天) it approximates
what is still unpaid. Customers *over their limit* are those whose open amount is greater
than their credit limit. Both definitions are shown on the page.

Credit ratings and limits are sensitive fields: the page needs ``see_sensitive``.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from portal.fields import fields_of
from portal.models import Customer, Transaction
from portal.models.choices import CREDIT_RATING
from portal.security import scope
from portal.security.permissions import SENSITIVE_VIEW

from . import drill
from .common import NONE, column_is, drill_customers, in_scope, session, share
from .registry import Analysis, Chart, Column, Filters, Param, Result, Series, register

CREDIT = "credit"      # the payment method 赊账
RATINGS = tuple(code for code, _zh, _en in CREDIT_RATING)
RATING_ORDER = {code: i for i, code in enumerate(RATINGS)}
VIEWS = (("class", _l("By credit class")), ("customers", _l("Limits vs actual, by customer")))
MAX_CUSTOMER_ROWS = 500

NOTES = (
    _l("Open amount: purchases on credit (payment method 赊账) in the period, returns on credit subtracted — "
       "the archive records no payments, so this is the credit used in the period."),
    _l("Over limit: customers whose open amount is greater than their credit limit."),
)


def per_customer(filters: Filters, user):
    """Per customer, in one pass over the period's transactions: the open amount (purchases on
    credit), whether it bought on credit, and all its sales — a subquery."""
    on_credit = Transaction.payment_method == CREDIT
    return (sa.select(Transaction.customer_id.label("customer_id"),
                      sa.func.sum(sa.case((on_credit, Transaction.amount), else_=0)).label("open"),
                      sa.func.max(sa.case((on_credit, 1), else_=0)).label("on_credit"),
                      sa.func.sum(Transaction.amount).label("sales"))
            .where(filters.period(Transaction.trade_date), *in_scope(filters, user))
            .group_by(Transaction.customer_id).subquery("per_customer"))


def compute(filters: Filters, user) -> Result:
    return by_customer(filters, user) if filters.param("view") == "customers" else by_class(filters, user)


def by_class(filters: Filters, user) -> Result:
    figures = per_customer(filters, user)
    open_amount = sa.func.coalesce(figures.c.open, 0)
    over = sa.and_(Customer.credit_limit.is_not(None), open_amount > Customer.credit_limit)
    query = (sa.select(Customer.credit_rating, sa.func.count(Customer.id), sa.func.count(Customer.credit_limit),
                       sa.func.coalesce(sa.func.sum(Customer.credit_limit), 0),
                       sa.func.coalesce(sa.func.sum(figures.c.open), 0),
                       sa.func.coalesce(sa.func.sum(figures.c.on_credit), 0),
                       sa.func.coalesce(sa.func.sum(figures.c.sales), 0),
                       sa.func.coalesce(sa.func.sum(sa.case((over, 1), else_=0)), 0))
             .outerjoin(figures, figures.c.customer_id == Customer.id)
             .where(*filters.customer_conditions(user)).group_by(Customer.credit_rating))
    spec = fields_of(Customer)["credit_rating"]
    rows, links = [], []
    found = sorted(session().execute(query), key=lambda r: RATING_ORDER.get(r[0], len(RATINGS)))
    for rating, customers, with_limit, limits, open_amount, on_credit, total_sales, over_limit in found:
        rows.append({"rating": spec.choice_label(rating) if rating else _("Unrated"), "code": rating,
                     "customers": customers, "with_limit": with_limit, "limit": limits, "on_credit": on_credit,
                     "open": open_amount, "sales": total_sales, "usage": share(open_amount, limits),
                     "over_limit": over_limit})
        code, period = rating or NONE, filters.drill_params()
        links.append({
            "*": drill.link("credit.class", rating=code, **filters.drill_params(dates=False)),
            "on_credit": drill.link("credit.class", rating=code, on_credit="1", **period),
            "open": drill.link("credit.class", rating=code, on_credit="1", **period),
            "over_limit": drill.link("credit.class", rating=code, over="1", **period),
        })
    columns = [
        Column("rating", spec.label), Column("customers", _l("Number of customers"), "int"),
        Column("with_limit", _l("With a credit limit"), "int"), Column("limit", _l("Credit limits"), "money"),
        Column("on_credit", _l("Bought on credit"), "int"), Column("open", _l("Open amount"), "money"),
        Column("sales", _l("All sales"), "money"), Column("usage", _l("Open amount / limits (%)"), "decimal"),
        Column("over_limit", _l("Over limit"), "int"),
    ]
    totals = {"rating": _("Total")}
    for key in ("customers", "with_limit", "limit", "on_credit", "open", "sales", "over_limit"):
        totals[key] = sum(r[key] for r in rows)
    totals["usage"] = share(totals["open"], totals["limit"])
    return Result(columns=columns, rows=rows, drill=links, totals=totals, notes=list(NOTES),
                  chart=Chart("bar", category="rating", series=[Series("limit"), Series("open")]))


def by_customer(filters: Filters, user) -> Result:
    figures = per_customer(filters, user)
    open_amount = sa.func.coalesce(figures.c.open, 0)
    query = (sa.select(Customer.id, Customer.number, Customer.name, Customer.credit_rating, Customer.credit_limit,
                       open_amount)
             .outerjoin(figures, figures.c.customer_id == Customer.id)
             .where(*filters.customer_conditions(user),
                    sa.or_(Customer.credit_limit.is_not(None), figures.c.on_credit == 1))
             .order_by(open_amount.desc(), Customer.credit_limit.desc(), Customer.id).limit(MAX_CUSTOMER_ROWS))
    spec = fields_of(Customer)
    rows, links = [], []
    for pk, number, name, rating, limit, amount in session().execute(query):
        rows.append({"number": number, "name": name, "rating": spec["credit_rating"].choice_label(rating) if rating else "",
                     "limit": limit, "open": amount, "usage": share(amount, limit),
                     "over": _("Yes") if limit is not None and amount > limit else ""})
        links.append(drill.link("credit.customer", customer=pk))
    columns = [
        Column("number", spec["number"].label, source=(Customer, "number")),
        Column("name", spec["name"].label, source=(Customer, "name")),
        Column("rating", spec["credit_rating"].label, source=(Customer, "credit_rating")),
        Column("limit", spec["credit_limit"].label, "money", source=(Customer, "credit_limit")),
        Column("open", _l("Open amount"), "money"), Column("usage", _l("Open amount / limit (%)"), "decimal"),
        Column("over", _l("Over limit")),
    ]
    notes = list(NOTES) + [_l("At most %(n)s customers are listed, the largest open amounts first.",
                              n=MAX_CUSTOMER_ROWS)]
    return Result(columns=columns, rows=rows, drill=links, notes=notes,
                  chart=Chart("bar", category="name", series=[Series("limit"), Series("open")], horizontal=True, top=20))


register(Analysis(
    "credit", _l("Credit analysis"), compute,
    description=_l("Customers, credit limits and open amounts per credit class; limits against what was bought on credit."),
    params=(Param("view", _l("View"), choices=VIEWS, default="class", tabs=True),),
    needs=(("see_sensitive", SENSITIVE_VIEW),), order=20, icon="fa-credit-card"))


# --- drill-downs ------------------------------------------------------------------------------

def _class_label(params):
    code = params.get("rating")
    label = _("Unrated") if code == NONE else fields_of(Customer)["credit_rating"].choice_label(code)
    if params.get("over") == "1":
        return _("Credit class %(rating)s, over limit %(start)s – %(end)s", rating=label,
                 start=params.get("from", "…"), end=params.get("to", "…"))
    if params.get("on_credit") == "1":
        return _("Credit class %(rating)s, bought on credit %(start)s – %(end)s", rating=label,
                 start=params.get("from", "…"), end=params.get("to", "…"))
    return _("Credit class %(rating)s", rating=label)


def _open_amount(params):
    """Correlated: the customer's credit purchases in the drill's period."""
    filters = drill.period_filters(params)
    return (sa.select(sa.func.coalesce(sa.func.sum(Transaction.amount), 0))
            .where(Transaction.customer_id == Customer.id, Transaction.payment_method == CREDIT,
                   filters.period(Transaction.trade_date)).scalar_subquery())


@drill.define("credit.class", label=_class_label)
def _drill_class(params):
    rating = drill.require(params, "rating", choices=(*RATINGS, NONE))
    conditions = [column_is(Customer.credit_rating, rating, kind="text"), *drill_customers(params)]
    if drill.optional(params, "on_credit", choices=("1",)):
        filters = drill.period_filters(params)
        conditions.append(Customer.id.in_(sa.select(Transaction.customer_id).where(
            Transaction.payment_method == CREDIT, filters.period(Transaction.trade_date))))
    if drill.optional(params, "over", choices=("1",)):
        conditions += [Customer.credit_limit.is_not(None), _open_amount(params) > Customer.credit_limit]
    return sa.and_(*conditions)


def _customer_label(params):
    value = params.get("customer")
    # Named only when the user may see it: a link must not tell the name of someone else's customer.
    customer = session().get(Customer, int(value)) if value and value.isdigit() else None
    return str(customer) if customer is not None and scope.can_reach(Customer, customer.id) else _("One customer")


@drill.define("credit.customer", label=_customer_label)
def _drill_customer(params):
    return Customer.id == drill.require(params, "customer", kind="int")
