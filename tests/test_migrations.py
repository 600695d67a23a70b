"""`flask db upgrade` builds exactly the schema the models describe, on SQLite and PostgreSQL."""
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
