"""The gate's own rights, kept as Flask-AppBuilder permissions so that roles grant them like
any other (seeds/roles.json) and an administrator can change them in the roles screen."""
from __future__ import annotations

from flask import g, has_request_context

SCOPE_VIEW = "CustomerScope"      # scope_all: every customer; scope_team: the managed teams'
SENSITIVE_VIEW = "SensitiveData"  # see_sensitive: unmasked sensitive fields, and may change them
GATE_PERMISSIONS = (("scope_all", SCOPE_VIEW), ("scope_team", SCOPE_VIEW), ("see_sensitive", SENSITIVE_VIEW))


def current_user():
    """The logged-in user of this request, or None (commands run outside any request)."""
    if not has_request_context():
        return None
    user = getattr(g, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def user_grants(user) -> frozenset[tuple[str, str]]:
    """(permission, view) pairs of all of the user's roles, computed once per request."""
    if user is None:
        return frozenset()
    cache = g.setdefault("_portal_grants", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = frozenset(
            (pv.permission.name, pv.view_menu.name) for role in user.roles for pv in role.permissions
        )
    return cache[user.id]


def has(user, permission: str, view: str) -> bool:
    if user is None:
        return False
    if any(role.name == "Admin" for role in user.roles):
        return True
    return (permission, view) in user_grants(user)
