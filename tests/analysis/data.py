"""A small archive whose analyses are computed by hand in the tests.

Period under test: 2024-12-01 .. 2025-01-31 (across a year end).

customer  grade region owner   rating limit   transactions (date: amount, payment, lines)
C1        A     East   sales   AA     10000   2024-12-15: 250 credit (P1 2×100, P2 1×50); 2025-01-10: -100 credit (P1 -1×100, a return)
C2        A     North  sales   B       5000   2025-01-31: 200 cash (P2 4×50)           last day of the period
C3        B     East   sales   —          —   none                                    a customer without transactions
C4        B     East   sales2  AA       200   2024-12-01: 300 credit (P3 1×300)        first day; 2024-11-30: 100 (P1), outside
C5        —     —      sales2  —          —   2025-01-05: 80, no lines, no payment;   2025-02-01: 50 (P2), outside

P1 ink (category Ink), P2 paper (category Paper), P3 printer (no category).
The team "测试一部" is managed by manager; sales is its member (sales2 is not).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from portal.extensions import db
from portal.models import Customer, Product, ProductCategory, Region, SalesTeam, Transaction, TransactionLine
from tests.conftest import user

D = dt.date
PERIOD = {"from": "2024-12-01", "to": "2025-01-31"}


def line(product, quantity, price):
    return TransactionLine(product=product, quantity=Decimal(quantity), unit_price=Decimal(price))


def build(app) -> SimpleNamespace:
    sales, sales2, manager = user(app, "sales"), user(app, "sales2"), user(app, "manager")
    team = SalesTeam(name="测试一部", manager_id=manager.id, members=[sales])
    east, north = Region(code="T-E", name="测试华东", name_en="Test East"), Region(code="T-N", name="测试华北", name_en="Test North")
    ink, paper = ProductCategory(code="T-INK", name="墨水"), ProductCategory(code="T-PAP", name="纸张")
    p1 = Product(code="T-P1", name="墨盒", category=ink)
    p2 = Product(code="T-P2", name="复印纸", category=paper)
    p3 = Product(code="T-P3", name="打印机")

    def customer(name, grade, region, owner, rating=None, limit=None, **kw):
        return Customer(name=name, customer_type="org", value_grade=grade, region=region, owner_id=owner.id,
                        credit_rating=rating, credit_limit=None if limit is None else Decimal(limit),
                        acquired_on=kw.pop("acquired_on", D(2024, 6, 1)), **kw)

    c1 = customer("一号公司", "A", east, sales, "AA", 10000)
    c2 = customer("二号公司", "A", north, sales, "B", 5000)
    c3 = customer("三号公司", "B", east, sales)
    c4 = customer("四号公司", "B", east, sales2, "AA", 200)
    c5 = customer("五号公司", None, None, sales2)
    db.session.add_all([team, east, north, ink, paper, p1, p2, p3, c1, c2, c3, c4, c5])
    db.session.flush()

    def trade(c, day, payment=None, lines=(), amount=None):
        txn = Transaction(customer=c, trade_date=day, payment_method=payment, lines=list(lines))
        if amount is not None:
            txn.amount = Decimal(amount)
        db.session.add(txn)
        return txn

    trade(c1, D(2024, 12, 15), "credit", [line(p1, 2, 100), line(p2, 1, 50)])
    trade(c1, D(2025, 1, 10), "credit", [line(p1, -1, 100)])
    trade(c2, D(2025, 1, 31), "cash", [line(p2, 4, 50)])
    trade(c4, D(2024, 12, 1), "credit", [line(p3, 1, 300)])
    trade(c4, D(2024, 11, 30), "credit", [line(p1, 1, 100)])
    trade(c5, D(2025, 1, 5), None, amount=80)
    trade(c5, D(2025, 2, 1), "cash", [line(p2, 1, 50)])
    db.session.commit()
    return SimpleNamespace(c1=c1, c2=c2, c3=c3, c4=c4, c5=c5, p1=p1, p2=p2, p3=p3, ink=ink, paper=paper,
                           east=east, north=north, team=team, sales=sales, sales2=sales2, manager=manager)
