"""The bulk writer the import commits with: COPY and UPDATE … FROM a temporary table on
PostgreSQL, executemany elsewhere; and the planner statistics it keeps true on PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.excel import bulk, statistics
from portal.extensions import db
from portal.models import Customer


def _customers(n: int) -> list[dict]:
    return [{"number": f"B{i:06d}", "name": f"批量客户{i}", "customer_type": "org", "stage": "potential"}
            for i in range(n)]


def test_insert_returns_the_ids_in_order_and_stores_the_values(app):
    with app.app_context():
        ids = bulk.insert(db.session, Customer, _customers(2500))
        rows = db.session.execute(sa.select(Customer.id, Customer.number, Customer.name_pinyin)
                                  .where(Customer.id.in_(ids)).order_by(Customer.id)).all()
        assert [r.number for r in rows] == [f"B{i:06d}" for i in range(2500)]
        assert [r.id for r in rows] == ids
        assert rows[0].name_pinyin.startswith("piliangkehu")


def test_update_writes_only_records_still_at_the_version_seen(app):
    with app.app_context():
        ids = bulk.insert(db.session, Customer, _customers(3))
        assert bulk.update(db.session, Customer, [(ids[0], 1, {"name": "改名一"}), (ids[1], 1, {"name": "改名二"})],
                           None) == 2
        names = dict(db.session.execute(sa.select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())
        assert names == {ids[0]: "改名一", ids[1]: "改名二", ids[2]: "批量客户2"}
        versions = dict(db.session.execute(sa.select(Customer.id, Customer.version).where(Customer.id.in_(ids))).all())
        assert versions == {ids[0]: 2, ids[1]: 2, ids[2]: 1}
        with pytest.raises(bulk.RecordsChanged):
            bulk.update(db.session, Customer, [(ids[2], 1, {"name": "新"}), (ids[0], 1, {"name": "旧版本"})], None)


def test_rows_setting_different_columns_each_keep_the_columns_they_leave_alone(app):
    """A person's card and a company's in one file set different columns: on PostgreSQL one
    statement writes them all, each row setting only its own columns (an empty value given
    is written; a column not given is kept)."""
    with app.app_context():
        rows = _customers(4)
        rows[0].update(street="旧街1号", employee_count=10)
        rows[1].update(street="旧街2号", employee_count=20)
        rows[2].update(street="旧街3号", employee_count=30)
        rows[3].update(street=None, employee_count=None)
        ids = bulk.insert(db.session, Customer, rows)
        items = [(ids[0], 1, {"street": "新街1号", "value_grade": "A"}),
                 (ids[1], 1, {"street": "新街2号", "value_grade": "B", "employee_count": 25}),
                 (ids[2], 1, {"employee_count": None}),
                 (ids[3], 1, {"name": "改名四"})]
        statements = bulk.updates(db.session.get_bind().dialect, Customer, items, None)
        if db.session.get_bind().dialect.name == "postgresql":
            assert len(statements) == 1
        assert bulk.update(db.session, Customer, items, None) == 4
        table = Customer.__table__
        found = db.session.execute(sa.select(table.c.street, table.c.value_grade, table.c.employee_count,
                                             table.c.name, table.c.name_pinyin, table.c.version)
                                   .where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        grade = Customer.__table__.c.value_grade.default
        kept_grade = grade.arg if grade is not None and grade.is_scalar else None
        assert [tuple(r) for r in found] == [
            ("新街1号", "A", 10, "批量客户0", found[0].name_pinyin, 2),
            ("新街2号", "B", 25, "批量客户1", found[1].name_pinyin, 2),
            ("旧街3号", kept_grade, None, "批量客户2", found[2].name_pinyin, 2),
            (None, kept_grade, None, "改名四", found[3].name_pinyin, 2)]
        assert found[3].name_pinyin.startswith("gaimingsi")
        with pytest.raises(bulk.RecordsChanged):
            bulk.update(db.session, Customer, [(ids[0], 2, {"street": "再改"}), (ids[1], 1, {"value_grade": "C"})],
                        None)


def test_an_update_joins_its_rows_through_their_range_of_ids(app):
    """PostgreSQL joins a chunk's temporary table to the cards within the chunk's lowest and
    highest id, whatever the rows' order (a merge join read the primary key from its first
    entry, a hash join the whole table), and every row of the chunk is written."""
    with app.app_context():
        ids = bulk.insert(db.session, Customer, _customers(300))
        items = [(ids[200], 1, {"name": "甲"}), (ids[150], 1, {"name": "乙"}), (ids[180], 1, {"name": "丙"})]
        dialect = db.session.get_bind().dialect
        if dialect.name == "postgresql":
            [statement] = bulk.updates(dialect, Customer, items, None)
            assert " BETWEEN " in statement.sql
            assert {ids[150], ids[200]} <= set(statement.bound.values())
        assert bulk.update(db.session, Customer, items, None) == 3
        names = dict(db.session.execute(sa.select(Customer.id, Customer.name)
                                        .where(Customer.name.in_(["甲", "乙", "丙"]))).all())
        assert names == {ids[200]: "甲", ids[150]: "乙", ids[180]: "丙"}


def test_update_rows_reports_the_rows_it_matched(app):
    with app.app_context():
        ids = bulk.insert(db.session, Customer, _customers(3))
        table = Customer.__table__
        matched = bulk.update_rows(db.session, table, ("id",), ("source_detail", "route_order"),
                                   [(ids[0], "展会", 1), (ids[2], "名录", 3), (10**9, "无此人", 9)],
                                   also={"is_core": True})
        assert matched == 2
        found = db.session.execute(sa.select(table.c.id, table.c.source_detail, table.c.route_order, table.c.is_core)
                                   .where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        assert [tuple(r) for r in found] == [(ids[0], "展会", 1, True), (ids[1], None, None, False),
                                             (ids[2], "名录", 3, True)]


def test_postgresql_statistics_follow_the_rows_an_import_writes(app):
    """With autovacuum off (or not yet run) PostgreSQL would plan the import's foreign-key
    checks for an empty customer table; the writer analyses it as it grows."""
    with app.app_context():
        bulk.insert(db.session, Customer, _customers(5000))
        if db.engine.dialect.name != "postgresql":
            # SQLite plans without gathered statistics: the writer leaves them alone.
            assert db.session.execute(sa.text(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar() == 0
            return
        known = db.session.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'customer'")).scalar()
        assert known >= 4000
        plan = "\n".join(db.session.execute(sa.text(
            "EXPLAIN SELECT 1 FROM customer WHERE id = 5 FOR KEY SHARE")).scalars())
        assert "pk_customer" in plan


def test_refresh_analyses_tables_changed_beyond_autovacuums_threshold(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert statistics.refresh(db.session, ["customer"]) == []
            return
        bulk.insert(db.session, Customer, _customers(800))
        db.session.commit()
        # The backend reports its counters to pg_stat_user_tables at the end of a transaction.
        db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        assert statistics.refresh(db.session, ["customer"]) == ["customer"]
        db.session.commit()
        assert statistics.refresh(db.session, ["customer"]) == []


def test_refresh_samples_the_staged_rows_by_their_lookup_columns_not_their_documents(app):
    """The staged rows are read by batch and status only: a refresh analyses those columns
    (their JSON documents' statistics would cost most of the ANALYZE and serve no statement)."""
    from portal.models import ImportBatch, ImportRow

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            assert statistics.refresh(db.session, ["import_row"]) == []
            return
        batch = ImportBatch(file_name="x.xlsx", resource="customer")
        db.session.add(batch)
        db.session.flush()
        bulk.executemany(db.session, ImportRow.__table__, [
            {"batch_id": batch.id, "row_no": n, "status": "update", "values": {"name": f"公司{n}"},
             "diff": {"name": {"old": "旧", "new": f"公司{n}"}}, "errors": None, "raw": [f"公司{n}", "杭州"]}
            for n in range(2, 802)])
        db.session.commit()
        db.session.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        assert statistics.refresh(db.session, ["import_row"]) == ["import_row"]
        sampled = set(db.session.execute(sa.text(
            "SELECT attname FROM pg_stats WHERE tablename = 'import_row'")).scalars())
        assert {"batch_id", "status"} <= sampled
        assert not sampled & {"values", "diff", "raw", "errors"}


def test_creation_changes_of_many_rows_are_those_of_each_row(app):
    """The column-wise history of an import's new records (dates and decimals as text, the rest
    as they are, empty values left out) is what the one-record form gives."""
    import datetime as dt
    from decimal import Decimal

    rows = [{"name": "甲公司", "birth_date": dt.date(1985, 3, 2), "registered_capital": Decimal("1000000.50"),
             "is_core": False, "employee_count": 12, "email": "", "city": None, "created_by_id": 1},
            {"name": "乙公司", "birth_date": None, "registered_capital": Decimal("3"), "is_core": True,
             "employee_count": None, "email": "a@b.cn", "city": "杭州", "created_by_id": 1}]
    with app.app_context():
        many = bulk.creation_changes_many(Customer, rows, skip=("created_by_id",))
        one = [bulk.creation_changes(Customer, {k: v for k, v in r.items() if k != "created_by_id"}) for r in rows]
    assert many == one
    assert many[0]["birth_date"] == {"old": None, "new": "1985-03-02"}
    assert many[0]["registered_capital"]["new"] == "1000000.50" and many[0]["is_core"]["new"] is False
    assert "email" not in many[0] and "city" not in many[0] and "created_by_id" not in many[0]


def test_values_repeated_from_the_row_before_are_stored_as_processing_each_gives(app):
    """A JSON column's empty value is stored as JSON null, a repeated object as itself: the
    processed value of the row before is reused only for the very same object."""
    from portal.models import ImportBatch, ImportRow

    with app.app_context():
        batch = ImportBatch(file_name="x.xlsx", resource="customer")
        db.session.add(batch)
        db.session.flush()
        shared = {"name": "同一个"}
        rows = [{"batch_id": batch.id, "row_no": n, "status": "new", "values": values, "diff": None, "errors": errors,
                 "raw": None} for n, (values, errors) in enumerate(
                     [(None, None), (None, None), (shared, None), (shared, {"name": "错"}), (None, None)], 2)]
        bulk.executemany(db.session, ImportRow.__table__, rows)
        table = ImportRow.__table__
        stored = db.session.execute(sa.select(table.c.row_no, table.c["values"], table.c.errors,
                                              sa.func.coalesce(sa.cast(table.c.diff, sa.String), "SQL NULL"))
                                    .where(table.c.batch_id == batch.id).order_by(table.c.row_no)).all()
        assert [tuple(r)[:3] for r in stored] == [(2, None, None), (3, None, None), (4, shared, None),
                                                  (5, shared, {"name": "错"}), (6, None, None)]
        assert {r[3] for r in stored} == {"null"}   # empty JSON stored as JSON null, every row alike


def test_growth_analyses_sample_the_columns_each_import_table_is_looked_up_by(app):
    """The ANALYZE run while an import writes names the primary key, every match key's fields
    and the columns pointing at a customer, contact or batch (columns each table has: a wrong
    one would fail mid-commit); a refresh analyses whole tables."""
    from portal.excel.mapping import MATCH_KEYS

    with app.app_context():
        dialect = db.engine.dialect
        for name in statistics.IMPORT_TABLES:
            columns = statistics.lookup_columns(name)
            assert columns[0] == "id", name
            assert statistics.analyze_statement(dialect, name).endswith(f"({', '.join(columns)})")
            assert statistics.analyze_statement(dialect, name, whole=True) == f"ANALYZE {name}"
            if dialect.name == "postgresql":
                db.session.execute(sa.text(statistics.analyze_statement(dialect, name)))
        for model, keys in MATCH_KEYS.items():
            assert {f for k in keys for f in k.fields} <= set(statistics.lookup_columns(model.__tablename__))
        assert {"number", "name", "mobile", "email", "credit_code", "id_number"} <= set(statistics.lookup_columns("customer"))
        assert {"batch_id"} <= set(statistics.lookup_columns("import_row"))
        assert {"customer_id"} <= set(statistics.lookup_columns("change_log"))
        assert "province" not in statistics.lookup_columns("customer")


def test_among_finds_the_rows_holding_any_of_the_values_with_one_parameter_on_postgresql(app):
    """The lookup the import makes per chunk (match keys, unique values, contacts): the same rows
    as IN (…); on PostgreSQL one array parameter, so the statement text is the same for any
    number of values (one compiled and parsed statement for every chunk)."""
    with app.app_context():
        rows = _customers(2500)
        rows[7]["number"] = "B'7\"；引号"
        ids = bulk.insert(db.session, Customer, rows)
        picked = [*range(0, 2500, 3), 7]
        wanted = [rows[i]["number"] for i in picked] + ["无此编号"]
        found = db.session.execute(sa.select(Customer.id, Customer.number)
                                   .where(bulk.among(db.session, Customer.number, wanted))).all()
        assert sorted(found) == sorted((ids[i], rows[i]["number"]) for i in picked)
        assert db.session.execute(sa.select(Customer.id).where(bulk.among(db.session, Customer.number, []))).all() == []
        db.session.execute(sa.update(Customer).where(Customer.id == ids[0]).values(mobile="13800000001"))
        longer = sa.select(Customer.id).where(bulk.among(db.session, Customer.mobile, ["138000000012"]))
        assert db.session.execute(longer).all() == []   # not cut to the column's 11 characters
        dialect = db.session.get_bind().dialect
        texts = {str(sa.select(Customer.id).where(bulk.among(db.session, Customer.number, values))
                     .compile(dialect=dialect)) for values in (wanted, wanted[:2])}
        if dialect.name == "postgresql":
            assert len(texts) == 1 and "= ANY" in texts.pop()
        else:
            assert all(" IN " in t for t in texts)
