"""Transaction amounts: a line's amount is quantity × unit price, a transaction with lines
is worth the sum of its lines (returns carry negative quantities)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from portal.models import Transaction, TransactionLine

CENT = Decimal("0.01")


def line_amount(quantity, unit_price) -> Decimal:
    return (Decimal(quantity or 0) * Decimal(unit_price or 0)).quantize(CENT)


def recalculate_amounts(session: Session) -> None:
    touched: set[Transaction] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, TransactionLine):
            if obj not in session.deleted:
                obj.amount = line_amount(obj.quantity, obj.unit_price)
            if obj.transaction is not None:
                touched.add(obj.transaction)
    for txn in touched:
        lines = [line for line in txn.lines if line not in session.deleted]
        if lines:
            txn.amount = sum((line_amount(l.quantity, l.unit_price) for l in lines), Decimal("0.00"))
