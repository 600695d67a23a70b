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
