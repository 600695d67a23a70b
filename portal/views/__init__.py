"""Registers the portal's views and menus on an AppBuilder, grouped for a clerk's day."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import analyses, archive, audit, campaigns, catalog, imports
from . import today, visits_plan
from . import classification  # noqa: E402  (registers the ABC, matrix, relationship and RFM analyses)
# Modules that register analysis pages and drill-downs (portal/analysis/registry.py), imported
# before the menu 分析 is built.
from portal.analysis import composition, credit, lifecycle  # noqa: F401,E402
from .grid import GRID_PAGES

# (view, menu name, label, icon); menu names are stable keys used by role permissions.
ARCHIVE_MENU = (
    (archive.CustomerView, "Customers", _l("Customers"), "fa-address-card"),
    (archive.ContactView, "Contacts", _l("Contacts"), "fa-user"),
    (archive.PurchaseProjectView, "Purchase projects", _l("Purchase projects"), "fa-briefcase"),
    (archive.CompetitorPresenceView, "Competitors", _l("Competitors"), "fa-flag"),
)
ACTIVITY_MENU = (
    (archive.TransactionView, "Transactions", _l("Transactions"), "fa-shopping-cart"),
    (archive.AfterSalesView, "After-sales", _l("After-sales"), "fa-wrench"),
    (archive.VisitView, "Visits and calls", _l("Visits and calls"), "fa-phone"),
    (archive.PromotionView, "Promotions", _l("Promotions"), "fa-bullhorn"),
    (archive.PromotionTargetView, "Promotion targets", _l("Promotion targets"), "fa-crosshairs"),
)
CATALOG_MENU = (
    (catalog.ProductView, "Products", _l("Products"), "fa-cube"),
    (catalog.SalesTeamView, "Sales teams", _l("Sales teams"), "fa-users"),
    (catalog.RegionView, "Regions", _l("Regions"), "fa-map"),
    (catalog.RouteView, "Routes", _l("Routes"), "fa-road"),
    (catalog.IndustryView, "Industries", _l("Industries"), "fa-industry"),
    (catalog.SourceView, "Customer sources", _l("Customer sources"), "fa-sign-in"),
    (catalog.OwnershipTypeView, "Ownership types", _l("Ownership types"), "fa-building"),
    (catalog.ChannelTypeView, "Channel types", _l("Channel types"), "fa-truck"),
    (catalog.TagView, "Tags", _l("Tags"), "fa-tag"),
    (catalog.ProductCategoryView, "Product categories", _l("Product categories"), "fa-folder"),
    (catalog.PriceListView, "Price lists", _l("Price lists"), "fa-money"),
)
AUDIT_MENU = (
    (audit.AccessLogView, "Access log", _l("Access log"), "fa-eye"),
    (audit.ChangeLogView, "Change history", _l("Change history"), "fa-history"),
)
MENUS = (
    ("Archive", _l("Customer archive"), "fa-archive", ARCHIVE_MENU),
    ("Activity", _l("Sales activity"), "fa-calendar", ACTIVITY_MENU),
    ("Catalog", _l("Products and codes"), "fa-list", CATALOG_MENU),
    ("Audit", _l("Audit"), "fa-shield", AUDIT_MENU),
)
NO_MENU = (archive.TransactionLineView, archive.LifecycleEventView, archive.ReferralView)


def register_views(appbuilder) -> None:
    for category, category_label, category_icon, items in MENUS:
        for view, name, label, icon in items:
            # Where a grid exists, the menu opens it: clerks work in the spreadsheet; the
            # generated list stays one click away (its filters, printing).
            grid = GRID_PAGES.get(view.__name__)
            href = f"/grid/{grid.resource}/" if grid is not None else ""
            appbuilder.add_view(view, name, href=href, label=label, icon=icon, category=category,
                                category_label=category_label, category_icon=category_icon)
    imports.register(appbuilder, category="Archive")
    archive.register_archive_export(appbuilder, category="Archive")
    campaigns.register(appbuilder, category="Activity")
    today.register(appbuilder, category="Activity")
    visits_plan.register(appbuilder, category="Activity", rules_category="Catalog")
    analyses.register(appbuilder)
    classification.register_views(appbuilder, category=analyses.CATEGORY)
    for view in NO_MENU:
        appbuilder.add_view_no_menu(view)
    for page in GRID_PAGES.values():
        appbuilder.add_view_no_menu(page)


def install_download_guard(app) -> None:
    """FAB gives every model view a /download/<file> route for file columns (the archive has
    none). After its permission check, its handler fails with a server error on a name it
    did not generate or a file that is not there: answer 404 for those instead."""
    from flask import request
    from werkzeug.exceptions import NotFound

    def not_found_on_download(exc):
        if (request.endpoint or "").endswith(".download"):
            return NotFound()
        raise exc

    app.register_error_handler(FileNotFoundError, not_found_on_download)
    app.register_error_handler(IndexError, not_found_on_download)
