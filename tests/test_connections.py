"""What every database connection of the portal is set up with (portal/extensions.py): SQLite
enforces foreign keys like PostgreSQL; PostgreSQL runs without JIT compilation, which cost the
analyses more than it saved (bench/RESULTS.md)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db


def test_each_connection_is_set_up_for_its_database(app):
    with app.app_context():
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
            else:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # and a connection the pool opens later too
        db.engine.dispose()
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                assert connection.exec_driver_sql("SHOW jit").scalar() == "off"


def test_sqlite_connections_have_an_import_sized_cache_and_may_be_handed_to_a_writing_thread(app):
    """The import's inserts run in a second thread (excel/bulk.py WriteBehind) on the session's
    connection, and its 23 customer indexes want more than SQLite's default 2 MB cache."""
    import threading

    from portal.extensions import SQLITE_CACHE_KIB

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
            raw = connection.connection.dbapi_connection
            found = []
            thread = threading.Thread(target=lambda: found.append(raw.execute("SELECT 41 + 1").fetchone()[0]))
            thread.start()
            thread.join()
            assert found == [42]
