"""The portal's security manager (Superset/Airflow style: subclass FAB's, don't patch)."""
from __future__ import annotations

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
