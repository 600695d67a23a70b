"""Small pieces the portal's own analyses share (not part of the registry's API)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.i18n import pick
from portal.models import Customer, Transaction
from portal.security import scope

from .registry import Filters

NONE = "none"   # the drill parameter value for "no grade / no region / no category"


def session():
    return db.session


def code_label(name: str | None, name_en: str | None) -> str:
    """A code table row's name in the request's language."""
    return pick(name or "", name_en or name or "")


def share(part, whole) -> Decimal | None:
    """``part`` as a percentage of ``whole`` with one decimal (None when whole is 0)."""
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def id_or_none(value: int | None) -> str:
    return NONE if value is None else str(value)


def column_is(column, value: str | None, *, kind: str = "int"):
    """``column = value``, or ``column IS NULL`` for :data:`NONE`."""
    if value == NONE:
        return column.is_(None)
    return column == (int(value) if kind == "int" else value)


def drill_customers(params: dict[str, str]) -> list:
    """The common filters of a drill link as conditions on Customer (no scope: the grid
    applies the user's)."""
    from . import drill

    return drill.period_filters(params).customer_conditions(scope.ALL)


def traded_in(filters: Filters):
    """Customer.id IN (customers with a transaction in the period)."""
    return Customer.id.in_(sa.select(Transaction.customer_id).where(filters.period(Transaction.trade_date)))


def in_scope(filters: Filters, user) -> list:
    """``Transaction.customer_id IN (the customers in scope and filters)`` — pushed into the
    transactions' aggregate, so a salesperson's page reads only their customers' trades
    (empty when nothing limits the customers)."""
    return customers_in_scope(filters, user, Transaction.customer_id)


def customers_in_scope(filters: Filters, user, customer_column) -> list:
    """:func:`in_scope` for any column holding a customer id (``TransactionLine.customer_id``
    for the lines read without their transactions)."""
    conditions = filters.customer_conditions(user)
    return [customer_column.in_(sa.select(Customer.id).where(*conditions))] if conditions else []
