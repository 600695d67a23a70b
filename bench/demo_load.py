"""Loading the demo archive and serving the customer list and card on it.

    .venv/bin/python bench/demo_load.py [--db sqlite|postgres] [--rounds 30]

Floor (stated goal): the demo archive loads in under 30 s; the generated Flask-AppBuilder
customer list (25 rows, default sort) and a customer card answer with a p95 under 250 ms on
this machine. Prints medians and p95 and appends nothing: copy the figures into RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_"))


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal.extensions import db
    from portal.models import Customer
    from portal.seeds import demo, initialise
    from tests.conftest import make_app

    if args.db == "postgres":
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS portal_bench WITH (FORCE)"))
            conn.execute(sa.text("CREATE DATABASE portal_bench"))
        url = "postgresql+psycopg://postgres@127.0.0.1/portal_bench"
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"

    app = make_app(url)
    with app.app_context():
        upgrade()
        initialise(app.appbuilder, db.session)
        started = time.perf_counter()
        summary = demo.load_demo(db.session, app.appbuilder)
        db.session.commit()
        load_seconds = time.perf_counter() - started
        ids = db.session.scalars(sa.select(Customer.id).order_by(Customer.id)).all()

    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": demo.DEMO_PASSWORD})
    timings: dict[str, list[float]] = {"customer list (25 rows)": [], "customer card": [], "list filtered by mobile": []}
    for i in range(args.rounds):
        for name, url_ in (("customer list (25 rows)", "/customerview/list/"),
                           ("customer card", f"/customerview/show/{ids[i * 7 % len(ids)]}"),
                           ("list filtered by mobile", "/customerview/list/?_flt_2_mobile=138")):
            t = time.perf_counter()
            response = client.get(url_)
            timings[name].append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url_, response.status_code)

    print(f"database: {args.db}; demo archive: {summary}")
    print(f"demo load: {load_seconds:.1f} s (floor 30 s)")
    for name, values in timings.items():
        print(f"{name}: p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 0.95):.0f} ms "
              f"over {len(values)} requests (floor p95 250 ms)")


if __name__ == "__main__":
    main()
