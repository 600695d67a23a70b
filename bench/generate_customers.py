"""A large customer archive for the grid benchmarks (issue 4): a fresh, migrated database
with N realistic customers and about one contact for every two.

    .venv/bin/python bench/generate_customers.py --db sqlite   --customers 1000000
    .venv/bin/python bench/generate_customers.py --db postgres --customers 1000000

SQLite: ``bench/out/bench_grid.db`` (bench/out/ is git-ignored; ``BENCH_OUT`` names another
folder). PostgreSQL: the database ``bench_grid`` on 127.0.0.1:5432 (user postgres; ``--pg-url``
names another server). Both are dropped and created again, migrated with ``flask db upgrade``
and initialised with ``portal.seeds.initialise`` (roles and code tables), exactly as
tests/conftest.py builds its template. Then 20 users in the Salesperson role (``sales01`` …
``sales20``) and one Custodian ``bench`` are added — password :data:`BENCH_PASSWORD` — and the
rows are bulk-loaded:

* the data is a pure function of ``--seed``, so both databases hold the same archive;
* names are Chinese person names (surname + given name) and company names (city + brand +
  trade word + legal suffix), with ``name_pinyin``/``name_initials`` from
  ``portal.services.pinyin.keys`` — computed once per distinct name;
* numbers are ``KH2026000001`` …, and the number counter continues after the last one;
* SQLite: SQLAlchemy Core ``executemany`` in chunks of 10,000 with ``synchronous=OFF``;
  PostgreSQL: ``COPY … FROM STDIN`` through psycopg 3's ``cursor.copy``;
* the secondary indexes of ``customer`` and ``contact`` are dropped before the load and
  rebuilt from their own definitions after it (a sorted build is several times faster than
  maintaining 25 B-trees row by row), then ``ANALYZE``.

Prints the row counts and the time of each step; the figures go to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_"))

SQLITE_PATH = OUT / "bench_grid.db"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_grid"
BENCH_PASSWORD = "Bench@2026!"
BENCH_USER = "bench"            # Custodian: sees every customer and every field
N_SALESPEOPLE = 20
CHUNK = 10_000
TODAY = dt.date(2026, 12, 1)
NUMBER_PREFIX = "KH2026"


def database_url(kind: str, pg_url: str = PG_URL) -> str:
    return f"sqlite:///{SQLITE_PATH}" if kind == "sqlite" else pg_url


def bench_config(url: str) -> dict:
    """The settings the benchmarks run the portal with (the defaults but the database; CSRF
    off so the Flask test client can post the login form)."""
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-grid", "WTF_CSRF_ENABLED": False,
            "AUTH_RATE_LIMITED": False}


# ---------------------------------------------------------------------------------------
# The archive, as plain tuples
# ---------------------------------------------------------------------------------------

MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊峰建国志海东文博轩航德永振立新豪佑鸣卫学晨阳旭龙"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂丹萍婷雪慧晶颖琳倩欣怡萱佳琪梦洁晓燕春梅红美思淑珍雅悦诗涵馨"
ORG_SUFFIXES = (("有限公司", 62), ("股份有限公司", 8), ("有限责任公司", 10), ("商行", 8), ("经营部", 6), ("厂", 6))
POSITIONS = ("总经理", "副总经理", "采购经理", "采购专员", "行政主管", "办公室主任", "财务经理", "IT主管", "店长", "老板")
DEPARTMENTS = ("总经办", "采购部", "行政部", "财务部", "信息部", "门店")
DEAL_ROLES = ("decision_maker", "influencer", "user", "purchaser", "other")
EMAIL_BOXES = ("info", "sales", "office", "purchase", "admin", "service")

CUSTOMER_COLUMNS = (
    "id", "number", "name", "customer_type", "category", "gender", "birth_date", "province", "city", "district",
    "street", "postcode", "phone", "mobile", "email", "credit_limit", "credit_rating", "payment_terms",
    "industry_id", "company_size", "employee_count", "region_id", "route_id", "value_grade", "is_core",
    "owner_id", "source_id", "acquired_on", "stage", "stage_since", "first_trade_on", "last_trade_on",
    "name_pinyin", "name_initials", "created_on", "changed_on", "created_by_id", "changed_by_id", "version",
)
CONTACT_COLUMNS = (
    "id", "customer_id", "name", "gender", "position", "department", "deal_role", "is_primary", "phone", "mobile",
    "email", "name_pinyin", "name_initials", "created_on", "changed_on", "created_by_id", "changed_by_id", "version",
)


class Archive:
    """Customers and contacts as tuples in the column order above, chunk by chunk."""

    def __init__(self, seed: int, refs: dict):
        from portal.seeds import demo
        from portal.services.pinyin import keys

        self.rng = random.Random(seed)
        self.keys = keys
        self.pinyin: dict[str, tuple[str | None, str | None]] = {}
        self.refs = refs
        self.demo = demo
        self.cities = demo.CITIES
        self.city_weights = [c[5] for c in demo.CITIES]
        self.surnames = [s[0] for s in demo.SURNAMES]
        self.surname_weights = [s[2] for s in demo.SURNAMES]
        self.industry_codes = [code for code in demo.INDUSTRIES if demo.INDUSTRIES[code][1]]
        self.industry_weights = [demo.INDUSTRIES[c][0] for c in self.industry_codes]
        self.mobiles: set[str] = set()
        self.next_contact = 1

    def keys_of(self, name: str):
        found = self.pinyin.get(name)
        if found is None:
            found = self.pinyin[name] = self.keys(name)
        return found

    def person_name(self, gender: str) -> str:
        rng = self.rng
        surname = rng.choices(self.surnames, self.surname_weights)[0]
        if rng.random() < 0.35:
            pool = self.demo.MALE_GIVEN if gender == "M" else self.demo.FEMALE_GIVEN
            return surname + rng.choice(pool)[0]
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        if rng.random() < 0.25:
            return surname + rng.choice(chars)
        return surname + rng.choice(chars) + rng.choice(chars)

    def mobile(self) -> str:
        rng = self.rng
        while True:
            number = f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def landline(self, city) -> str:
        area, length = city[3], city[4]
        return f"0{area}-{self.rng.choice('5678')}{self.rng.randint(0, 10 ** (length - 1) - 1):0{length - 1}d}"

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, max(0, (end - start).days)))

    def customer(self, i: int) -> tuple[tuple, list[tuple]]:
        rng, refs, demo = self.rng, self.refs, self.demo
        city = rng.choices(self.cities, self.city_weights)[0]
        district = rng.choice(city[6])
        province = city[0]
        is_org = rng.random() < 0.6
        stage = rng.choices(("potential", "current", "former"), (25, 64, 11))[0]
        acquired = self.date_between(dt.date(2012, 1, 1), TODAY - dt.timedelta(days=3))
        gender = birth = category = industry_id = size = employees = None
        city_short = city[1].removesuffix("市")
        if is_org:
            industry = rng.choices(self.industry_codes, self.industry_weights)[0]
            _, words, cat_weights = demo.INDUSTRIES[industry]
            word, word_py = rng.choice(words)
            brand, brand_py = rng.choice(demo.BRANDS)
            suffix = rng.choices([s[0] for s in ORG_SUFFIXES], [s[1] for s in ORG_SUFFIXES])[0]
            if suffix in ("商行", "经营部", "厂"):
                district_short = district[0][:-1] if len(district[0]) > 2 else district[0]
                name = f"{city_short}{district_short}{brand}{word}{suffix}"
            else:
                name = f"{city_short}{brand}{word}{suffix}"
            category = rng.choices(demo.CATEGORIES, cat_weights)[0]
            industry_id = refs["industry"].get(industry)
            size = rng.choices(("micro", "small", "medium", "large"), (22, 45, 25, 8))[0]
            low, high = demo.SIZE_RANGES[size]
            employees = rng.randint(low, high)
            phone = self.landline(city) if rng.random() < 0.95 else None
            mobile = self.mobile() if rng.random() < 0.3 else None
            email = (f"{rng.choice(EMAIL_BOXES)}@{city[2]}{brand_py}{word_py}.example.com"
                     if rng.random() < 0.7 else None)
            credit = Decimal(rng.choice((5, 10, 20, 30, 50, 80, 100, 200, 300, 500)) * 1000) \
                if rng.random() < 0.7 else None
        else:
            gender = "M" if rng.random() < 0.52 else "F"
            name = self.person_name(gender)
            category = "end_user"
            birth = self.date_between(dt.date(1955, 1, 1), dt.date(2004, 12, 31))
            phone = self.landline(city) if rng.random() < 0.25 else None
            mobile = self.mobile()
            email = None
            credit = Decimal(rng.choice((1, 2, 3, 5, 8, 10, 20)) * 1000) if rng.random() < 0.2 else None
        full, initials = self.keys_of(name)
        if not is_org and rng.random() < 0.5 and full:
            email = f"{full}{birth.year % 100:02d}@{rng.choice(('example.com', 'mail.example.com', 'example.net'))}"
        owner = rng.choice(refs["salespeople"])
        if stage == "potential":
            grade = rng.choice(("C", "D", None))
            first = last = None
            stage_since = acquired
        else:
            grade = rng.choices("ABCD", (10, 25, 35, 30))[0]
            first = self.date_between(acquired, TODAY - dt.timedelta(days=2))
            last = self.date_between(first, TODAY - dt.timedelta(days=1))
            stage_since = first if stage == "current" else self.date_between(last, TODAY)
        created = dt.datetime.combine(acquired, dt.time(rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59)))
        changed = created + dt.timedelta(days=rng.randint(0, max(0, (TODAY - acquired).days)))
        route = refs["route"].get(demo.ROUTE_OF_PROVINCE.get(province)) if rng.random() < 0.7 else None
        street = f"{rng.choice(district[3])}{rng.randint(1, 899)}号"
        row = (
            i, f"{NUMBER_PREFIX}{i:06d}", name, "org" if is_org else "person", category, gender, birth, province,
            city[1], district[0], street, district[1], phone, mobile, email, credit,
            rng.choice(("AAA", "AA", "A", "B", "C", None)),
            rng.choice(("prepaid", "cash", "cod", "net30", "net60", "net90")) if is_org else "cash",
            industry_id, size, employees, refs["region"].get(demo.REGION_OF_PROVINCE.get(province)), route, grade,
            grade == "A" and rng.random() < 0.5, owner, rng.choice(refs["source"]), acquired, stage, stage_since,
            first, last, full, initials, created, changed, owner, owner, 1,
        )
        contacts = []
        n_contacts = rng.choices((0, 1, 2), (30, 50, 20))[0] if is_org else (1 if rng.random() < 0.05 else 0)
        for k in range(n_contacts):
            c_gender = "M" if rng.random() < 0.55 else "F"
            c_name = self.person_name(c_gender)
            c_full, c_initials = self.keys_of(c_name)
            c_email = f"{c_full}@{email.split('@', 1)[1]}" if email and c_full else None
            contacts.append((
                self.next_contact, i, c_name, c_gender, rng.choice(POSITIONS), rng.choice(DEPARTMENTS),
                rng.choice(DEAL_ROLES), k == 0, self.landline(city) if rng.random() < 0.4 else None, self.mobile(),
                c_email, c_full, c_initials, created, changed, owner, owner, 1,
            ))
            self.next_contact += 1
        return row, contacts

    def chunks(self, n: int, size: int = CHUNK):
        for start in range(1, n + 1, size):
            customers, contacts = [], []
            for i in range(start, min(n, start + size - 1) + 1):
                row, people = self.customer(i)
                customers.append(row)
                contacts.extend(people)
            yield customers, contacts


# ---------------------------------------------------------------------------------------
# Database steps
# ---------------------------------------------------------------------------------------

def recreate(kind: str, url: str) -> None:
    import sqlalchemy as sa

    if kind == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def migrate_and_initialise(url: str) -> dict:
    """flask db upgrade + portal.seeds.initialise, the users; the ids the rows refer to."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.models import Industry, Region, Route, Source
    from portal.seeds import demo, initialise

    app = create_app(bench_config(url))
    with app.app_context():
        upgrade()
        initialise(app.appbuilder, db.session)
        sm = app.appbuilder.sm
        rng = random.Random(2026)
        salespeople = []
        for n in range(1, N_SALESPEOPLE + 1):
            surname = rng.choice(demo.SURNAMES)[0]
            given = rng.choice(demo.MALE_GIVEN + demo.FEMALE_GIVEN)[0]
            user = sm.add_user(f"sales{n:02d}", given, surname, f"sales{n:02d}@bench.example.com",
                               sm.find_role("Salesperson"), BENCH_PASSWORD)
            salespeople.append(user.id)
        sm.add_user(BENCH_USER, "测试", "基准", "bench@bench.example.com", sm.find_role("Custodian"), BENCH_PASSWORD)
        refs = {
            "salespeople": salespeople,
            "region": dict(db.session.execute(sa.select(Region.code, Region.id)).all()),
            "route": dict(db.session.execute(sa.select(Route.code, Route.id)).all()),
            "industry": dict(db.session.execute(sa.select(Industry.code, Industry.id)).all()),
            "source": list(db.session.scalars(sa.select(Source.id))),
        }
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return refs


