"""RFM reproduces the published reference of the R package ``rfm`` 0.3.0
(/work/shared/reference/rfm/): orders.csv loaded through the portal's own import (customers,
then their transactions matched by name) into a fresh database, RFM run for 2006-12-31 with
5 bins, and every published figure compared."""
import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.excel import importer, steps
from portal.excel.importer import Who
from portal.extensions import db
from portal.models import ClassificationResult, Customer, Transaction
from portal.services.classification import reports, runs

REFERENCE = Path("/work/shared/reference/rfm/orders.csv")

CUSTOMERS = {  # name: (recency days, orders, amount, score, segment)
    "Abbey O'Reilly": (205, 6, 472, 343, "potential_loyalist"),
    "Add Senger": (140, 3, 340, 412, "new"),
    "Aden Lesch": (194, 4, 405, 323, "loyal"),
    "Aden Murphy": (98, 7, 596, 544, "potential_loyalist"),
    "Admiral Senger": (132, 5, 448, 433, "potential_loyalist"),
}
SEGMENTS = {  # segment: (customers, orders, revenue)
    "about_to_sleep": (102, 283, 23449), "at_risk": (28, 216, 22227), "cant_lose": (47, 274, 32446),
    "champions": (35, 316, 31646), "lost": (148, 393, 35324), "loyal": (170, 799, 76562),
    "need_attention": (10, 57, 4562), "new": (104, 329, 28837), "potential_loyalist": (342, 2211, 204856),
    "promising": (9, 28, 4249),
}



@pytest.fixture(autouse=True)
def _reference_present():
    """The published data must be there: a missing file fails, never skips (the test is the
    issue's acceptance of the RFM method)."""
    assert REFERENCE.exists(), f"{REFERENCE} is missing: the RFM reference cannot be checked"


def import_csv(path: Path, resource: str, **options):
    """Upload, prepare (dry run) and commit a CSV as the import page and command do."""
    who = Who()
    batch = importer.upload(db.session, path, path.name, resource, who)
    db.session.commit()
    steps.run("prepare", batch, who, background=False, options={**(batch.options or {}), **options})
    assert batch.counts["invalid"] == 0 and batch.counts["duplicate"] == 0, batch.counts
    steps.run("commit", batch, who, background=False)
    return batch


def test_rfm_reproduces_the_published_reference(app, tmp_path):
    with REFERENCE.open(encoding="utf-8") as handle:
        orders = list(csv.DictReader(handle))
    people = {}
    for order in orders:
        people.setdefault(order["customer_id"], order["email"])
    # The customers first: one row per distinct customer, the columns the importer maps.
    customers_csv = tmp_path / "customers.csv"
    with customers_csv.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["客户名称", "客户类型", "电子邮箱"])
        for name, email in people.items():
            out.writerow([name, "个人", email])
    batch = import_csv(customers_csv, "customer", mode="create", match=[])
    assert batch.counts["created"] == 995
    # Then the orders, each matched to its customer by name.
    orders_csv = tmp_path / "orders.csv"
    with orders_csv.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["客户", "交易日期", "金额"])
        for order in orders:
            out.writerow([order["customer_id"], order["order_date"], order["revenue"]])
    batch = import_csv(orders_csv, "transaction", mode="create", match=[])
    assert batch.counts["created"] == 4906
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transaction)) == 4906

    [run] = runs.run(db.session, "rfm", on="2006-12-31", parameters={"bins": 5})
    db.session.commit()
    assert run.customer_count == 995 and run.as_of == dt.date(2006, 12, 31)

    found = {name: (r.recency, r.frequency, int(r.value), int(r.score), r.klass) for name, r in db.session.execute(
        sa.select(Customer.name, ClassificationResult).join(ClassificationResult,
                                                            ClassificationResult.customer_id == Customer.id)
        .where(ClassificationResult.run_id == run.id, Customer.name.in_(list(CUSTOMERS))))}
    assert found == CUSTOMERS

    segments = defaultdict(lambda: [0, 0, Decimal(0)])
    for klass, frequency, value in db.session.execute(
            sa.select(ClassificationResult.klass, ClassificationResult.frequency, ClassificationResult.value)
            .where(ClassificationResult.run_id == run.id)):
        segments[klass][0] += 1
        segments[klass][1] += frequency
        segments[klass][2] += value
    assert {k: (n, o, int(v)) for k, (n, o, v) in segments.items()} == SEGMENTS
    # The page's summary (one GROUP BY) says the same.
    summary = {row["klass"]: (row["customers"], row["orders"], int(row["value"]))
               for row in reports.summary(db.session, run) if row["customers"]}
    assert summary == SEGMENTS
