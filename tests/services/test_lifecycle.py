"""潜在 → 现有 → 旧客户: transitions, their dates and users, kept on the card."""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.context import acting_as
from portal.extensions import db
from portal.models import Customer, LifecycleEvent, Product, Transaction, TransactionLine
from portal.services import lifecycle
from tests.conftest import user


def new_customer(**kw):
    customer = Customer(name=kw.pop("name", "杭州华信贸易有限公司"), customer_type="org", **kw)
    db.session.add(customer)
    db.session.flush()
    return customer


def trade(customer, day, amount="100.00"):
    txn = Transaction(customer=customer, trade_date=day, amount=Decimal(amount))
    db.session.add(txn)
    db.session.flush()
    return txn


def events(customer):
    return db.session.scalars(sa.select(LifecycleEvent).where(LifecycleEvent.customer_id == customer.id)
                              .order_by(LifecycleEvent.id)).all()


def test_a_new_card_starts_as_potential_with_a_dated_event(app):
    with acting_as(user(app, "clerk").id):
        customer = new_customer(acquired_on=dt.date(2025, 3, 1))
    assert customer.stage == "potential" and customer.stage_since == dt.date(2025, 3, 1)
    [opened] = events(customer)
    assert (opened.from_stage, opened.to_stage, opened.occurred_on) == (None, "potential", dt.date(2025, 3, 1))
    assert opened.user_id == user(app, "clerk").id


def test_first_transaction_makes_a_potential_customer_current(app):
    customer = new_customer()
    with acting_as(user(app, "sales").id):
        txn = trade(customer, dt.date(2025, 5, 6))
    assert customer.stage == "current"
    assert customer.stage_since == customer.first_trade_on == customer.last_trade_on == dt.date(2025, 5, 6)
    event = events(customer)[-1]
    assert (event.from_stage, event.to_stage, event.transaction_id) == ("potential", "current", txn.id)
    assert event.user_id == user(app, "sales").id


def test_later_transactions_only_move_the_dates(app):
    customer = new_customer()
    trade(customer, dt.date(2025, 5, 6))
    trade(customer, dt.date(2025, 1, 2))
    trade(customer, dt.date(2025, 9, 9))
    assert customer.first_trade_on == dt.date(2025, 1, 2) and customer.last_trade_on == dt.date(2025, 9, 9)
    assert [e.to_stage for e in events(customer)] == ["potential", "current"]


def test_a_return_alone_does_not_make_a_customer_current(app):
    customer = new_customer()
    trade(customer, dt.date(2025, 5, 6), amount="-50.00")
    assert customer.stage == "potential"


def test_current_to_former_needs_a_reason(app):
    customer = new_customer()
    trade(customer, dt.date(2025, 5, 6))
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.mark_former(db.session, customer, "  ")
    assert customer.stage == "current"
    with acting_as(user(app, "manager").id):
        lifecycle.mark_former(db.session, customer, "转向竞争对手", dt.date(2025, 10, 1))
    db.session.flush()
    assert (customer.stage, customer.stage_since, customer.stop_reason) == ("former", dt.date(2025, 10, 1), "转向竞争对手")
    event = events(customer)[-1]
    assert (event.from_stage, event.to_stage, event.reason) == ("current", "former", "转向竞争对手")
    assert event.user_id == user(app, "manager").id


def test_only_a_current_customer_can_become_former(app):
    customer = new_customer()
    with pytest.raises(lifecycle.LifecycleError):
        lifecycle.mark_former(db.session, customer, "从未交易")
    with pytest.raises(lifecycle.LifecycleError):
        trade(customer, dt.date(2025, 5, 6))
        lifecycle.mark_former(db.session, customer, "停业", dt.date.today() + dt.timedelta(days=3))


def test_a_former_customer_trading_again_is_current_again(app):
    customer = new_customer()
    trade(customer, dt.date(2024, 5, 6))
    lifecycle.mark_former(db.session, customer, "价格原因", dt.date(2025, 1, 1))
    trade(customer, dt.date(2024, 12, 1))          # an old order entered late: still former
    assert customer.stage == "former"
    trade(customer, dt.date(2025, 6, 1))
    assert customer.stage == "current" and customer.stage_since == dt.date(2025, 6, 1)
    assert [e.to_stage for e in events(customer)] == ["potential", "current", "former", "current"]


def test_transaction_lines_set_the_amount(app):
    customer = new_customer()
    product = Product(code="INK-1", name="墨盒", replenish_cycle_days=60)
    txn = Transaction(customer=customer, trade_date=dt.date(2025, 5, 6))
    txn.lines = [TransactionLine(product=product, quantity=Decimal("3"), unit_price=Decimal("45.50")),
                 TransactionLine(product=product, quantity=Decimal("-1"), unit_price=Decimal("45.50"))]
    db.session.add(txn)
    db.session.flush()
    assert txn.amount == Decimal("91.00")
    assert [line.amount for line in txn.lines] == [Decimal("136.50"), Decimal("-45.50")]
    assert customer.stage == "current"
