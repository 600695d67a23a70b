"""COPY data formatted in the building thread (excel/copy_text.py): the bytes psycopg's own
``write_row`` would send on the connection, and the values stored as given."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import sqlalchemy as sa

from portal.excel import bulk, copy_text
from portal.extensions import db
from portal.models import ChangeLog, Customer

AWKWARD = ["反斜杠\\n 不是换行", "制表\t符", "换\n行", "回\r车", "", "\\N", "引号 ' \" 和 ; 逗号,", "𠀀 超出基本平面"]


def _history_rows() -> list[dict]:
    at = dt.datetime(2026, 12, 4, 23, 5, 1, 250000)
    return [{"at": at, "user_id": None, "username": text, "customer_id": None, "object_type": "Customer",
             "object_id": n, "action": "create", "source": None if n % 2 else "import:7",
             "changes": {"name": {"old": None, "new": text}, "capital": {"old": "1.50", "new": 2.25},
                         "birth": {"old": None, "new": "1985-03-02"}, "flag": {"old": False, "new": True}}}
            for n, text in enumerate(AWKWARD)]


def test_the_rows_are_formatted_as_the_connection_would_send_them(app):
    with app.app_context():
        dialect = db.engine.dialect
        if dialect.name != "postgresql":
            assert copy_text.formatter(dialect) is None   # SQLite: rows bound, not formatted
            return
        import psycopg
        from psycopg.copy import FileWriter

        insert = bulk.Insert(dialect, ChangeLog.__table__, _history_rows())
        assert insert.copied is not None and not insert.params and len(insert) == len(AWKWARD)
        dbapi = db.session.connection().connection.dbapi_connection
        # The same bound rows through a Copy of this very connection (psycopg's documented way
        # to produce COPY data without sending it).
        reference = bulk.Insert(dialect, ChangeLog.__table__)
        reference.copied = None   # rows kept as bound, as without a formatter
        reference.add(_history_rows())
        expected = io.BytesIO()
        with psycopg.Copy(dbapi.cursor(), binary=False, writer=FileWriter(expected)) as copy:
            for row in reference.params:
                copy.write_row(row)
        assert insert.copied.data(dbapi) == expected.getvalue()


def test_inserted_and_updated_values_come_back_as_given(app):
    """Every kind of value an import writes, through COPY (insert) and the temporary table of an
    UPDATE … FROM, on both databases."""
    with app.app_context():
        rows = [{"number": f"CT{n:04d}", "name": text or "空", "customer_type": "org", "stage": "potential",
                 "street": text, "registered_capital": Decimal("1234567.89") if n % 2 else None,
                 "birth_date": dt.date(1985, 3, 2) if n % 3 else None, "is_core": bool(n % 2),
                 "employee_count": n * 7} for n, text in enumerate(AWKWARD)]
        ids = bulk.insert(db.session, Customer, rows)
        table = Customer.__table__
        columns = [table.c.street, table.c.registered_capital, table.c.birth_date, table.c.is_core, table.c.employee_count]
        stored = db.session.execute(sa.select(*columns).where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        assert [tuple(r) for r in stored] == [(r["street"], r["registered_capital"], r["birth_date"], r["is_core"],
                                               r["employee_count"]) for r in rows]
        changed = [(pk, 1, {"street": text + "·改", "registered_capital": Decimal("0.01"),
                            "birth_date": dt.date(2000, 1, 31)}) for pk, text in zip(ids, reversed(AWKWARD))]
        assert bulk.update(db.session, Customer, changed, None) == len(ids)
        stored = db.session.execute(sa.select(table.c.street, table.c.registered_capital, table.c.birth_date)
                                    .where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        assert [tuple(r) for r in stored] == [(text + "·改", Decimal("0.01"), dt.date(2000, 1, 31))
                                              for text in reversed(AWKWARD)]
        history = bulk.Insert(db.engine.dialect, ChangeLog.__table__, _history_rows())
        history.run(db.session.connection().connection.dbapi_connection)
        kept = db.session.execute(sa.select(ChangeLog.username, ChangeLog.source, ChangeLog.changes, ChangeLog.at)
                                  .where(ChangeLog.object_type == "Customer", ChangeLog.object_id < len(AWKWARD),
                                         ChangeLog.action == "create", ChangeLog.customer_id.is_(None))
                                  .order_by(ChangeLog.object_id)).all()
        assert [(k.username, k.source, k.changes, k.at) for k in kept] == \
            [(r["username"], r["source"], r["changes"], r["at"]) for r in _history_rows()]


def test_a_connection_in_another_client_encoding_gets_the_text_in_it(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        dbapi = db.session.connection().connection.dbapi_connection
        db.session.execute(sa.text("SET client_encoding TO 'GB18030'"))
        try:
            assert dbapi.info.encoding == "gb18030"
            rows = [{"number": "GB0001", "name": "广州市天河区客户", "customer_type": "org", "stage": "potential",
                     "street": "体育西路 191 号\t中石化大厦"}]
            insert = bulk.Insert(db.engine.dialect, Customer.__table__, rows)
            assert "广州".encode("gb18030") in insert.copied.data(dbapi)
            insert.run(dbapi)
            assert db.session.execute(sa.select(Customer.name, Customer.street)
                                      .where(Customer.number == "GB0001")).one() == ("广州市天河区客户",
                                                                                     "体育西路 191 号\t中石化大厦")
        finally:
            db.session.execute(sa.text("RESET client_encoding"))


def test_a_sqlite_process_does_not_load_psycopg():
    """psycopg and libpq are 10 MB of resident memory: a SQLite import's 300 MB have no room
    for them (bench/RESULTS.md)."""
    import subprocess
    import sys

    code = ("import sys; import portal.excel.bulk, portal.excel.commit, portal.excel.importer, "
            "portal.excel.copy_text; print('psycopg' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
