"""Test databases: migrated once per session with ``flask db upgrade`` (never create_all),
then copied for every test so each starts from the same known state.

SQLite by default; PostgreSQL when ``TEST_DATABASE_URL`` names one (the database in the
URL is used as a prefix: ``<name>_tpl`` is the migrated template, ``<name>_<n>`` a copy).
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("PORTAL_INSTANCE_DIR", str(Path(__file__).resolve().parent.parent / "instance" / "test"))

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

PASSWORD = "Test-Passw0rd!"
ROLE_USERS = {
    "admin": "Admin", "custodian": "Custodian", "clerk": "Clerk", "sales": "Salesperson",
    "sales2": "Salesperson", "manager": "SalesManager", "marketing": "Marketing", "auditor": "Auditor",
}
_counter = itertools.count()


class Database:
    """Where the migrated template lives and how to copy it."""

    def __init__(self, tmp: Path):
        self.url = os.environ.get("TEST_DATABASE_URL", "")
        self.tmp = tmp
        if self.is_postgres:
            url = sa.engine.make_url(self.url)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            self.base = url
            self.prefix = f"{url.database}_{os.getpid()}"
            self.admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgres")

    def template_url(self, kind: str) -> str:
        if self.is_postgres:
            name = f"{self.prefix}_{kind}"
            self._recreate(name)
            return self.base.set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.tmp / (kind + '.db')}"

    def copy(self, template: str) -> str:
        n = next(_counter)
        if self.is_postgres:
            name = f"{self.prefix}_{n}"
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{sa.engine.make_url(template).database}"'))
            return self.base.set(database=name).render_as_string(hide_password=False)
        target = self.tmp / f"db{n}.sqlite"
        shutil.copyfile(sa.engine.make_url(template).database, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        if self.is_postgres:
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))
        else:
            Path(sa.engine.make_url(url).database).unlink(missing_ok=True)

    def _recreate(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))


def make_app(url: str, **config):
    settings = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "test-" + uuid.uuid4().hex, "SQLALCHEMY_ENGINE_OPTIONS": {}}
    settings.update(config)
    app = create_app(settings)

    @app.url_value_preprocessor
    def fresh_g(endpoint, values):
        # Tests keep an app context pushed (to use the database between requests), and a
        # request reuses it: start each request with an empty `g`, as in production, so
        # nothing cached for one user or request leaks into the next.
        from flask import g

        g.__dict__.clear()

    return app


def build_template(url: str, *, demo: bool = False) -> None:
    """Migrate, apply roles and code tables, add one user per role (and the demo archive)."""
    from flask_migrate import upgrade

    from portal.seeds import initialise

    app = make_app(url)
    with app.app_context():
        upgrade()
        initialise(app.appbuilder, db.session)
        sm = app.appbuilder.sm
        for username, role in ROLE_USERS.items():
            sm.add_user(username, username.title(), "Test", f"{username}@example.cn", sm.find_role(role), PASSWORD)
        if demo:
            from portal.seeds import demo as demo_data

            demo_data.load_demo(db.session, app.appbuilder, seed=7)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> Database:
    return Database(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def template(database) -> str:
    url = database.template_url("tpl")
    build_template(url)
    yield url
    database.drop(url)


@pytest.fixture(scope="session")
def demo_template(database) -> str:
    url = database.template_url("demo")
    build_template(url, demo=True)
    yield url
    database.drop(url)


def _app_on_copy(database, template, **config):
    """A portal (with ``config``) on a fresh copy of ``template``, its app context pushed."""
    url = database.copy(template)
    application = make_app(url, **config)
    ctx = application.app_context()
    ctx.push()
    yield application
    db.session.remove()
    db.engine.dispose()
    ctx.pop()
    database.drop(url)


@pytest.fixture
def app(database, template):
    """A portal on a fresh copy of the migrated database (roles, codes, one user per role)."""
    yield from _app_on_copy(database, template)


@pytest.fixture
def demo_app(database, demo_template):
    """A portal on a fresh copy of a database holding the demo archive (seed 7)."""
    yield from _app_on_copy(database, demo_template)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return client


@pytest.fixture
def admin_client(client):
    return login(client, "admin")


def user(app, username: str):
    return app.appbuilder.sm.find_user(username)


def form_version(client, edit_url: str) -> str:
    """The hidden record version an edit form was loaded with, as a browser would post it."""
    import re

    html = client.get(edit_url).text
    match = re.search(r'<input[^>]*name="version"[^>]*value="(\d+)"', html) or re.search(
        r'<input[^>]*value="(\d+)"[^>]*name="version"', html)
    assert match, f"no version field on {edit_url}"
    return match.group(1)
