"""The archive in use, for the analysis benchmark (issue 6): a fresh, migrated database with
N customers (default 100,000) and T transactions (default 2,000,000) over about five years,
with everything the analyses, classifications, visit plans and reminders read.

    .venv/bin/python bench/generate_trades.py --db sqlite            # bench/out/bench_analysis.db
    .venv/bin/python bench/generate_trades.py --db postgres          # database bench_analysis
    .venv/bin/python bench/generate_trades.py --db postgres --check  # regenerate only if needed

The customers, contacts, users (``sales01`` … ``sales20`` and the Custodian ``bench``, password
``Bench@2026!``), the database creation, ``flask db upgrade`` and ``portal.seeds.initialise``
are those of ``bench/generate_customers.py`` (reused, not copied); on top of its card this adds:

* stage history (lifecycle_event: card created → current at the first trade → former with a
  reason), loyalty index (three quarters of the trading customers), referrals (8% referred by
  an earlier customer), credit reports with 3–12 months validity, route order (路序), contacts'
  birthdays;
* ~125 products in the code table's categories (5 variants of each demo product, a few
  without a category), with list and cost prices and the demo's replenishment cycles
  (``product.replenish_cycle_days``);
* T transactions of the current and former customers (more for better grades, a lognormal
  spread), dated from five years before the anchor date (today at generation) to it, each
  with 1–3 lines over the customer's own 2–6 products (so some buy one or two product
  lines), 3% returns as one line with a negative quantity and amount, 15% on credit;
  first_trade_on / last_trade_on / stage_since agree with them;
* after-sales records (service, complaints, returns; some open) and visits and calls by the
  owner over the last 18 months (more for better grades).

Loading: PostgreSQL ``COPY … FROM STDIN`` (psycopg 3), foreign-key triggers off for the load
session (``session_replication_role = replica``); SQLite one transaction of raw
``executemany`` with ``synchronous=OFF``. No trigger runs in the load (PostgreSQL's replica
role; SQLite's are dropped with the secondary indexes and created again after them), so the
lines' copy of their transaction's date and customer (migration 0011) is written here.
Secondary indexes are dropped before and rebuilt after, then ``VACUUM (ANALYZE)`` on PostgreSQL (autovacuum is off on the bench machine) and
``ANALYZE`` on SQLite. The data is a pure function of ``--seed`` and the anchor date.

:func:`ensure` (used by bench/analysis_speed.py) keeps the database for reuse and regenerates
it only when asked, when it is missing, or when its schema revision is behind the code's.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate_customers as gc  # noqa: E402  (sets PORTAL_INSTANCE_DIR, BENCH_OUT)

OUT = gc.OUT
SQLITE_PATH = OUT / "bench_analysis.db"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_analysis"
CUSTOMERS, TRANSACTIONS, SEED = 100_000, 2_000_000, 6
YEARS = 5
TABLES = ("customer", "contact", "product", "trade", "trade_line", "lifecycle_event", "after_sales", "visit")

CONTACT_COLUMNS = gc.CONTACT_COLUMNS + ("birth_date",)
CUSTOMER_EXTRA = ("loyalty_index", "referred_by_id", "credit_report_date", "credit_report_valid_months",
                  "route_order", "stop_reason")
CUSTOMER_COLUMNS = gc.CUSTOMER_COLUMNS + CUSTOMER_EXTRA
C = {name: i for i, name in enumerate(CUSTOMER_COLUMNS)}
PRODUCT_COLUMNS = ("id", "code", "name", "category_id", "unit", "list_price", "cost_price", "replenish_cycle_days",
                   "active", "description", "created_on", "changed_on")
TRADE_COLUMNS = ("id", "number", "customer_id", "trade_date", "amount", "salesperson_id", "payment_method",
                 "created_on", "changed_on", "created_by_id", "changed_by_id", "version")
# trade_date and customer_id are the transaction's (migration 0011): written here, as the load
# runs without triggers (PostgreSQL: replica role; SQLite: dropped until the load is done).
LINE_COLUMNS = ("id", "transaction_id", "product_id", "quantity", "unit_price", "amount", "trade_date", "customer_id")
EVENT_COLUMNS = ("id", "customer_id", "from_stage", "to_stage", "occurred_on", "reason", "user_id", "recorded_at")
AFTER_SALES_COLUMNS = ("id", "customer_id", "kind", "occurred_on", "product_id", "content", "return_quantity",
                       "return_amount", "product_rating", "service_rating", "status", "handled_by_id", "resolution",
                       "closed_on", "created_on", "changed_on", "created_by_id", "changed_by_id", "version")
VISIT_COLUMNS = ("id", "customer_id", "contact_id", "visitor_id", "visited_on", "method", "purpose", "content",
                 "created_on", "changed_on", "created_by_id", "changed_by_id", "version")

GRADE_WEIGHT = {"A": 8.0, "B": 4.0, "C": 2.0, "D": 1.0, None: 1.0}
VISITS_18_MONTHS = {"A": 14, "B": 7, "C": 3, "D": 1, None: 1}
PAYMENTS = ("transfer", "cash", "wechat", "alipay", "card", "cheque", "credit")
PAYMENT_WEIGHTS = (35, 10, 15, 10, 8, 7, 15)
PURPOSES = ("例行拜访", "新品介绍", "补货提醒", "报价", "回访", "收款")


def database_url(kind: str, pg_url: str = PG_URL) -> str:
    return f"sqlite:///{SQLITE_PATH}" if kind == "sqlite" else pg_url


def meta_path(kind: str) -> Path:
    return OUT / f"generate_analysis_{kind}.json"


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------

def money(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def stamp(day: dt.date, rng: random.Random) -> str:
    return f"{day.isoformat()} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.000000"


def sqlite_value(value):
    """What SQLAlchemy stores on SQLite for a Python value of the card (dates as ISO text,
    datetimes with microseconds, decimals as text that NUMERIC affinity makes a number)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


