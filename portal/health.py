"""Start-up checks: a database that is unreachable or not migrated gets a clear page that
says what to do, instead of a traceback."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, render_template_string
from flask_babel import gettext as _

log = logging.getLogger(__name__)

_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{{ title }}</title>
<body style="font-family:sans-serif;max-width:46em;margin:4em auto;line-height:1.6">
<h1>{{ title }}</h1><p>{{ message }}</p><pre style="background:#f4f4f4;padding:1em">{{ command }}</pre>
<p style="color:#666">{{ detail }}</p></body></html>"""


def schema_problem(engine: sa.Engine) -> tuple[str, str] | None:
    """None when the database answers and is migrated to the latest revision; else
    (what is wrong, the command that fixes it)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.OperationalError as exc:
        return (_("The database cannot be reached: %(error)s", error=str(exc.orig).strip().splitlines()[0]),
                _("Check DATABASE_URL and that the database server is running."))
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    heads = set(script.get_heads())
    if current != heads:
        return (_("The database is not migrated to this version of the portal."), "flask --app wsgi db upgrade")
    return None


def install(app: Flask) -> None:
    state = {"ok": app.config.get("TESTING", False) and not app.config.get("CHECK_SCHEMA", False)}

    @app.before_request
    def require_migrated_database():
        if state["ok"]:
            return None
        problem = schema_problem(app.extensions["sqlalchemy"].engine)
        if problem is None:
            state["ok"] = True
            return None
        message, command = problem
        log.error("%s — %s", message, command)
        return render_template_string(_PAGE, title=_("The portal cannot start yet"), message=message,
                                      command=command, detail=app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]), 503

    @app.errorhandler(sa.exc.OperationalError)
    def database_unavailable(exc):
        log.exception("database error")
        return render_template_string(_PAGE, title=_("The database is not available"),
                                      message=_("The database cannot be reached: %(error)s",
                                                error=str(getattr(exc, "orig", exc)).strip().splitlines()[0]),
                                      command=_("Check DATABASE_URL and that the database server is running."),
                                      detail=""), 503
