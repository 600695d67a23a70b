"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``."""
import gc
import logging
import sys

from portal import create_app
from portal.services import pinyin

app = create_app()
pinyin.warm()
# The app's own objects live as long as the process: freeze them out of the cyclic garbage
# collector, whose full passes otherwise add ~150 ms to one request in a hundred
# (bench/RESULTS.md).
gc.freeze()


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
