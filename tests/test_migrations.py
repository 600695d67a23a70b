"""`flask db upgrade` builds exactly the schema the models describe, on SQLite and PostgreSQL."""
import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model
from flask_migrate import downgrade, upgrade

import portal.models  # noqa: F401
from portal.extensions import db
from tests.conftest import make_app


def diff_against_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Model.metadata)


def test_migrations_build_the_models_schema_and_downgrade_cleanly(database):
    url = database.template_url("migrations")
    app = make_app(url)
    try:
        with app.app_context():
            upgrade()
            assert diff_against_models(db.engine) == []
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"customer", "contact", "trade", "trade_line", "after_sales", "visit", "promotion",
                    "promotion_target", "product", "lifecycle_event", "ab_user", "ab_role"} <= tables
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert diff_against_models(db.engine) == []
            db.engine.dispose()
    finally:
        database.drop(url)


def test_a_database_that_is_not_migrated_gets_a_clear_page_not_a_traceback(database):
    url = database.template_url("empty")
    app = make_app(url, CHECK_SCHEMA=True)
    try:
        response = app.test_client().get("/")
        assert response.status_code == 503
        assert "flask --app wsgi db upgrade" in response.text
        assert "Traceback" not in response.text
        with app.app_context():
            db.engine.dispose()
    finally:
        database.drop(url)


