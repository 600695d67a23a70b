"""The customer archive portal: :func:`create_app` builds it (Flask application factory)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

BASE_DIR = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """A configured portal. ``config`` overrides settings (tests pass their database here)."""
    import config as config_module
    from flask_appbuilder import AppBuilder

    from . import health, services
    from .extensions import db, migrate
    from .security import history, users
    from .security.manager import PortalSecurityManager

    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"), static_folder="static",
                instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object("config")
    if config:
        app.config.update(config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), compare_type=True)
    services.install()
    users.install()
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
    from .cli import portal_cli

    from . import cli_backup  # noqa: F401  (backup, restore, backups)

    app.cli.add_command(portal_cli)
    return app
