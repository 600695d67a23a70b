"""A transaction line carries its transaction's date and customer (migration 0011), kept true
by the database's triggers whatever writes the rows — and invisible to every field reader."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.excel import bulk, mapping
from portal.extensions import db
from portal.fields import fields_of
from portal.grid.columns import grid_specs
from portal.models import ChangeLog, Customer, Product, Transaction, TransactionLine

D = dt.date
COPIES = ("trade_date", "customer_id")


@pytest.fixture
def setup(app):
    one = Customer(name="甲公司", customer_type="org")
    two = Customer(name="乙公司", customer_type="org")
    product = Product(code="T-COPY", name="测试产品")
    db.session.add_all([one, two, product])
    db.session.flush()
    return one, two, product


def stored(*transaction_ids) -> set[tuple]:
    """(line id, transaction id, trade_date, customer_id) as the database holds them."""
    query = (sa.select(TransactionLine.id, TransactionLine.transaction_id, TransactionLine.trade_date,
                       TransactionLine.customer_id).where(TransactionLine.transaction_id.in_(transaction_ids)))
    return {tuple(r) for r in db.session.execute(query)}


def expected(*transaction_ids) -> set[tuple]:
    """The same lines with their transaction's date and customer, read through trade."""
    query = (sa.select(TransactionLine.id, Transaction.id, Transaction.trade_date, Transaction.customer_id)
             .join(Transaction, Transaction.id == TransactionLine.transaction_id)
             .where(Transaction.id.in_(transaction_ids)))
    return {tuple(r) for r in db.session.execute(query)}


def line(product, quantity="2", price="10"):
    return TransactionLine(product=product, quantity=Decimal(quantity), unit_price=Decimal(price))


def test_lines_inserted_by_the_orm_with_their_transaction_get_its_date_and_customer(setup):
    one, _two, product = setup
    txn = Transaction(customer=one, trade_date=D(2025, 3, 4), lines=[line(product), line(product, "1")])
    db.session.add(txn)
    db.session.flush()
    # the ORM reads the trigger's values back after the flush (no stale placeholder)
    assert [(x.trade_date, x.customer_id) for x in txn.lines] == [(D(2025, 3, 4), one.id)] * 2
    db.session.expire_all()
    assert stored(txn.id) == expected(txn.id) and len(stored(txn.id)) == 2
    later = line(product, "3")
    txn.lines.append(later)   # a line added to a transaction already written
    db.session.flush()
    assert (later.trade_date, later.customer_id) == (D(2025, 3, 4), one.id)


def test_lines_written_by_the_import_bulk_writer_get_them(setup):
    one, two, product = setup
    ids = bulk.insert(db.session, Transaction, [
        {"number": "T-BULK-1", "customer_id": one.id, "trade_date": D(2025, 1, 2), "amount": Decimal("20")},
        {"number": "T-BULK-2", "customer_id": two.id, "trade_date": D(2025, 2, 3), "amount": Decimal("30")}])
    bulk.insert(db.session, TransactionLine, [
        {"transaction_id": tid, "product_id": product.id, "quantity": Decimal("1"), "unit_price": Decimal("10"),
         "amount": Decimal("10")} for tid in (*ids, *ids)])
    found = stored(*ids)
    assert found == expected(*ids) and len(found) == 4
    assert {(r[2], r[3]) for r in found} == {(D(2025, 1, 2), one.id), (D(2025, 2, 3), two.id)}


def test_changing_a_transactions_date_and_customer_moves_its_lines(setup):
    one, two, product = setup
    txn = Transaction(customer=one, trade_date=D(2025, 3, 4), lines=[line(product), line(product)])
    other = Transaction(customer=one, trade_date=D(2025, 3, 5), lines=[line(product)])
    db.session.add_all([txn, other])
    db.session.flush()
    txn.trade_date, txn.customer = D(2024, 12, 31), two      # through the ORM (forms, grid)
    db.session.flush()
    assert {(r[2], r[3]) for r in stored(txn.id)} == {(D(2024, 12, 31), two.id)}
    assert {(r[2], r[3]) for r in stored(other.id)} == {(D(2025, 3, 5), one.id)}   # the others stay
    db.session.expire_all()
    bulk.update(db.session, Transaction, [(txn.id, txn.version, {"trade_date": D(2025, 6, 1)}),
                                          (other.id, other.version, {"customer_id": two.id})], None)   # the import
    assert stored(txn.id, other.id) == expected(txn.id, other.id)
    assert {(r[2], r[3]) for r in stored(txn.id, other.id)} == {(D(2025, 6, 1), two.id), (D(2025, 3, 5), two.id)}


def test_a_line_moved_to_another_transaction_or_written_directly_keeps_the_transactions_values(setup):
    one, two, product = setup
    first = Transaction(customer=one, trade_date=D(2025, 3, 4), lines=[line(product)])
    second = Transaction(customer=two, trade_date=D(2025, 4, 5))
    db.session.add_all([first, second])
    db.session.flush()
    moved = first.lines[0]
    moved.transaction = second
    db.session.flush()
    assert stored(second.id) == expected(second.id) == {(moved.id, second.id, D(2025, 4, 5), two.id)}
    db.session.execute(sa.update(TransactionLine).where(TransactionLine.id == moved.id)
                       .values(trade_date=D(2000, 1, 1), customer_id=one.id))
    assert stored(second.id) == {(moved.id, second.id, D(2025, 4, 5), two.id)}


def test_the_copies_are_no_field_so_no_form_grid_import_export_or_history_shows_them(setup):
    one, _two, product = setup
    for name in COPIES:
        assert name in TransactionLine.__table__.c
    described = fields_of(TransactionLine)
    assert "transaction_id" in described and not set(COPIES) & set(described)
    assert not set(COPIES) & {s.name for s in grid_specs(TransactionLine)}            # grid and list columns
    assert not set(COPIES) & {t.spec.name for t in mapping.targets(TransactionLine, sees_sensitive=True).values()
                              if getattr(t, "spec", None) is not None}                 # import mapping
    txn = Transaction(customer=one, trade_date=D(2025, 3, 4), lines=[line(product)])
    db.session.add(txn)
    db.session.flush()
    txn.trade_date = D(2025, 3, 9)
    db.session.flush()
    entries = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.object_type == "TransactionLine")).all()
    assert entries and "product_id" in entries[0].changes   # the line's creation is recorded …
    for entry in entries:                                    # … never the trigger's copies
        assert not set(COPIES) & set(entry.changes), entry.changes