class Writer:
    """Rows of one table into the database: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, kind: str, raw, table: str, columns: tuple[str, ...], engine=None):
        self.kind, self.raw, self.table, self.columns = kind, raw, table, columns
        self.count = 0
        if kind == "postgres":
            # One COPY at a time on a connection: each table streams on its own, committed at close.
            self.raw = engine.raw_connection()
            self.cursor = self.raw.cursor()
            self.cursor.execute("SET session_replication_role = replica")   # no FK triggers while loading
            self._copy = self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
            self.copy = self._copy.__enter__()
        else:
            self.cursor = raw.cursor()
            self.sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            self.pending: list[tuple] = []

    def add(self, row: tuple) -> None:
        self.count += 1
        if self.kind == "postgres":
            self.copy.write_row(row)
        else:
            self.pending.append(row)
            if len(self.pending) >= 20_000:
                self.cursor.executemany(self.sql, self.pending)
                self.pending = []

    def close(self) -> None:
        if self.kind == "postgres":
            self._copy.__exit__(None, None, None)
            self.cursor.close()
            self.raw.commit()
            self.raw.close()
            return
        if self.pending:
            self.cursor.executemany(self.sql, self.pending)
            self.pending = []
        self.cursor.close()


# ---------------------------------------------------------------------------------------
# The archive
# ---------------------------------------------------------------------------------------

def products(categories: dict[str, int], rng: random.Random, created: str) -> list[tuple]:
    """~125 products: five variants of each demo product, a few without a category."""
    from portal.seeds import demo

    rows, pid = [], 0
    for code, name, category, unit, price, cycle, description in demo.PRODUCTS:
        base = round(float(price) * 100)
        for k in range(1, 6):
            pid += 1
            list_cents = int(base * (0.8 + 0.1 * k))
            cost = money(int(list_cents * rng.uniform(0.5, 0.8))) if rng.random() < 0.97 else None
            category_id = categories.get(category) if (k < 5 or pid % 3) else None
            rows.append((pid, f"{code}-{k}", f"{name} {'ⅠⅡⅢⅣⅤ'[k - 1]}型", category_id, unit, money(list_cents), cost,
                         cycle, True, description, created, created))
    return rows


class Trades:
    """Everything that hangs off the customers, customer by customer."""

    def __init__(self, seed: int, anchor: dt.date, products_: list[tuple], writers: dict[str, Writer]):
        from portal.seeds import demo

        self.rng = random.Random(seed * 7919 + 1)
        self.anchor, self.start = anchor, anchor - dt.timedelta(days=365 * YEARS)
        self.writers = writers
        self.by_category: dict = {}
        for p in products_:
            self.by_category.setdefault(p[3], []).append((p[0], int(p[5].replace(".", "")), p[4] in ("台",)))
        self.category_keys = list(self.by_category)
        self.trade_id = self.line_id = self.event_id = self.after_id = self.visit_id = 0
        self.stop_org, self.stop_person = demo.STOP_REASONS_ORG, demo.STOP_REASONS_PERSON
        self.complaints = [text.replace("{product}", "产品") for text, _ in demo.AFTER_SALES_TEXT["complaint"]]

    def day(self, a: dt.date, b: dt.date) -> dt.date:
        return a + dt.timedelta(days=self.rng.randint(0, max(0, (b - a).days)))

    def shape(self, row: list, weight_scale: float, contacts: list[tuple]) -> int:
        """Sets the customer's trade dates, stage, loyalty … in ``row``; returns its trade count."""
        rng, anchor = self.rng, self.anchor
        stage = row[C["stage"]]
        acquired = row[C["acquired_on"]]
        owner = row[C["owner_id"]]
        grade = row[C["value_grade"]]
        count = 0
        if stage != "potential":
            count = max(1, round(row.pop() * weight_scale))
            r = rng.random()
            if stage == "current":
                last = anchor - dt.timedelta(days=int(rng.expovariate(1 / 60)) if r < 0.85 else rng.randint(365, 900))
            else:
                last = self.day(self.start + dt.timedelta(days=60), anchor - dt.timedelta(days=90))
            last = max(last, self.start)
            first = self.day(max(min(acquired, last), self.start), last) if count > 1 else last
            if rng.random() < 0.5:   # many customers older than the five years traded from the start
                first = max(self.start, min(first, self.day(self.start, self.start + dt.timedelta(days=200))))
            if first > last:
                first = last
            acquired = min(acquired, first)
            row[C["acquired_on"]] = acquired
            row[C["first_trade_on"]], row[C["last_trade_on"]] = first, last
            if stage == "current":
                row[C["stage_since"]] = first
            else:
                since = min(anchor, last + dt.timedelta(days=rng.randint(30, 365)))
                row[C["stage_since"]] = since
                row[C["stop_reason"]] = rng.choice(self.stop_org if row[C["customer_type"]] == "org"
                                                   else self.stop_person)
            if rng.random() < 0.75:
                base = {"A": 75, "B": 62, "C": 50, "D": 40}.get(grade, 45)
                row[C["loyalty_index"]] = max(0, min(100, int(rng.gauss(base, 15))))
            self.trades(row, count, first, last, owner, contacts)
        else:
            row.pop()
        self.events(row, owner)
        return count

    def trades(self, row: list, count: int, first: dt.date, last: dt.date, owner: int, contacts: list[tuple]):
        rng, w = self.rng, self.writers
        cid = row[C["id"]]
        k = rng.choices((1, 2, 3, 4), (20, 40, 28, 12))[0]
        categories = rng.sample(self.category_keys, min(k, len(self.category_keys)))
        profile = []
        for category in categories:
            pool = self.by_category[category]
            profile.extend(rng.sample(pool, min(len(pool), rng.randint(1, 3))))
        factor = rng.uniform(0.85, 1.0)
        span = (last - first).days
        days = sorted(rng.randint(0, span) for _ in range(count - 2)) if count > 2 else []
        dates = [first] + [first + dt.timedelta(days=d) for d in days] + ([last] if count > 1 else [])
        trade_w, line_w = w["trade"], w["trade_line"]
        for day in dates:
            self.trade_id += 1
            tid = self.trade_id
            total = 0
            if rng.random() < 0.03:
                product, price, device = rng.choice(profile)
                unit = int(price * factor)
                quantity = -rng.randint(1, 2 if device else 5)
                amount = quantity * unit
                self.line_id += 1
                line_w.add((self.line_id, tid, product, f"{quantity}.000", money(unit), money(amount), day.isoformat(),
                            cid))
                total = amount
            else:
                for product, price, device in rng.sample(profile, min(len(profile), rng.choices((1, 2, 3), (55, 30, 15))[0])):
                    unit = int(price * factor)
                    quantity = rng.randint(1, 2) if device else rng.randint(1, 20)
                    amount = quantity * unit
                    self.line_id += 1
                    line_w.add((self.line_id, tid, product, f"{quantity}.000", money(unit), money(amount),
                                day.isoformat(), cid))
                    total += amount
            at = stamp(day, rng)
            trade_w.add((tid, f"JYB{tid:08d}", cid, day.isoformat(), money(total), owner,
                         rng.choices(PAYMENTS, PAYMENT_WEIGHTS)[0], at, at, owner, owner, 1))
        grade = row[C["value_grade"]]
        if rng.random() < 0.10:   # after-sales
            for _ in range(rng.randint(1, 4)):
                self.after_sales(cid, owner, profile, max(first, self.anchor - dt.timedelta(days=730)), last)
        if row[C["stage"]] == "current":
            visits = VISITS_18_MONTHS.get(grade, 1)
            n = max(0, int(rng.gauss(visits, visits / 3)))
            since = self.anchor - dt.timedelta(days=548)
            contact_ids = [c[0] for c in contacts]
            for _ in range(n):
                self.visit_id += 1
                day = self.day(since, self.anchor - dt.timedelta(days=1))
                at = stamp(day, rng)
                method = rng.choices(("visit", "phone", "email", "message"), (40, 48, 6, 6))[0]
                w["visit"].add((self.visit_id, cid, rng.choice(contact_ids) if contact_ids else None, owner,
                                day.isoformat(), method, rng.choice(PURPOSES), "例行联系，了解使用情况", at, at, owner,
                                owner, 1))

    def after_sales(self, cid: int, owner: int, profile: list, since: dt.date, until: dt.date) -> None:
        rng = self.rng
        self.after_id += 1
        kind = rng.choices(("service", "complaint", "return"), (40, 40, 20))[0]
        day = self.day(min(since, until), until)
        product = rng.choice(profile)
        closed = rng.random() < 0.85
        at = stamp(day, rng)
        self.writers["after_sales"].add((
            self.after_id, cid, kind, day.isoformat(), product[0],
            rng.choice(self.complaints) if kind == "complaint" else "售后处理",
            "1.000" if kind == "return" else None, money(int(product[1] * 0.9)) if kind == "return" else None,
            str(rng.randint(1, 5)), str(rng.randint(1, 5)), "closed" if closed else "open", owner,
            "已处理" if closed else None, min(self.anchor, day + dt.timedelta(days=rng.randint(0, 20))).isoformat()
            if closed else None, at, at, owner, owner, 1))

    def events(self, row: list, owner: int) -> None:
        rng, w = self.rng, self.writers["lifecycle_event"]
        cid, stage = row[C["id"]], row[C["stage"]]
        acquired = row[C["acquired_on"]]
        steps = [(None, "potential", acquired, "Card created")]
        if stage != "potential":
            steps.append(("potential", "current", row[C["first_trade_on"]], "First transaction"))
        if stage == "former":
            steps.append(("current", "former", row[C["stage_since"]], row[C["stop_reason"]]))
        for before, after, day, reason in steps:
            self.event_id += 1
            w.add((self.event_id, cid, before, after, day.isoformat(), reason, owner, stamp(day, rng)))


