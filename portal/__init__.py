"""The customer archive portal: :func:`create_app` builds it (Flask application factory)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

BASE_DIR = Path(__file__).resolve().parent.parent


_done: set = set()


def _once(install) -> None:
    """Process-wide hooks (SQLAlchemy events) are registered once, however many apps exist."""
    if install not in _done:
        install()
        _done.add(install)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """A configured portal. ``config`` overrides settings (tests pass their database here)."""
    import config as config_module
    from flask_appbuilder import AppBuilder

    from . import health, services, sqlite_wal
    from .extensions import db, enforce_sqlite_foreign_keys, migrate, postgresql_without_jit
    from .security import history, users
    from .security.manager import PortalSecurityManager

    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"), static_folder="static",
                instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object("config")
    if config:
        app.config.update(config)
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        # An import writes one chunk in a second thread while it builds the next
        # (excel/bulk.py WriteBehind), one thread at a time on the connection; Python's sqlite3
        # is built thread-safe, but refuses a connection used by another thread unless told.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"check_same_thread": False, **(options.get("connect_args") or {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), compare_type=True)
    services.install()
    users.install()
    _once(enforce_sqlite_foreign_keys)
    _once(postgresql_without_jit)
    _once(sqlite_wal.install)
    history.install()

    with app.app_context():
        appbuilder = AppBuilder(security_manager_class=PortalSecurityManager)
        appbuilder.init_app(app, db.session)
        from .api import register_apis
        from .views import install_download_guard, register_views

        register_views(appbuilder)
        install_download_guard(app)
        register_apis(appbuilder)

    health.install(app)
    # Browsers ask for /favicon.ico before (or without) reading the page's <link rel="icon">.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    from .security import headers

    headers.install(app)
    if app.config.get("PROXY_FIX_HOPS"):
        # Behind nginx & co.: take the client's address and scheme from the proxy's headers,
        # so the access log and the login rate limit see the real client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    from .cli import portal_cli

    from . import cli_backup  # noqa: F401  (backup, restore, backups)

    app.cli.add_command(portal_cli)
    return app
