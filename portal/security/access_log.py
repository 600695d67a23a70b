"""The access log (对每次访问进行追踪): every card view, list/search, export, import, login
and denial, with user, time, IP, object and row count.

Entries are written on their own connection and committed at once, so a denial is kept
even when the request's own transaction is rolled back.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from portal.models import AccessLog

from .permissions import current_user

log = logging.getLogger(__name__)
# PIPL art. 56: records of processing personal information are kept for at least 3 years.
MIN_RETENTION_DAYS = 3 * 366


def client_ip() -> str | None:
    if not has_request_context():
        return None
    # Behind a proxy, configure werkzeug's ProxyFix so remote_addr is the client's.
    return request.remote_addr


def record(action: str, object_type: str | None = None, object_id=None, *, row_count: int | None = None,
           detail=None, user=None, username: str | None = None) -> None:
    """Append one entry. ``detail`` may be a dict (stored as JSON) or text."""
    from portal.extensions import db

    user = user if user is not None else current_user()
    if isinstance(detail, (dict, list)):
        detail = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    row = {
        "at": dt.datetime.now().replace(microsecond=0), "user_id": getattr(user, "id", None),
        "username": username or getattr(user, "username", None), "ip": client_ip(), "action": action,
        "object_type": object_type, "object_id": None if object_id is None else str(object_id),
        "row_count": row_count, "detail": detail[:4000] if isinstance(detail, str) else detail,
    }
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.insert(AccessLog.__table__), [row])
    except Exception:  # the log must never take the page down with it
        log.exception("could not write the access log: %s", row)


def retention_days() -> int:
    return max(int(current_app.config.get("ACCESS_LOG_RETENTION_DAYS", MIN_RETENTION_DAYS)), MIN_RETENTION_DAYS)


def prune(today: dt.date | None = None) -> int:
    """Delete entries older than the retention period (never less than 3 years)."""
    from portal.extensions import db

    cutoff = dt.datetime.combine((today or dt.date.today()) - dt.timedelta(days=retention_days()), dt.time())
    with db.engine.begin() as conn:
        return conn.execute(sa.delete(AccessLog.__table__).where(AccessLog.__table__.c.at < cutoff)).rowcount