def customers(seed: int, refs: dict, n: int, anchor: dt.date) -> tuple[list[list], list[tuple]]:
    """The cards of generate_customers.Archive, with this benchmark's extra columns and a
    trade weight appended (popped by Trades.shape)."""
    archive = gc.Archive(seed, refs)
    rng = random.Random(seed * 31 + 7)
    rows, contacts = [], []
    for chunk, people in archive.chunks(n):
        for record in chunk:
            row = list(record) + [None] * len(CUSTOMER_EXTRA)
            i = row[C["id"]]
            if i > 10 and rng.random() < 0.08:
                row[C["referred_by_id"]] = rng.randint(1, i - 1)
            if row[C["credit_limit"]] is not None and rng.random() < 0.6:
                row[C["credit_report_date"]] = anchor - dt.timedelta(days=rng.randint(0, 450))
                row[C["credit_report_valid_months"]] = rng.choice((3, 6, 12))
            if row[C["route_id"]] is not None:
                row[C["route_order"]] = rng.randint(1, 500)
            row.append(GRADE_WEIGHT.get(row[C["value_grade"]], 1.0) * rng.lognormvariate(0, 0.6)
                       if row[C["stage"]] != "potential" else 0.0)
            rows.append(row)
        for person in people:
            birth = (dt.date(rng.randint(1960, 2000), 1, 1) + dt.timedelta(days=rng.randint(0, 364))
                     if rng.random() < 0.6 else None)
            contacts.append(person + (birth,))
    return rows, contacts


