"""Reminders with hand-computed boundaries: year wrap, 29 February, a replenishment on the
day, an expiry today; done → hidden → the next occurrence shows again; scope."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import AfterSales, Contact, Product, Transaction, TransactionLine
from portal.services import reminders
from portal.services.reminders import ReminderError, Settings
from tests.planning.conftest import customer

D = dt.date


def items(user, on, kind, **settings):
    return reminders.for_user(db.session, user, on, Settings(**settings), kinds=[kind]).items[kind]


def names(found):
    return [(r.subject or r.name, r.due_on, r.days) for r in found]


def done(user, on, r):
    reminders.mark_done(db.session, user, on, r.kind, r.customer_id, r.subject_id, r.occurrence)
    db.session.commit()


def test_birthdays_over_the_new_year(app, people):
    sales = people["sales"]
    person = customer("王小明", None, sales, customer_type="person", birth_date=D(1980, 1, 3))
    late = customer("李四", None, sales, customer_type="person", birth_date=D(1990, 1, 5))
    db.session.add(Contact(customer=late, name="张经理", birth_date=D(1975, 12, 28)))
    db.session.commit()
    found = items(sales, D(2025, 12, 28), "birthday", birthday_days=7)
    # Window 2025-12-28 … 2026-01-04: the contact today, 王小明 on 2026-01-03; 李四 (01-05) is out.
    assert names(found) == [("张经理", D(2025, 12, 28), 0), ("王小明", D(2026, 1, 3), 6)]
    assert items(sales, D(2025, 12, 28), "birthday", birthday_days=8)[-1].name == "李四"


def test_a_29_february_birthday_is_on_28_february_in_a_common_year(app, people):
    sales = people["sales"]
    c = customer("闰日公司", None, sales)
    db.session.add(Contact(customer=c, name="赵闰", birth_date=D(1988, 2, 29)))
    db.session.commit()
    assert names(items(sales, D(2025, 2, 27), "birthday", birthday_days=1)) == [("赵闰", D(2025, 2, 28), 1)]
    assert items(sales, D(2025, 3, 1), "birthday", birthday_days=0) == []
    assert names(items(sales, D(2024, 2, 28), "birthday", birthday_days=1)) == [("赵闰", D(2024, 2, 29), 1)]
    assert items(sales, D(2024, 2, 28), "birthday", birthday_days=0) == []


def test_a_birthday_done_is_gone_until_next_year(app, people):
    sales = people["sales"]
    customer("王小明", None, sales, customer_type="person", birth_date=D(1980, 1, 3))
    db.session.commit()
    [r] = items(sales, D(2025, 12, 28), "birthday", birthday_days=7)
    done(sales, D(2025, 12, 28), r)
    assert items(sales, D(2025, 12, 28), "birthday", birthday_days=7) == []
    assert items(sales, D(2026, 1, 2), "birthday", birthday_days=3) == []        # the same birthday
    [again] = items(sales, D(2026, 12, 28), "birthday", birthday_days=7)
    assert again.due_on == D(2027, 1, 3)
    with pytest.raises(ReminderError):                                           # done once only
        reminders.mark_done(db.session, sales, D(2025, 12, 28), r.kind, r.customer_id, r.subject_id, r.occurrence)


@pytest.fixture
def ink(app, people):
    product = Product(code="INK-60", name="墨盒", replenish_cycle_days=60)
    paper = Product(code="PAPER", name="复印纸")          # no cycle: never reminded
    c = customer("快心电脑", "B", people["sales"])
    db.session.add_all([product, paper])
    db.session.flush()

    def buy(day, quantity, what=product):
        db.session.add(Transaction(customer=c, trade_date=day, lines=[
            TransactionLine(product=what, quantity=Decimal(quantity), unit_price=Decimal(50))]))
        db.session.commit()

    buy(D(2025, 1, 1), 2)
    buy(D(2025, 1, 10), -1)          # a return is no purchase
    buy(D(2025, 1, 15), 5, paper)
    return buy


def test_replenishment_exactly_on_the_day(app, people, ink):
    sales = people["sales"]
    # 2025-01-01 + 60 days = 2025-03-02.
    assert names(items(sales, D(2025, 3, 2), "replenish", replenish_days=0)) == [("墨盒", D(2025, 3, 2), 0)]
    assert items(sales, D(2025, 3, 1), "replenish", replenish_days=0) == []
    assert names(items(sales, D(2025, 3, 1), "replenish", replenish_days=1)) == [("墨盒", D(2025, 3, 2), 1)]
    # Overdue for up to one more cycle (until 05-01), then it is "no order" business.
    assert names(items(sales, D(2025, 5, 1), "replenish", replenish_days=0)) == [("墨盒", D(2025, 3, 2), -60)]
    assert items(sales, D(2025, 5, 2), "replenish", replenish_days=0) == []


def test_replenishment_done_then_the_next_purchase_starts_the_next_cycle(app, people, ink):
    sales = people["sales"]
    [r] = items(sales, D(2025, 3, 2), "replenish", replenish_days=0)
    assert r.occurrence == D(2025, 1, 1)
    done(sales, D(2025, 3, 2), r)
    assert items(sales, D(2025, 3, 3), "replenish", replenish_days=7) == []
    ink(D(2025, 3, 5), 2)
    assert names(items(sales, D(2025, 5, 4), "replenish", replenish_days=0)) == [("墨盒", D(2025, 5, 4), 0)]


def test_credit_report_expiring_today_and_expired(app, people):
    sales = people["sales"]
    customer("三月报告公司", "A", sales, credit_report_date=D(2025, 1, 31), credit_report_valid_months=3)
    customer("无有效期公司", "A", sales, credit_report_date=D(2024, 6, 15))     # default 12 months
    db.session.commit()
    # 2025-01-31 + 3 months = 2025-04-30 (a month end stays one).
    assert names(items(sales, D(2025, 4, 30), "credit_report", credit_days=0)) == [("三月报告公司", D(2025, 4, 30), 0)]
    assert items(sales, D(2025, 4, 29), "credit_report", credit_days=0) == []
    assert names(items(sales, D(2025, 4, 29), "credit_report", credit_days=1)) == [("三月报告公司", D(2025, 4, 30), 1)]
    assert names(items(sales, D(2025, 6, 1), "credit_report", credit_days=14)) == [
        ("三月报告公司", D(2025, 4, 30), -32), ("无有效期公司", D(2025, 6, 15), 14)]


def test_a_credit_limit_without_report_is_reviewed_then_due_again_a_validity_later(app, people):
    sales = people["sales"]
    c = customer("赊账公司", "A", sales, credit_limit=Decimal("50000"))
    customer("现款公司", "A", sales)                                             # no limit: nothing to review
    db.session.commit()
    [r] = items(sales, D(2025, 3, 1), "credit_limit", credit_days=0)
    assert r.name == "赊账公司" and r.since is None
    done(sales, D(2025, 3, 1), r)
    assert items(sales, D(2025, 3, 1), "credit_limit", credit_days=30) == []
    # Reviewed 2025-03-01; with no report the default validity (12 months) applies.
    assert items(sales, D(2026, 2, 28), "credit_limit", credit_days=0) == []
    [again] = items(sales, D(2026, 3, 1), "credit_limit", credit_days=0)
    assert again.since == D(2025, 3, 1) and again.customer_id == c.id


def test_a_card_not_checked_for_three_months_and_the_quarterly_check_again(app, people):
    sales = people["sales"]
    customer("老档案公司", "B", sales, verified_on=D(2025, 1, 10), created_on=dt.datetime(2024, 1, 1, 9))
    customer("新档案公司", "B", sales, created_on=dt.datetime(2025, 3, 1, 9))
    db.session.commit()
    assert items(sales, D(2025, 4, 9), "stale_card", stale_months=3) == []
    [r] = items(sales, D(2025, 4, 10), "stale_card", stale_months=3)
    assert (r.name, r.since, r.due_on, r.days) == ("老档案公司", D(2025, 1, 10), D(2025, 4, 10), 0)
    done(sales, D(2025, 4, 10), r)
    assert [x.name for x in items(sales, D(2025, 6, 1), "stale_card", stale_months=3)] == ["新档案公司"]
    assert "老档案公司" in [x.name for x in items(sales, D(2025, 7, 10), "stale_card", stale_months=3)]


def test_no_order_for_twelve_months(app, people):
    sales = people["sales"]
    customer("沉睡公司", "C", sales, last_trade_on=D(2024, 3, 31))
    customer("旧客户", "C", sales, stage="former", last_trade_on=D(2020, 1, 1))     # already former
    db.session.commit()
    assert items(sales, D(2025, 3, 30), "no_order", no_order_months=12) == []
    [r] = items(sales, D(2025, 3, 31), "no_order", no_order_months=12)
    assert (r.name, r.since, r.days) == ("沉睡公司", D(2024, 3, 31), 0)


def test_open_complaints_only(app, people):
    sales = people["sales"]
    c = customer("投诉公司", "A", sales)
    db.session.add_all([
        AfterSales(customer=c, kind="complaint", occurred_on=D(2025, 2, 1), content="送货晚了三天", status="open"),
        AfterSales(customer=c, kind="complaint", occurred_on=D(2025, 1, 1), content="已处理", status="closed"),
        AfterSales(customer=c, kind="service", occurred_on=D(2025, 2, 2), content="上门维修", status="open"),
    ])
    db.session.commit()
    [r] = items(sales, D(2025, 3, 1), "complaint")
    assert (r.subject, r.days) == ("送货晚了三天", -28)
    done(sales, D(2025, 3, 1), r)
    assert items(sales, D(2025, 3, 1), "complaint") == []


def test_reminders_stay_in_the_users_scope(app, people):
    sales, sales2, manager = people["sales"], people["sales2"], people["manager"]
    customer("我的客户", "A", sales, team=people["team"], customer_type="person", birth_date=D(1980, 5, 1))
    customer("别人的客户", "A", sales2, customer_type="person", birth_date=D(1980, 5, 1))
    db.session.commit()
    on = D(2025, 5, 1)
    assert [r.name for r in items(sales, on, "birthday", birthday_days=0)] == ["我的客户"]
    assert [r.name for r in items(sales2, on, "birthday", birthday_days=0)] == ["别人的客户"]
    assert [r.name for r in items(manager, on, "birthday", birthday_days=0)] == ["我的客户"]
    mine = items(sales, on, "birthday", birthday_days=0)[0]
    with pytest.raises(ReminderError):       # not sales2's to mark done
        reminders.mark_done(db.session, sales2, on, "birthday", mine.customer_id, 0, mine.occurrence)


def test_counts_limit_and_bad_settings(app, people):
    sales = people["sales"]
    for n in range(3):
        customer(f"生日{n}", None, sales, customer_type="person", birth_date=D(1980, 5, 1 + n))
    db.session.commit()
    result = reminders.for_user(db.session, sales, D(2025, 5, 1), Settings(birthday_days=5), limit=2)
    assert result.counts["birthday"] == 3 and [r.name for r in result.items["birthday"]] == ["生日0", "生日1"]
    assert reminders.counts_for(db.session, sales, D(2025, 5, 1), Settings(birthday_days=5))["birthday"] == 3
    with pytest.raises(ReminderError):
        reminders.for_user(db.session, sales, D(2025, 5, 1), Settings(birthday_days=400))
    with pytest.raises(ReminderError):
        reminders.for_user(db.session, sales, D(2025, 5, 1), kinds=["cake"])


# -- the replenishment bound: each line read back at most two of its product's cycles --------

@pytest.fixture
def cycles(app, people):
    """Paper (30 days) and a toner (365 days) bought by one customer of sales; sales2 sees none."""
    paper = Product(code="P-30", name="打印纸", replenish_cycle_days=30)
    toner = Product(code="T-365", name="硒鼓", replenish_cycle_days=365)
    c = customer("长短周期公司", "A", people["sales"], team=people["team"])
    db.session.add_all([paper, toner])
    db.session.flush()

    def buy(day, what, quantity=1):
        db.session.add(Transaction(customer=c, trade_date=day, lines=[
            TransactionLine(product=what, quantity=Decimal(quantity), unit_price=Decimal(10))]))
        db.session.commit()

    return {"paper": paper, "toner": toner, "buy": buy}


def test_a_purchase_two_cycles_old_is_the_last_one_shown(app, people, cycles):
    sales = people["sales"]
    on = D(2025, 6, 30)
    cycles["buy"](on - dt.timedelta(days=60), cycles["paper"])      # 05-01: exactly 2 × 30 days
    cycles["buy"](on - dt.timedelta(days=730), cycles["toner"])     # 2023-07-01: exactly 2 × 365
    assert names(items(sales, on, "replenish", replenish_days=0)) == [
        ("硒鼓", D(2024, 6, 30), -365), ("打印纸", D(2025, 5, 31), -30)]
    # One day later both are beyond the second cycle (the toner's bound is not the paper's).
    assert items(sales, on + dt.timedelta(days=1), "replenish", replenish_days=0) == []


def test_a_short_cycle_is_not_read_with_the_longest_cycles_bound(app, people, cycles):
    sales = people["sales"]
    on = D(2025, 6, 30)
    cycles["buy"](on - dt.timedelta(days=61), cycles["paper"])      # within 2 × 365, not 2 × 30
    cycles["buy"](on - dt.timedelta(days=100), cycles["toner"])
    assert names(items(sales, on, "replenish", replenish_days=0)) == []
    assert names(items(sales, on, "replenish", replenish_days=265)) == [("硒鼓", D(2026, 3, 22), 265)]


def test_an_older_purchase_outside_the_bound_changes_nothing(app, people, cycles):
    sales = people["sales"]
    on = D(2025, 6, 30)
    cycles["buy"](D(2024, 1, 5), cycles["paper"])                   # long out of the 60 days
    cycles["buy"](D(2025, 6, 10), cycles["paper"])
    cycles["buy"](D(2025, 6, 20), cycles["paper"], quantity=-1)     # a return: no purchase
    assert names(items(sales, on, "replenish", replenish_days=10)) == [("打印纸", D(2025, 7, 10), 10)]
    assert names(items(sales, on, "replenish", replenish_days=9)) == []


def test_replenishments_in_scope_counted_with_and_without_limit(app, people, cycles):
    sales, sales2, manager = people["sales"], people["sales2"], people["manager"]
    on = D(2025, 6, 30)
    cycles["buy"](D(2025, 6, 1), cycles["paper"])
    cycles["buy"](D(2025, 1, 1), cycles["toner"])
    settings = Settings(replenish_days=200)
    for user in (sales, manager):
        full = reminders.for_user(db.session, user, on, settings, kinds=["replenish"])
        assert full.counts["replenish"] == 2 and [r.subject for r in full.items["replenish"]] == ["打印纸", "硒鼓"]
        one = reminders.for_user(db.session, user, on, settings, kinds=["replenish"], limit=1)
        assert one.counts["replenish"] == 2 and [r.subject for r in one.items["replenish"]] == ["打印纸"]
        assert reminders.counts_for(db.session, user, on, settings)["replenish"] == 2
    assert reminders.for_user(db.session, sales2, on, settings, kinds=["replenish"]).counts["replenish"] == 0
    assert reminders.counts_for(db.session, sales2, on, settings)["replenish"] == 0


def test_replenishments_match_the_rule_computed_by_hand_over_many_days(app, people):
    """The rule in Python — the last positive purchase up to the day, shown when last + cycle
    ≤ day + window and last + 2 × cycle ≥ day — against the SQL for every day of a year
    around a set of purchases of three cycles and two customers (one a return)."""
    import random

    rng = random.Random(6)
    products = [Product(code=f"C{c}", name=f"周期{c}", replenish_cycle_days=c) for c in (7, 30, 90)]
    db.session.add_all(products)
    owners = [customer(f"客户{n}", "A", people["sales"]) for n in range(2)]
    db.session.flush()
    bought = []
    for _ in range(40):
        who, what = rng.choice(owners), rng.choice(products)
        day, quantity = D(2025, 1, 1) + dt.timedelta(days=rng.randrange(300)), rng.choice((1, 2, -1))
        db.session.add(Transaction(customer=who, trade_date=day, lines=[
            TransactionLine(product=what, quantity=Decimal(quantity), unit_price=Decimal(10))]))
        bought.append((who.id, what, day, quantity))
    db.session.commit()
    window = 5
    custodian = app.appbuilder.sm.find_user("custodian")
    assert custodian is not None
    for offset in range(0, 400, 3):
        on = D(2025, 1, 1) + dt.timedelta(days=offset)
        expected = set()
        for who in owners:
            for what in products:
                days = [d for cid, p, d, q in bought if cid == who.id and p is what and q > 0 and d <= on]
                if days:
                    last, c = max(days), what.replenish_cycle_days
                    if last + dt.timedelta(days=c) <= on + dt.timedelta(days=window) \
                            and last + dt.timedelta(days=2 * c) >= on:
                        expected.add((who.id, what.id, last))
        found = items(people["sales"], on, "replenish", replenish_days=window)
        assert {(r.customer_id, r.subject_id, r.occurrence) for r in found} == expected, on
        # Every customer (the Custodian): on SQLite one aggregate per cycle, the same answer.
        found = items(custodian, on, "replenish", replenish_days=window)
        assert {(r.customer_id, r.subject_id, r.occurrence) for r in found} == expected, on