def test_an_unreachable_database_gets_a_clear_page(tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", CHECK_SCHEMA=True)
    response = app.test_client().get("/customerview/list/")
    assert response.status_code == 503
    assert "DATABASE_URL" in response.text and "Traceback" not in response.text


SPARSE = {"ix_customer_industry_id": "industry_id", "ix_customer_team_id": "team_id",
          "ix_customer_source_id": "source_id", "ix_customer_referred_by_id": "referred_by_id",
          "ix_customer_region_route": "region_id", "ix_customer_email": "email"}


def _plan(conn, sql: str) -> str:
    if conn.dialect.name == "sqlite":
        return " ".join(str(r[-1]) for r in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    conn.execute(sa.text("SET LOCAL enable_seqscan = off"))  # an empty table: make the planner show its choice
    conn.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
    return " ".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {sql}")))


def test_sparse_columns_indexes_leave_out_nulls_and_still_serve_their_lookups(app):
    """Migration 0012: an import of cards without an industry, team, source, referrer, region or
    e-mail writes no entry into those six indexes, and the lookups that used them still do."""
    with app.app_context(), db.engine.begin() as conn:
        dialect = conn.dialect.name
        indexes = {i["name"]: i for i in sa.inspect(conn).get_indexes("customer")}
        for name, column in SPARSE.items():
            where = indexes[name]["dialect_options"][f"{dialect}_where"]
            assert column in str(where) and "NOT NULL" in str(where).upper(), (name, where)
        # Cards with none of them: no entry in any of the six (SQLite counts an index's entries).
        conn.execute(sa.text("INSERT INTO customer (number, name, customer_type, is_core, stage, created_on, "
                             "changed_on, version, mail_opt_out, sms_opt_out, email_opt_out) VALUES "
                             "('T1', 'x', 'org', false, 'potential', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, "
                             "false, false, false)"))
        if dialect == "sqlite":
            for name, column in SPARSE.items():
                assert conn.execute(sa.text(f"SELECT count(*) FROM customer INDEXED BY {name} "
                                            f"WHERE {column} IS NOT NULL")).scalar() == 0
        lookups = [
            ("ix_customer_industry_id", "SELECT id FROM customer WHERE industry_id = 7"),
            ("ix_customer_team_id", "SELECT id FROM customer WHERE team_id = 1"),
            ("ix_customer_referred_by_id", "SELECT id FROM customer WHERE referred_by_id IN (3, 4)"),
            ("ix_customer_region_route", "SELECT id FROM customer WHERE region_id = 2 AND route_id = 1 "
                                         "ORDER BY route_order"),
            ("ix_customer_email", "SELECT id FROM customer WHERE email IN ('a@example.com')"),
        ]
        if dialect == "postgresql":
            lookups += [
                # the import's lookup by many values (excel/bulk.py among) and the quick search's prefix
                ("ix_customer_email", "SELECT id FROM customer WHERE email = ANY(ARRAY['a@example.com'])"),
                ("ix_customer_email", "SELECT id FROM customer WHERE email LIKE 'ab%'"),
                # a foreign key's check on deleting a source: a generic plan, its value a parameter
                ("ix_customer_source_id", "SELECT 1 FROM ONLY customer x WHERE $1 = source_id FOR KEY SHARE OF x"),
            ]
        for name, sql in lookups:
            if "$1" in sql:
                conn.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
                conn.exec_driver_sql(f"PREPARE fk_check(int) AS {sql}")
                sql = "EXECUTE fk_check(1)"
            assert name in _plan(conn, sql), (name, _plan(conn, sql))
        conn.execute(sa.text("DELETE FROM customer WHERE number = 'T1'"))


def _add_batch(conn, batch_id: int, status: str) -> None:
    """An import batch of the customers' file a.xlsx, as any revision since 0007 keeps it."""
    conn.execute(sa.text("INSERT INTO import_batch (id, resource, file_name, file_size, created_at, status) "
                         "VALUES (:id, 'customer', 'a.xlsx', 1, CURRENT_TIMESTAMP, :status)"),
                 {"id": batch_id, "status": status})


def test_what_earlier_commits_wrote_moves_to_import_written_and_back(database):
    """Migration 0013 keeps the undo of batches committed before it: their written ids move
    from import_row to import_written, and back on a downgrade."""
    url = database.template_url("written")
    app = make_app(url)
    try:
        with app.app_context():
            upgrade(revision="0012")
            with db.engine.begin() as conn:
                _add_batch(conn, 7, "committed")
                conn.execute(sa.text(
                    "INSERT INTO import_row (id, batch_id, row_no, status, target_id, written_id, written_version, "
                    "contact_id, contact_created) VALUES "
                    "(1, 7, 2, 'new', NULL, 501, 1, 900, true), (2, 7, 3, 'new', NULL, 502, 1, NULL, false), "
                    "(3, 7, 4, 'update', 40, NULL, NULL, 901, true), (4, 7, 5, 'update', 41, NULL, NULL, 902, NULL), "
                    "(5, 7, 6, 'invalid', NULL, NULL, NULL, NULL, NULL)"))
            upgrade()
            with db.engine.connect() as conn:
                written = conn.execute(sa.text("SELECT batch_id, row_id, record_id, version, contact_id "
                                               "FROM import_written ORDER BY row_id")).all()
                kept = conn.execute(sa.text("SELECT id, contact_id FROM import_row ORDER BY id")).all()
            assert [tuple(r) for r in written] == [(7, 1, 501, 1, 900), (7, 2, 502, 1, None), (7, 3, None, None, 901)]
            assert [tuple(r) for r in kept] == [(1, 900), (2, None), (3, 901), (4, 902), (5, None)]
            downgrade(revision="0012")
            with db.engine.connect() as conn:
                back = conn.execute(sa.text("SELECT id, written_id, written_version, contact_id, contact_created "
                                            "FROM import_row ORDER BY id")).all()
            assert [(i, w, v, c, bool(created)) for i, w, v, c, created in back] == [
                (1, 501, 1, 900, True), (2, 502, 1, None, False), (3, None, None, 901, True),
                (4, None, None, 902, False), (5, None, None, None, False)]
            db.engine.dispose()
    finally:
        database.drop(url)


def test_history_entries_keep_their_changes_across_0014_and_stay_append_only(database):
    """0014 stores the history's changes as written (json, not jsonb, on PostgreSQL): entries
    written before it read the same after it and after a downgrade, and the append-only
    trigger it re-creates still refuses a rewrite."""
    url = database.template_url("history_json")
    app = make_app(url)
    changes = '{"name": {"old": null, "new": "甲公司"}, "city": {"old": "杭州", "new": "宁波"}}'
    select = sa.text("SELECT changes FROM change_log WHERE id = 1")
    try:
        with app.app_context():
            upgrade(revision="0013")
            with db.engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO change_log (id, at, username, object_type, object_id, action, "
                                     "changes) VALUES (1, CURRENT_TIMESTAMP, 'clerk', 'Customer', 5, 'update', "
                                     f"'{changes}')"))
            for revision in ("0014", "0013", "0014"):
                (upgrade if revision == "0014" else downgrade)(revision=revision)
                with db.engine.connect() as conn:
                    value = conn.execute(select).scalar_one()
                assert (value if isinstance(value, dict) else json.loads(value)) == {
                    "name": {"old": None, "new": "甲公司"}, "city": {"old": "杭州", "new": "宁波"}}
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    assert conn.execute(sa.text("SELECT pg_typeof(changes)::text FROM change_log")).scalar() == "json"
            with pytest.raises(sa.exc.DatabaseError):
                with db.engine.begin() as conn:
                    conn.execute(sa.text("UPDATE change_log SET changes = '{}' WHERE id = 1"))
            db.engine.dispose()
    finally:
        database.drop(url)


def test_staged_rows_lose_their_batch_key_in_0015_and_get_it_back_on_downgrade(database):
    """0015 drops the staged rows' foreign key to their batch (its check per row cost a dry run
    more than it guarded; nothing deletes a batch): the rows stay, and a downgrade restores the
    key with its cascade."""
    url = database.template_url("staged_rows_key")
    app = make_app(url)

    def keys():
        return [(k["referred_table"], k["options"].get("ondelete")) for k in
                sa.inspect(db.engine).get_foreign_keys("import_row")]

    try:
        with app.app_context():
            upgrade(revision="0014")
            with db.engine.begin() as conn:
                _add_batch(conn, 1, "previewed")
                conn.execute(sa.text("INSERT INTO import_row (id, batch_id, row_no, status) "
                                     "VALUES (1, 1, 2, 'new')"))
            assert keys() == [("import_batch", "CASCADE")]
            upgrade(revision="0015")
            assert keys() == []
            downgrade(revision="0014")
            assert keys() == [("import_batch", "CASCADE")]
            upgrade(revision="0015")
            with db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT batch_id, row_no, status FROM import_row")).all() == [
                    (1, 2, "new")]
            db.engine.dispose()
    finally:
        database.drop(url)