# ---------------------------------------------------------------------------------------
# Database steps
# ---------------------------------------------------------------------------------------

def secondary_indexes(conn, kind: str) -> list[tuple[str, str]]:
    import sqlalchemy as sa

    names = ", ".join(f"'{t}'" for t in TABLES)
    if kind == "sqlite":
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({names}) "
            "AND sql IS NOT NULL ORDER BY name"))]
    return [tuple(r) for r in conn.execute(sa.text(
        f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        f"AND tablename IN ({names}) AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"))]


def sqlite_triggers(conn) -> list[tuple[str, str]]:
    """SQLite: the triggers on the loaded tables (name, statement). The load drops them (an
    AFTER INSERT trigger per line would double the load) and creates them again after."""
    import sqlalchemy as sa

    names = ", ".join(f"'{t}'" for t in TABLES)
    return [tuple(r) for r in conn.execute(sa.text(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names}) ORDER BY name"))]


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(gc.ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(url: str) -> None:
    """``flask db upgrade`` on the kept database, then fresh planner statistics (and on
    PostgreSQL a VACUUM: autovacuum is off on the bench machine, and index-only scans need
    the visibility map of the rows a migration rewrote)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade as migrate

    from portal import create_app
    from portal.extensions import db

    app = create_app(gc.bench_config(url))
    with app.app_context():
        migrate()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM (ANALYZE)" if db.engine.dialect.name == "postgresql" else "ANALYZE"))


def current_revision(url: str) -> str | None:
    """The database's alembic revision, or None when it (or its schema) is missing."""
    import sqlalchemy as sa

    if url.startswith("sqlite") and not SQLITE_PATH.exists():
        return None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def generate(kind: str, url: str, n: int = CUSTOMERS, transactions: int = TRANSACTIONS, seed: int = SEED) -> dict:
    import sqlalchemy as sa

    from portal.models import ProductCategory

    anchor = dt.date.today()
    timings: dict[str, float] = {}
    total = started = time.perf_counter()
    saved_path = gc.SQLITE_PATH
    gc.SQLITE_PATH = SQLITE_PATH      # gc.recreate removes this file
    try:
        gc.recreate(kind, url)
    finally:
        gc.SQLITE_PATH = saved_path
    refs = gc.migrate_and_initialise(url)
    timings["create, migrate, initialise, users"] = time.perf_counter() - started

    started = time.perf_counter()
    rows, contacts = customers(seed, refs, n, anchor)
    weights = sum(r[-1] for r in rows)
    scale = transactions / weights if weights else 0
    timings["customers generated"] = time.perf_counter() - started

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        indexes = secondary_indexes(conn, kind)
        for name, _ in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        triggers = sqlite_triggers(conn) if kind == "sqlite" else []
        for name, _ in triggers:
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        categories = dict(conn.execute(sa.select(ProductCategory.code, ProductCategory.id)).all())
    rng = random.Random(seed)
    product_rows = products(categories, rng, stamp(anchor - dt.timedelta(days=365 * YEARS + 30), rng))

    started = time.perf_counter()
    raw = engine.raw_connection() if kind == "sqlite" else None
    try:
        if raw is not None:
            cursor = raw.cursor()
            for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-1000000", "foreign_keys=OFF"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()
        open_ = lambda table, columns: Writer(kind, raw, table, columns, engine)  # noqa: E731
        writer = open_("product", PRODUCT_COLUMNS)
        for p in product_rows:
            writer.add(p)
        writer.close()
        # The trades first (they set the cards' dates), the cards after.
        writers = {"trade": open_("trade", TRADE_COLUMNS), "trade_line": open_("trade_line", LINE_COLUMNS),
                   "lifecycle_event": open_("lifecycle_event", EVENT_COLUMNS),
                   "after_sales": open_("after_sales", AFTER_SALES_COLUMNS), "visit": open_("visit", VISIT_COLUMNS)}
        trades = Trades(seed, anchor, product_rows, writers)
        contacts_of: dict[int, list[tuple]] = {}
        for person in contacts:
            contacts_of.setdefault(person[1], []).append(person)
        for index, row in enumerate(rows):
            trades.shape(row, scale, contacts_of.get(row[C["id"]], ()))
            if index % 10_000 == 9_999:
                print(f"\r  {index + 1:,} customers, {trades.trade_id:,} transactions, {trades.line_id:,} lines "
                      f"({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        counts = {}
        for name, w in writers.items():
            w.close()
            counts[name] = w.count
        convert = sqlite_value if kind == "sqlite" else (lambda v: v)
        writer = open_("customer", CUSTOMER_COLUMNS)
        for row in rows:
            writer.add(tuple(convert(v) for v in row))
        writer.close()
        writer = open_("contact", CONTACT_COLUMNS)
        for person in contacts:
            writer.add(tuple(convert(v) for v in person))
        writer.close()
        counts.update(customer=len(rows), contact=len(contacts), product=len(product_rows))
        if raw is not None:
            raw.commit()
    finally:
        if raw is not None:
            raw.close()
    timings["generate and insert rows"] = time.perf_counter() - started

    started = time.perf_counter()
    from portal.models import NumberSequence

    with engine.begin() as conn:
        if kind == "postgres":
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for table in TABLES:
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        else:
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        for _, statement in indexes + triggers:
            conn.exec_driver_sql(statement)
        conn.execute(sa.delete(NumberSequence.__table__).where(NumberSequence.prefix == gc.NUMBER_PREFIX))
        conn.execute(sa.insert(NumberSequence.__table__).values(prefix=gc.NUMBER_PREFIX, last_value=n))
    timings["rebuild indexes"] = time.perf_counter() - started

    started = time.perf_counter()
    if kind == "postgres":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    engine.dispose()
    timings["total"] = time.perf_counter() - total
    summary = {"db": kind, "url": gc.sa_safe(url), "seed": seed, "anchor": anchor.isoformat(),
               "revision": head_revision(), "counts": counts, "indexes rebuilt": len(indexes),
               "seconds": {k: round(v, 1) for k, v in timings.items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    meta_path(kind).write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary


def ensure(kind: str, force: bool = False, pg_url: str = PG_URL, **options) -> dict:
    """The benchmark database of ``kind``: kept when it exists at the code's schema revision
    (and force is off), generated otherwise. Returns its summary (with ``url``)."""
    url = database_url(kind, pg_url)
    found = current_revision(url)
    meta = json.loads(meta_path(kind).read_text()) if meta_path(kind).exists() else None
    if not force and found == head_revision() and meta is not None:
        return {**meta, "url": url, "reused": True}
    if not force and found is not None and meta is not None:
        # Behind the code's schema: migrate it, as a deployment's archive is migrated (the
        # migrations keep the data), instead of generating 2,000,000 transactions again.
        print(f"migrating {kind} from {found} to {head_revision()} …", file=sys.stderr)
        upgrade(url)
        return {**meta, "url": url, "reused": True, "migrated_from": found}
    reason = "asked" if force else ("missing" if found is None else f"schema {found} behind {head_revision()}"
                                    if found != head_revision() else "no summary")
    print(f"generating {kind} ({reason}) …", file=sys.stderr)
    return {**generate(kind, url, **options), "url": url, "reused": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--transactions", type=int, default=TRANSACTIONS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--check", action="store_true",
                        help="keep the database when it is at the code's schema revision")
    args = parser.parse_args()
    summary = ensure(args.db, force=not args.check, pg_url=args.pg_url, n=args.customers,
                     transactions=args.transactions, seed=args.seed)
    print(json.dumps({k: v for k, v in summary.items() if k != "url"}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
