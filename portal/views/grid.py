"""The spreadsheet pages (客户一览表 and the lists of contacts, transactions and visits).

A page is only the frame: the grid script reads its columns from
/api/v1/grid/<resource>/schema and its rows from …/rows, both through the security gate.
Opening a grid needs the same right as opening the resource's list (``can_list`` on its
ModelView), so roles.json grants both at once and the menus follow.
"""
from __future__ import annotations

from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l


class GridPage(BaseView):
    """One resource's grid; subclasses name the resource and the ModelView it stands for."""

    resource = ""
    title = ""
    list_view = ""  # the FAB list kept for printing and FAB's own filters
    default_view = "page"
    method_permission_name = {"page": "list"}
    base_permissions = ["can_list"]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.route_base = f"/grid/{cls.resource}"

    @expose("/")
    @has_access
    def page(self):
        return self.render_template("portal/grid.html", resource=self.resource, title=self.title,
                                    list_view=self.list_view)


def _grid_page(name: str, resource: str, title, list_view: str) -> type[GridPage]:
    """A grid page class (its name is its endpoint) sharing the rights of ``list_view``."""
    return type(name, (GridPage,), {"resource": resource, "title": title, "list_view": list_view,
                                    "class_permission_name": list_view})


GRID_PAGES = {page.list_view: page for page in (
    _grid_page("CustomerGrid", "customer", _l("Customers"), "CustomerView"),
    _grid_page("ContactGrid", "contact", _l("Contacts"), "ContactView"),
    _grid_page("TransactionGrid", "transaction", _l("Transactions"), "TransactionView"),
    _grid_page("VisitGrid", "visit", _l("Visits and calls"), "VisitView"),
)}
