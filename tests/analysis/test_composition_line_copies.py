"""Composition by product and category read the lines' own copy of their transaction's date
and customer (migration 0011): the hand-computed figures of tests/analysis/data.py hold for a
salesperson, and follow a transaction whose date or customer changes."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Transaction
from tests.analysis import data
from tests.analysis.test_composition import grid_ids, run
from tests.conftest import login


@pytest.fixture
def archive(app):
    return data.build(app)


def figures(result, key):
    return [(r[key], r["sales"], r.get("quantity"), r["buyers"]) for r in result.rows]


def test_a_salesperson_sees_the_products_and_categories_of_their_customers_only(archive):
    # sales has C1 (P1 2×100 − 1×100, P2 1×50) and C2 (P2 4×50); C4's printer is sales2's.
    assert figures(run("product", user=archive.sales), "code") == [
        ("T-P2", Decimal("250.00"), Decimal("5.000"), 2), ("T-P1", Decimal("100.00"), Decimal("1.000"), 1)]
    assert figures(run("category", user=archive.sales), "category") == [
        ("纸张", Decimal("250.00"), Decimal("5.000"), 2), ("墨水", Decimal("100.00"), Decimal("1.000"), 1)]
    assert figures(run("product", user=archive.sales2), "code") == [("T-P3", Decimal("300.00"), Decimal("1.000"), 1)]


def test_a_transaction_moved_into_the_period_and_to_another_customer_moves_its_lines(app, archive):
    trade = db.session.scalar(sa.select(Transaction).where(Transaction.customer_id == archive.c4.id,
                                                           Transaction.trade_date == data.D(2024, 11, 30)))
    trade.trade_date = data.D(2024, 12, 2)       # C4's ink, the day before the period, now inside it
    db.session.commit()
    p1 = {r["code"]: r for r in run("product").rows}["T-P1"]
    assert (p1["sales"], p1["quantity"], p1["buyers"]) == (Decimal("200.00"), Decimal("2.000"), 2)
    assert {r["category"]: r["sales"] for r in run("category").rows}["墨水"] == Decimal("200.00")
    assert figures(run("product", user=archive.sales), "code")[1] == ("T-P1", Decimal("100.00"), Decimal("1.000"), 1)
    trade.customer = archive.c2                  # and now C2's (sales'): C1 and C2 bought ink
    db.session.commit()
    assert figures(run("product", user=archive.sales), "code") == [
        ("T-P2", Decimal("250.00"), Decimal("5.000"), 2), ("T-P1", Decimal("200.00"), Decimal("2.000"), 2)]
    client = login(app.test_client(), "custodian")
    product = client.get("/analysis/composition/data?from=2024-12-01&to=2025-01-31&by=product").json
    ink = product["drill"][[r["code"] for r in product["rows"]].index("T-P1")]
    assert {r["name"] for r in grid_ids(client, ink["*"])["rows"]} == {"一号公司", "二号公司"}
