"""Who is acting: the logged-in user in a request, or the user a command acts as."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from flask import g, has_request_context

_acting_user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("acting_user_id", default=None)


def current_user_id() -> int | None:
    """The id of the user on whose behalf data is being changed, if any."""
    override = _acting_user_id.get()
    if override is not None:
        return override
    if has_request_context():
        user = getattr(g, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id
    return None


@contextmanager
def acting_as(user_id: int | None):
    """Attribute changes made inside the block to ``user_id`` (commands, seeds, tests)."""
    token = _acting_user_id.set(user_id)
    try:
        yield
    finally:
        _acting_user_id.reset(token)


_change_source: contextvars.ContextVar[str | None] = contextvars.ContextVar("change_source", default=None)


def change_source() -> str:
    """Where the changes being written come from: form, api, import batch, bulk action, command."""
    source = _change_source.get()
    if source:
        return source
    if has_request_context():
        from flask import request

        return "api" if request.path.startswith("/api/") else "form"
    return "command"


@contextmanager
def changes_from(source: str):
    """Label the changes written inside the block (e.g. ``import:42``, ``reassign``)."""
    token = _change_source.set(source)
    try:
        yield
    finally:
        _change_source.reset(token)
