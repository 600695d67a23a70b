"""The portal's security manager (Superset/Airflow style: subclass FAB's, don't patch)."""
from __future__ import annotations

from flask import request
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security import views as fab_views
from flask_babel import lazy_gettext as _l

from portal.views.base import format_bool


# Same class names as FAB's: a view's class name is its permission and endpoint name.
class UserDBModelView(fab_views.UserDBModelView):
    # FAB prints the raw booleans True/False in the users list.
    formatters_columns = {"active": format_bool}


class RoleModelView(fab_views.RoleModelView):
    # FAB labels only name and permissions; its filters also offer users and groups.
    label_columns = {**fab_views.RoleModelView.label_columns, "user": _l("User"), "groups": _l("Groups")}


class PortalSecurityManager(SecurityManager):
    """Flask-AppBuilder's manager; row scope and masking hook in here (security issue)."""

    userdbmodelview = UserDBModelView
    rolemodelview = RoleModelView
    # FAB's user-statistics chart loads Google Charts from the internet: it breaks on an
    # intranet, so it is not registered.
    userstatschartview = None

    def auth_user_db(self, username, password):
        """Every login, successful or not, goes into the access log."""
        from . import access_log

        user = super().auth_user_db(username, password)
        if user is None:
            access_log.record("login_failed", "User", username=(username or "")[:256], user=None)
        else:
            access_log.record("login", "User", user.id, user=user)
        return user

    def has_access(self, permission_name, view_name):
        """A refusal of the page or endpoint being requested is logged (checks made to draw
        menus and buttons are not: they are not attempts)."""
        allowed = super().has_access(permission_name, view_name)
        if not allowed and _is_request_target(permission_name, view_name):
            from . import access_log

            access_log.record("denied", view_name, (request.view_args or {}).get("pk"),
                              detail={"permission": permission_name, "path": request.full_path})
        return allowed


def _is_request_target(permission_name: str, view_name: str) -> bool:
    endpoint = request.endpoint or ""
    blueprint, _, method = endpoint.partition(".")
    return blueprint == view_name and permission_name in (f"can_{method}", method) or (
        blueprint == view_name and method in ("get", "get_list", "put", "post", "delete", "info")
        and permission_name.startswith("can_"))
