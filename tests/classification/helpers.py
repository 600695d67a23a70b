"""Small archives for the classification tests: customers and dated transactions written
through the ORM (so the lifecycle hooks run as in use)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import Customer, Product, Transaction, TransactionLine


def customer(name: str, **kw) -> Customer:
    record = Customer(name=name, customer_type="org", **kw)
    db.session.add(record)
    db.session.flush()
    return record


def trade(who: Customer, day, amount) -> Transaction:
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    txn = Transaction(customer=who, trade_date=day, amount=Decimal(str(amount)))
    db.session.add(txn)
    db.session.flush()
    return txn


def product(code: str, cost=None, category=None, price="10.00") -> Product:
    record = Product(code=code, name=f"产品{code}", cost_price=None if cost is None else Decimal(str(cost)),
                     list_price=Decimal(price), category=category)
    db.session.add(record)
    db.session.flush()
    return record


def sale(who: Customer, day, *lines) -> Transaction:
    """A transaction with lines (product, quantity, unit price); its amount is their sum."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    txn = Transaction(customer=who, trade_date=day)
    for item, quantity, price in lines:
        txn.lines.append(TransactionLine(product=item, quantity=Decimal(str(quantity)),
                                         unit_price=Decimal(str(price))))
    db.session.add(txn)
    db.session.flush()
    return txn