def secondary_indexes(conn, kind: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the customer and contact indexes that are not
    constraints (primary keys and unique constraints stay in place)."""
    import sqlalchemy as sa

    if kind == "sqlite":
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('customer', 'contact') "
            "AND sql IS NOT NULL ORDER BY name"))]
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('customer', 'contact') AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint) ORDER BY indexname"))]


def load(kind: str, url: str, archive: Archive, n: int) -> dict:
    import sqlalchemy as sa

    from portal.models import Contact, Customer, NumberSequence

    engine = sa.create_engine(url)
    timings: dict[str, float] = {}
    counts = {"customers": 0, "contacts": 0}
    with engine.begin() as conn:
        indexes = secondary_indexes(conn, kind)
        for name, _ in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
    started = time.perf_counter()
    if kind == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA journal_mode=MEMORY")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            customer_insert, contact_insert = sa.insert(Customer.__table__), sa.insert(Contact.__table__)
            for customers, contacts in archive.chunks(n):
                conn.execute(customer_insert, [dict(zip(CUSTOMER_COLUMNS, r)) for r in customers])
                if contacts:
                    conn.execute(contact_insert, [dict(zip(CONTACT_COLUMNS, r)) for r in contacts])
                conn.commit()
                counts["customers"] += len(customers)
                counts["contacts"] += len(contacts)
                _progress(counts, started)
    else:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            customer_copy = f"COPY customer ({', '.join(CUSTOMER_COLUMNS)}) FROM STDIN"
            contact_copy = f"COPY contact ({', '.join(CONTACT_COLUMNS)}) FROM STDIN"
            pending_contacts: list[tuple] = []
            with cursor.copy(customer_copy) as copy:
                for customers, contacts in archive.chunks(n):
                    for row in customers:
                        copy.write_row(row)
                    pending_contacts.extend(contacts)
                    counts["customers"] += len(customers)
                    counts["contacts"] += len(contacts)
                    _progress(counts, started)
            with cursor.copy(contact_copy) as copy:
                for row in pending_contacts:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    print(file=sys.stderr)
    timings["insert rows"] = time.perf_counter() - started

    started = time.perf_counter()
    with engine.begin() as conn:
        if kind == "postgres":
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for table in ("customer", "contact"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
        else:
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        for _, statement in indexes:
            conn.execute(sa.text(statement))
        conn.execute(sa.delete(NumberSequence.__table__).where(NumberSequence.prefix == NUMBER_PREFIX))
        conn.execute(sa.insert(NumberSequence.__table__).values(prefix=NUMBER_PREFIX, last_value=n))
    timings["rebuild indexes"] = time.perf_counter() - started

    started = time.perf_counter()
    if kind == "postgres":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) customer")
            conn.exec_driver_sql("VACUUM (ANALYZE) contact")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    timings["analyze"] = time.perf_counter() - started
    with engine.connect() as conn:
        counts["customers"] = conn.scalar(sa.text("SELECT count(*) FROM customer"))
        counts["contacts"] = conn.scalar(sa.text("SELECT count(*) FROM contact"))
        counts["indexes rebuilt"] = len(indexes)
    engine.dispose()
    return {"counts": counts, "timings": timings}


def _progress(counts: dict, started: float) -> None:
    if counts["customers"] % 100_000 == 0:
        rate = counts["customers"] / (time.perf_counter() - started)
        print(f"\r  {counts['customers']:,} customers, {counts['contacts']:,} contacts ({rate:,.0f}/s)",
              end="", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()

    url = database_url(args.db, args.pg_url)
    total = time.perf_counter()
    started = time.perf_counter()
    recreate(args.db, url)
    refs = migrate_and_initialise(url)
    setup = time.perf_counter() - started
    archive = Archive(args.seed, refs)
    result = load(args.db, url, archive, args.customers)
    elapsed = time.perf_counter() - total
    summary = {"db": args.db, "url": sa_safe(url), "seed": args.seed, **result["counts"],
               "distinct names": len(archive.pinyin), "seconds": {"create, migrate, initialise, users": round(setup, 1),
                                                   **{k: round(v, 1) for k, v in result["timings"].items()},
                                                   "total": round(elapsed, 1)}}
    print(f"database: {args.db} ({summary['url']})")
    print(f"rows: {result['counts']['customers']:,} customers, {result['counts']['contacts']:,} contacts "
          f"({summary['distinct names']:,} distinct names)")
    for step, seconds in summary["seconds"].items():
        print(f"  {step}: {seconds:.1f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"generate_{args.db}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))


def sa_safe(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
