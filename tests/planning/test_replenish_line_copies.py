"""Replenishment reads the lines' own copy of their transaction's date and customer
(migration 0011): a transaction whose date or customer changes moves its reminder."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.extensions import db
from portal.models import Product, Transaction, TransactionLine
from portal.services import reminders
from portal.services.reminders import Settings
from tests.planning.conftest import customer

D = dt.date


def due(user, on, **settings):
    found = reminders.for_user(db.session, user, on, Settings(**settings), kinds=["replenish"])
    return [(r.name, r.subject, r.occurrence, r.due_on) for r in found.items["replenish"]], found.counts["replenish"]


def test_a_purchase_redated_and_moved_to_another_customer_moves_the_reminder(app, people):
    sales, sales2 = people["sales"], people["sales2"]
    ink = Product(code="T-INK60", name="墨盒", replenish_cycle_days=60)
    mine, theirs = customer("一号公司", "A", sales), customer("二号公司", "A", sales2)
    trade = Transaction(customer=mine, trade_date=D(2025, 1, 1),
                        lines=[TransactionLine(product=ink, quantity=Decimal(2), unit_price=Decimal(10))])
    db.session.add_all([ink, trade])
    db.session.commit()
    assert due(sales, D(2025, 3, 2), replenish_days=0) == ([("一号公司", "墨盒", D(2025, 1, 1), D(2025, 3, 2))], 1)
    trade.trade_date = D(2025, 1, 11)            # 01-11 + 60 days = 03-12
    db.session.commit()
    assert due(sales, D(2025, 3, 2), replenish_days=0) == ([], 0)
    assert due(sales, D(2025, 3, 12), replenish_days=0) == ([("一号公司", "墨盒", D(2025, 1, 11), D(2025, 3, 12))], 1)
    trade.customer = theirs                      # now sales2's customer's purchase
    db.session.commit()
    assert due(sales, D(2025, 3, 12), replenish_days=0) == ([], 0)
    assert due(sales2, D(2025, 3, 12), replenish_days=0) == ([("二号公司", "墨盒", D(2025, 1, 11), D(2025, 3, 12))], 1)
    assert reminders.counts_for(db.session, sales2, D(2025, 3, 12), Settings(replenish_days=0))["replenish"] == 1
