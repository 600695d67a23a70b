"""The Excel import pages: the wizard (/import/<resource>/), a batch's page
(/import/batches/<id>) and the import history (/import/history/).

The pages are frames: the scripts in portal/static/import/ do the work through
/api/v1/import/ (ImportApi), where the security gate, the field registry and the
batch's rules apply. The view only decides who may open which page.

Rights, on the ``ImportView`` permission view (seeds/roles.json):
``can_import`` opens the wizard and a batch's page, ``can_history`` the history;
``can_import_<resource>`` says into which resources a role may import (Marketing:
customers and contacts only). The menu entries are granted as ``menu_access`` in
roles.json, because these pages have no list of their own.
"""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from portal.excel import importer
from portal.grid.resources import RESOURCES
from portal.security.permissions import current_user, has

VIEW = "ImportView"
IMPORTABLE = ("customer", "contact", "transaction", "visit")
RESOURCE_PERMISSIONS = {name: f"can_import_{name}" for name in IMPORTABLE}
BASE_PERMISSIONS = ["can_import", "can_history", *RESOURCE_PERMISSIONS.values()]


def importable_resources(user=None) -> list[str]:
    """The resources ``user`` (default: the current one) may import into, in menu order."""
    user = user if user is not None else current_user()
    return [name for name in IMPORTABLE if has(user, RESOURCE_PERMISSIONS[name], VIEW)]


def resource_info() -> dict[str, dict]:
    """What the scripts need to know of each resource: its name, list and card addresses, and
    whether its records keep custom fields (the JSON column a column "kept into a custom field"
    goes to; only those records offer that choice)."""
    return {name: {"label": str(RESOURCES[name].plural), "grid": f"/grid/{name}/", "card": RESOURCES[name].card_url,
                   "wizard": url_for("ImportView.wizard", resource=name),
                   "custom": "custom_fields" in RESOURCES[name].model.__table__.c} for name in IMPORTABLE}


def _switcher(allowed: list[str]) -> list[dict]:
    return [{"name": name, "label": RESOURCES[name].plural, "url": url_for("ImportView.wizard", resource=name),
             "grid": f"/grid/{name}/"} for name in allowed]


class ImportView(BaseView):
    """The wizard and a batch's page (one component: upload → mapping → preview → result)."""

    route_base = "/import"
    class_permission_name = VIEW
    default_view = "start"
    base_permissions = BASE_PERMISSIONS
    method_permission_name = {"start": "import", "wizard": "import", "batch": "import"}

    @expose("/")
    @has_access
    def start(self):
        allowed = importable_resources()
        if not allowed:
            return redirect(url_for("ImportHistoryView.history"))
        return redirect(url_for("ImportView.wizard", resource=allowed[0]))

    @expose("/<resource>/")
    @has_access
    def wizard(self, resource: str):
        if resource not in IMPORTABLE:
            abort(404)
        allowed = importable_resources()
        if resource not in allowed:
            flash(_l("Your role may not import %(what)s.", what=RESOURCES[resource].plural), "warning")
            return redirect(url_for("ImportView.start") if allowed else url_for("ImportHistoryView.history"))
        return self._render(resource=resource, batch_id=None, allowed=allowed)

    @expose("/batches/<int:batch_id>")
    @has_access
    def batch(self, batch_id: int):
        # Whether the batch exists and may be seen is the API's answer (the one gate); the
        # script shows its message. The resource comes from the batch.
        return self._render(resource="", batch_id=batch_id, allowed=importable_resources())

    def _render(self, resource: str, batch_id: int | None, allowed: list[str]):
        return self.render_template(
            "portal/import.html", resource=resource, batch_id=batch_id, resources=_switcher(allowed),
            can_history=has(current_user(), "can_history", VIEW),
            history_url=url_for("ImportHistoryView.history"), resource_info=resource_info(),
            upload_limit=importer.upload_limit(),
            title=_l("Import Excel"))


class ImportHistoryView(BaseView):
    """Every import batch the user may see (own ones; Custodian and Admin everyone's)."""

    route_base = "/import/history"
    class_permission_name = VIEW  # the same permissions as ImportView (kept identical on purpose)
    default_view = "history"
    base_permissions = BASE_PERMISSIONS
    method_permission_name = {"history": "history"}

    @expose("/")
    @has_access
    def history(self):
        allowed = importable_resources()
        return self.render_template(
            "portal/import_history.html", resources=_switcher(allowed),
            resource_info=resource_info(), can_import=has(current_user(), "can_import", VIEW),
            title=_l("Import history"))


def register(appbuilder, category: str) -> None:
    """The two menu entries under ``category`` (the archive menu). Their menu names are the
    keys roles.json grants ``menu_access`` on."""
    appbuilder.add_view(ImportView, "Import Excel", label=_l("Import Excel"), icon="fa-upload", category=category)
    appbuilder.add_view(ImportHistoryView, "Import history", label=_l("Import history"), icon="fa-history",
                        category=category)
