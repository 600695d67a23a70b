"""What auditors read: the access log and the change history (read-only)."""
from __future__ import annotations

from flask_babel import LazyString, lazy_gettext as _l

from portal.models import AccessLog, ChangeLog

from .base import ArchiveModelView


class AccessLogView(ArchiveModelView):
    model = AccessLog
    noun, plural = _l("Access log entry"), _l("Access log")
    base_permissions = ["can_list", "can_show"]
    base_order = ("at", "desc")
    list_columns = ["at", "username", "ip", "action", "object_type", "object_id", "row_count", "detail_html"]
    show_fieldsets = [(_l("Access"), {"fields": list_columns})]
    search_columns = ["at", "username", "ip", "action", "object_type", "object_id", "detail"]


def _object_noun(name: str) -> str:
    from . import MENUS, NO_MENU

    for view in [v for _, _, _, items in MENUS for v, *_ in items] + list(NO_MENU):
        if view.model.__name__ == name and view.noun is not None:
            return str(view.noun)
    return name


class ChangeLogView(ArchiveModelView):
    """The History tab of a card, and the auditor's view of every change."""

    model = ChangeLog
    noun, plural = _l("Change"), _l("Change history")
    base_permissions = ["can_list", "can_show"]
    base_order = ("at", "desc")
    list_columns = ["at", "username", "object_type", "object_id", "action", "source", "changes_html"]
    show_columns = list_columns
    search_columns = ["at", "username", "object_type", "object_id", "action", "source", "customer"]


# Besides the registry's labels and formats: the rendered changes and details, and record types by name.
ChangeLogView.label_columns["changes_html"] = LazyString(lambda: str(_l("Changes")))
ChangeLogView.formatters_columns["object_type"] = _object_noun
AccessLogView.label_columns["detail_html"] = AccessLogView.label_columns["detail"]
AccessLogView.formatters_columns["object_type"] = _object_noun
