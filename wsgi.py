"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``."""
import logging
import sys

from portal import create_app
from portal.warmup import warm_up

app = create_app()
warm_up()


def _warn_if_database_is_not_ready() -> None:
    """Say at start-up, in plain words, what to run when the database is not ready (the
    pages say the same until it is fixed). Commands such as ``flask db upgrade`` load this
    module too, so this only warns."""
    if any(arg in ("db", "portal", "fab") for arg in sys.argv[1:]):
        return
    from portal.extensions import db
    from portal.health import schema_problem

    with app.app_context():
        problem = schema_problem(db.engine)
    if problem:
        logging.getLogger("portal").error("%s  →  %s", *problem)
        print(f"\n  ⚠ {problem[0]}\n    → {problem[1]}\n", file=sys.stderr)


_warn_if_database_is_not_ready()
