"""Applies ``seeds/roles.json`` (roles as data) to Flask-AppBuilder's security tables."""
from __future__ import annotations

import json
from pathlib import Path

from flask_appbuilder.security.manager import BaseSecurityManager

ROLES_FILE = Path(__file__).resolve().parents[2] / "seeds" / "roles.json"
_LETTERS = {"r": ("can_list", "can_show"), "w": ("can_add", "can_edit"), "d": ("can_delete",), "x": ("can_download",)}


def load_roles(path: Path = ROLES_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def expand(spec: str) -> set[str]:
    """``"rw+can_former"`` → {can_list, can_show, can_add, can_edit, can_former}."""
    names: set[str] = set()
    for token in spec.split("+"):
        token = token.strip()
        if token and set(token) <= set(_LETTERS):
            for letter in token:
                names.update(_LETTERS[letter])
        elif token:
            names.add(token)
    return names


def role_grants(data: dict, role: str) -> dict[str, set[str]]:
    """View name → permission names for ``role``, with its included sets merged in."""
    grants: dict[str, set[str]] = {}
    definition = data["roles"][role]
    parts = [data["sets"][name] for name in definition.get("include", ())] + [definition["views"]]
    for part in parts:
        for view, spec in part.items():
            grants.setdefault(view, set()).update(expand(spec))
    return grants


def menu_grants(appbuilder, grants: dict[str, set[str]]) -> set[str]:
    """Menu entries (and their categories) whose view the role may list."""
    allowed: set[str] = set()
    for category in appbuilder.menu.get_list():
        items = category.childs or [category]
        for item in items:
            view = getattr(item, "baseview", None)
            if view is not None and "can_list" in grants.get(type(view).__name__, set()):
                allowed.add(item.name)
                allowed.add(category.name)
    return allowed


def apply_roles(appbuilder, data: dict | None = None) -> list[str]:
    """Make every role of the file have exactly its permissions. Returns the role names.

    Also creates Flask-AppBuilder's own Admin and Public roles and every view's
    permissions (what ``FAB_UPDATE_PERMS`` would do at start-up, done here once instead).
    """
    from portal.security.permissions import GATE_PERMISSIONS

    data = data or load_roles()
    sm = appbuilder.sm
    BaseSecurityManager.create_db(sm)
    appbuilder.add_permissions(update_perms=True)
    # The gate's own rights (scope, sensitive data, purge, reassign) are permissions too;
    # Admin holds them all.
    admin = sm.find_role(sm.auth_role_admin)
    for permission, view in GATE_PERMISSIONS:
        sm.add_permission_role(admin, sm.add_permission_view_menu(permission, view))
    names = []
    for role_name in data["roles"]:
        grants = role_grants(data, role_name)
        wanted = []
        for view, permissions in sorted(grants.items()):
            for permission in sorted(permissions):
                pv = sm.find_permission_view_menu(permission, view)
                if pv is None:
                    raise ValueError(f"roles.json: {role_name} is granted {permission} on {view}, which does not exist")
                wanted.append(pv)
        for menu in sorted(menu_grants(appbuilder, grants)):
            wanted.append(sm.add_permission_view_menu("menu_access", menu))
        role = sm.find_role(role_name) or sm.add_role(role_name)
        role.permissions = wanted
        sm.session.merge(role)
        names.append(role_name)
    sm.session.commit()
    return names
