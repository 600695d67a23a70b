"""The customer lifecycle: potential (潜在) → current (现有) → former (旧客户).

* potential → current: automatically, with the first transaction;
* current → former: only by a person, and only with a reason for stopping;
* former → current: automatically, with a new transaction dated after the stop.

Every transition is kept as a :class:`LifecycleEvent` with its date and user, and the
card's ``stage``/``stage_since`` follow it. Returns (negative amounts) never change a stage.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import current_user_id
from portal.models import Customer, LifecycleEvent, Transaction

POTENTIAL, CURRENT, FORMER = "potential", "current", "former"


class LifecycleError(ValueError):
    """A transition the rules do not allow; the message is in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _transition(session: Session, customer: Customer, to_stage: str, on: dt.date, *,
                reason: str | None = None, transaction: Transaction | None = None) -> LifecycleEvent:
    event = LifecycleEvent(customer=customer, from_stage=customer.stage, to_stage=to_stage, occurred_on=on,
                           reason=reason, transaction=transaction, user_id=current_user_id())
    session.add(event)
    customer.stage = to_stage
    customer.stage_since = on
    return event


def record_transaction(session: Session, customer: Customer, txn: Transaction) -> LifecycleEvent | None:
    """Update the card for a new transaction; returns the transition it caused, if any."""
    day = txn.trade_date
    if day is None or (txn.amount is not None and txn.amount < 0):
        return None
    customer.first_trade_on = min(filter(None, (customer.first_trade_on, day)))
    customer.last_trade_on = max(filter(None, (customer.last_trade_on, day)))
    stage = customer.stage or POTENTIAL
    if stage == POTENTIAL:
        return _transition(session, customer, CURRENT, day, transaction=txn,
                           reason=str(_l("First transaction")))
    if stage == FORMER and (customer.stage_since is None or day >= customer.stage_since):
        return _transition(session, customer, CURRENT, day, transaction=txn,
                           reason=str(_l("Trading again")))
    return None


def mark_former(session: Session, customer: Customer, reason: str, on: dt.date | None = None) -> LifecycleEvent:
    """Current → former, with the reason the customer stopped buying."""
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError(_l("A reason for stopping is required."))
    if customer.stage != CURRENT:
        raise LifecycleError(_l("Only a current customer can become a former customer."))
    on = on or dt.date.today()
    if on > dt.date.today():
        raise LifecycleError(_l("This date cannot be in the future."))
    customer.stop_reason = reason
    return _transition(session, customer, FORMER, on, reason=reason)


def open_new_customers(session: Session) -> None:
    """Flush hook: a new card starts its history with the stage it was created in."""
    for customer in [o for o in session.new if isinstance(o, Customer)]:
        customer.stage = customer.stage or POTENTIAL
        day = customer.acquired_on or dt.date.today()
        customer.stage_since = customer.stage_since or day
        session.add(LifecycleEvent(customer=customer, from_stage=None, to_stage=customer.stage, occurred_on=day,
                                   reason=str(_l("Card created")), user_id=current_user_id()))


def apply_new_transactions(session: Session) -> None:
    """Flush hook: every new transaction goes through :func:`record_transaction`."""
    new = sorted((o for o in session.new if isinstance(o, Transaction)),
                 key=lambda t: (t.trade_date or dt.date.max))
    for txn in new:
        customer = txn.customer
        if customer is None and txn.customer_id is not None:
            with session.no_autoflush:
                customer = session.get(Customer, txn.customer_id)
        if customer is not None:
            record_transaction(session, customer, txn)


def take_back_transactions(session: Session, removed: list[int]) -> None:
    """Put the cards of the customers of ``removed`` (transactions about to be deleted: an
    import undone) back as the transactions left say. The stage event one of them caused (the
    first transaction made the customer current) is taken back: moved onto the first
    transaction left that would have caused it, else removed, the card returning to the stage
    before it. The first and last trading days are those of the transactions left. The caller
    has made sure such an event is its customer's last; it deletes the transactions after."""
    if not removed:
        return
    gone = set(removed)
    customers = session.scalars(sa.select(Customer).where(Customer.id.in_(
        sa.select(Transaction.customer_id).where(Transaction.id.in_(removed))))).all()
    for customer in customers:
        left = [t for t in session.scalars(sa.select(Transaction).where(Transaction.customer_id == customer.id)
                                           .order_by(Transaction.trade_date, Transaction.id))
                if t.id not in gone and t.trade_date is not None and not (t.amount is not None and t.amount < 0)]
        events = session.scalars(sa.select(LifecycleEvent).where(LifecycleEvent.customer_id == customer.id)
                                 .order_by(LifecycleEvent.id)).all()   # as recorded
        for index, event in enumerate(events):
            if event.transaction_id not in gone:
                continue
            before = events[index - 1] if index else None
            # Trading again counts only from the day the customer stopped (see record_transaction).
            cause = next((t for t in left if event.from_stage != FORMER or before is None
                          or t.trade_date >= before.occurred_on), None)
            if cause is not None:
                event.transaction, event.occurred_on = cause, cause.trade_date
                customer.stage_since = cause.trade_date
            else:
                session.delete(event)
                customer.stage = event.from_stage or POTENTIAL
                customer.stage_since = before.occurred_on if before is not None else customer.stage_since
        customer.first_trade_on = left[0].trade_date if left else None
        customer.last_trade_on = max(t.trade_date for t in left) if left else None
    session.flush()
