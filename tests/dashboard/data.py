"""A small archive whose dashboard numbers are computed by hand, placed around a day ``today``
(the service tests use Friday 2025-01-03, so the last 14 days run across the year end).

card  owner   phone/mobile  province city street region source (3rd party?) verified   grade
K1    sales   phone         浙江     杭州  1号   East   purchased list (yes) —         A
K2    sales   mobile        浙江     杭州  "  "  —      purchased list (yes) today-5   —
K3    sales2  —             —        —     —     —      —                    —         —
K4    —       phone         —        —     —     —      walk-in (no)         —         —

C14 and KX (below) miss nothing and are not third-party. Missing (all six cards): phone_or_mobile 1 (K3), province 2, city 2, street 3 (K2 blank, K3, K4),
region 3, owner 1 (K4), source 1 (K3); third-party unverified 1 (K1).

Created by the clerk: cards K1 (today 00:00:00), K2 (today 23:59:59), K3 (today-1), K4
(today-13); a card C14 at today-14 (outside the 14 days) and one by the custodian today (not
the clerk's): KX (owner sales2). So today: 2 cards; 14 days: 4. Contacts: one of K1 today by
the clerk. Transactions: K1 today-19 (trade) 300, entered today by the clerk; K3 today-40: 100,
entered by the custodian.

Promotions: P1 (today-24, fixed 1000, 2.00 per target): K1 purchased, K2 interested (own
variable cost 5), K3 none, K4 declined → targets 4, responded 2, bought 1, cost 1011, rate
50.0, per response 505.50. P2 starts tomorrow (not yet a campaign). P3 (today-200, no costs,
no targets). In sales's scope P1 has K1, K2: cost 1007; sales2's: K3: cost 1002, no response.

Changes: 2 updates and 1 create today, 1 update at today-29 (in the 30 days), 1 at today-30
(outside). Access: 2 failed logins and 1 export today, 1 export at today-30 (outside).

The team 测试组 is managed by manager, with sales as its member (sales2 is not).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (AccessLog, ChangeLog, Contact, Customer, Promotion, PromotionTarget, Region, SalesTeam,
                           Source, Transaction)
from tests.conftest import user

FIXED_TODAY = dt.date(2025, 1, 3)


def at(day: dt.date, h=12, m=0, s=0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m, s))


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:          # 29 February
        return day.replace(year=day.year - years, day=28)


def build(app, today: dt.date = FIXED_TODAY) -> SimpleNamespace:
    sales, sales2, manager = user(app, "sales"), user(app, "sales2"), user(app, "manager")
    clerk, custodian = user(app, "clerk"), user(app, "custodian")
    days = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    team = SalesTeam(name="测试组", manager_id=manager.id, members=[sales])
    east = Region(code="DB-E", name="测试东区", name_en="Test East")
    bought = Source(code="DB-BUY", name="购买名单测试", third_party=True)
    walk_in = Source(code="DB-WALK", name="上门测试", third_party=False)
    db.session.add_all([team, east, bought, walk_in])
    db.session.flush()

    def card(name, owner, created, by=clerk, **kw):
        kw.setdefault("customer_type", "org")
        c = Customer(name=name, owner_id=owner.id if owner else None, created_on=created, changed_on=created,
                     created_by_id=by.id, **kw)
        db.session.add(c)
        return c

    k1 = card("甲测试公司", sales, at(today, 0, 0, 0), phone="0571-88880001", province="浙江", city="杭州",
              street="1号", region_id=east.id, source_id=bought.id, value_grade="A",
              birth_date=years_before(today + dt.timedelta(days=3), 40))
    k2 = card("乙测试公司", sales, at(today, 23, 59, 59), mobile="13800000002", province="浙江", city="杭州",
              street="  ", source_id=bought.id, verified_on=days(5))
    k3 = card("丙测试公司", sales2, at(days(1)))
    k4 = card("丁测试公司", None, at(days(13)), phone="010-66660004", source_id=walk_in.id)
    c14 = card("戊测试公司", sales2, at(days(14), 23, 59, 59), phone="0571-88880005", province="浙江", city="杭州",
               street="5号", region_id=east.id, source_id=walk_in.id)
    kx = card("己测试公司", sales2, at(today, 9), by=custodian, phone="0571-88880006", province="浙江", city="杭州",
              street="6号", region_id=east.id, source_id=walk_in.id)
    db.session.flush()
    db.session.add(Contact(customer_id=k1.id, name="张联系", created_on=at(today, 10), created_by_id=clerk.id))
    db.session.add(Transaction(customer_id=k1.id, trade_date=days(19), amount=Decimal("300"), created_on=at(today, 11),
                               created_by_id=clerk.id))
    db.session.add(Transaction(customer_id=k3.id, trade_date=days(40), amount=Decimal("100"),
                               created_on=at(days(40)), created_by_id=custodian.id))

    p1 = Promotion(name="新年直邮", promotion_type="mail", starts_at=at(days(24), 9), fixed_cost=Decimal("1000"),
                   variable_cost_per_target=Decimal("2.00"))
    p2 = Promotion(name="明日短信", promotion_type="sms", starts_at=at(today + dt.timedelta(days=1), 9),
                   fixed_cost=Decimal("50"))
    p3 = Promotion(name="夏季活动", promotion_type="event", starts_at=at(days(200), 9))
    db.session.add_all([p1, p2, p3])
    db.session.flush()
    db.session.add_all([
        PromotionTarget(promotion_id=p1.id, customer_id=k1.id, response="purchased"),
        PromotionTarget(promotion_id=p1.id, customer_id=k2.id, response="interested", variable_cost=Decimal("5")),
        PromotionTarget(promotion_id=p1.id, customer_id=k3.id, response="none"),
        PromotionTarget(promotion_id=p1.id, customer_id=k4.id, response="declined"),
        PromotionTarget(promotion_id=p2.id, customer_id=k1.id, response="none"),
    ])

    def change(when, action="update", customer=k1):
        db.session.add(ChangeLog(at=when, username="clerk", user_id=clerk.id, customer_id=customer.id,
                                 object_type="Customer", object_id=customer.id, action=action, changes={}))

    # The inserts above wrote change-log rows (the history of writes, at the real now); the
    # tests count only the ones placed below, so clear those first.
    db.session.commit()
    db.session.execute(sa.delete(ChangeLog))
    db.session.execute(sa.delete(AccessLog))
    change(at(today, 8))
    change(at(today, 9))
    change(at(today, 10), "create", k2)
    change(at(days(29), 0, 0, 0))
    change(at(days(30), 23, 59, 59))
    for when, action in ((at(today, 7), "login_failed"), (at(today, 7, 5), "login_failed"), (at(today, 8), "export"),
                         (at(days(30), 12), "export")):
        db.session.add(AccessLog(at=when, action=action, username="x"))
    db.session.commit()
    return SimpleNamespace(k1=k1, k2=k2, k3=k3, k4=k4, c14=c14, kx=kx, p1=p1, p2=p2, p3=p3, team=team, east=east,
                           sales=sales, sales2=sales2, manager=manager, clerk=clerk, custodian=custodian, today=today)
