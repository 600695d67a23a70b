"""The analysis pages (分析): one view serves every analysis of portal/analysis/registry.py —
its page (filter bar, ECharts chart, table with drill-down links), its numbers as JSON and
its table as .xlsx. The numbers are computed by the analysis (SQL, within the user's row
scope); this view only reads the query string and shows results.

Rights (seeds/roles.json, view AnalysisView): can_list opens the index, the pages and their
JSON; can_download takes the .xlsx (logged as an export; the role's export limits apply). An
analysis may need more (its ``needs``, e.g. see_sensitive for the credit analysis): without
it the page is a 403 and it is left out of the index and the menu.
"""
from __future__ import annotations

import datetime as dt
import json
import tempfile
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, jsonify, request, send_file
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup

from portal.analysis import registry
from portal.analysis.registry import Analysis, FilterError, Filters, Result
from portal.excel import limits
from portal.excel.export import ExportColumn, write_table
from portal.extensions import db
from portal.fields import fields_of
from portal.grid.export import attachment
from portal.grid.lookups import label_of
from portal.models import Customer, Region
from portal.models.choices import VALUE_GRADE
from portal.i18n import pick
from portal.security import access_log, scope
from portal.security.permissions import current_user, has

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CATEGORY = "Analyses"


def may_open(analysis: Analysis, user=None) -> bool:
    """Whether ``user`` (default: the request's) holds what the analysis needs beyond can_list."""
    user = user if user is not None else current_user()
    return all(has(user, permission, view) for permission, view in analysis.needs)


def display(value, type_: str) -> str:
    """A table cell as text: numbers grouped by thousands, money with two decimals."""
    if value is None:
        return ""
    if type_ == "money" and isinstance(value, (int, float, Decimal)):
        return f"{Decimal(value):,.2f}"
    if type_ == "decimal" and isinstance(value, (float, Decimal)):
        return f"{Decimal(value):,.2f}".rstrip("0").rstrip(".") if Decimal(value) != Decimal(value).to_integral() \
            else f"{Decimal(value):,.0f}"
    if type_ == "int" and isinstance(value, (int, float, Decimal)):
        return f"{int(value):,}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


class AnalysisView(BaseView):
    route_base = "/analysis"
    default_view = "index"
    base_permissions = ["can_list", "can_download"]
    method_permission_name = {"index": "list", "page": "list", "data": "list", "xlsx": "download"}

    def _analysis(self, key: str) -> Analysis:
        analysis = registry.get(key)
        if analysis is None:
            abort(404)
        if not may_open(analysis):
            access_log.record("denied", "Analysis", key, detail={"via": "analysis"})
            abort(403)
        return analysis

    def _run(self, analysis: Analysis) -> tuple[Filters, Result]:
        filters = Filters.parse(request.args, analysis)
        check_references(filters)
        return filters, analysis.compute(filters, current_user())

    @expose("/")
    @has_access
    def index(self):
        shown = [a for a in registry.analyses() if may_open(a)]
        return self.render_template("portal/analysis_index.html", analyses=shown, title=_("Analyses"))

    @expose("/<key>/")
    @has_access
    def page(self, key: str):
        analysis = self._analysis(key)
        try:
            filters, result = self._run(analysis)
        except FilterError as exc:
            return self._render(analysis, None, None, error=str(exc.message)), 400
        access_log.record("list", "Analysis", key, row_count=len(result.rows),
                          detail={"via": "analysis", "filters": filters.query_args()})
        return self._render(analysis, filters, result)

    @expose("/<key>/data")
    @has_access
    def data(self, key: str):
        analysis = self._analysis(key)
        try:
            filters, result = self._run(analysis)
        except FilterError as exc:
            return jsonify(message=str(exc.message)), 400
        access_log.record("list", "Analysis", key, row_count=len(result.rows),
                          detail={"via": "analysis", "filters": filters.query_args()})
        return jsonify(key=analysis.key, title=str(analysis.title), filters=filters.query_args(),
                       **registry.result_json(result))

    @expose("/<key>/xlsx")
    @has_access
    def xlsx(self, key: str):
        analysis = self._analysis(key)
        try:
            filters, result = self._run(analysis)
        except FilterError as exc:
            return self._render(analysis, None, None, error=str(exc.message)), 400
        rules = limits.rules_for()
        columns = [c for c in result.columns if c.source is None or rules.allows(c.source[0], _spec(c.source))]
        withheld = [c for c in result.columns if c not in columns]
        count, rows = registry.export_rows(result)   # a paged result: every row, streamed
        try:
            rules.check_count(count)
            if not columns:
                raise limits.ExportRefused(_l("Your role may not export any of these columns."), reason="no_columns")
        except limits.ExportRefused as refused:
            limits.log_refusal("analysis", "Analysis", refused, filters=filters.query_args(), analysis=key)
            return self._render(analysis, filters, result, error=str(refused.message)), 403
        stream = tempfile.TemporaryFile()
        written = write_table(
            stream, fmt="xlsx", sheet_name=str(analysis.title),
            columns=[ExportColumn(label=str(c.label), type=c.type) for c in columns],
            rows=([row.get(c.key) for c in columns] for row in rows),
            yes_no=(_("Yes"), _("No")))
        limits.log_export("analysis", "Analysis", written, filters=filters.query_args(), analysis=key,
                          columns=[c.key for c in columns], withheld=[c.key for c in withheld], format="xlsx")
        stream.seek(0)
        response = send_file(stream, mimetype=MIMETYPE, as_attachment=True, download_name=f"analysis-{key}.xlsx")
        response.headers["Content-Disposition"] = attachment(str(analysis.title), f"analysis-{key}", "xlsx")
        return response

    # -- the page ------------------------------------------------------------------------------

    def _render(self, analysis: Analysis, filters: Filters | None, result: Result | None, error: str | None = None):
        args = {k: v for k, v in request.args.items() if v}
        payload = registry.result_json(result) if result is not None else None
        tabs = [p for p in analysis.params if p.tabs and p.kind == "choice"]
        return self.render_template(
            "portal/analysis.html", analysis=analysis, filters=filters, result=result, error=error, args=args,
            tabs=tabs, fields=[p for p in analysis.params if not p.tabs], options=filter_options(analysis),
            labels=registry.filter_labels(),
            payload=Markup(json.dumps(payload, ensure_ascii=False).replace("<", "\\u003c")) if payload else None,
            display=display, can_download=self.appbuilder.sm.has_access("can_download", self.class_permission_name),
            title=str(analysis.title), analyses=[a for a in registry.analyses() if may_open(a)])


def _spec(source):
    model, name = source
    return fields_of(model)[name]


def check_references(filters: Filters) -> None:
    """The region and salesperson filters name rows that exist (else a 400, not an empty page)."""
    if filters.region_id is not None and db.session.get(Region, filters.region_id) is None:
        raise FilterError(_l("%(param)s: there is no such region.", param=registry.filter_labels()["region"]))
    if filters.owner_id is not None:
        user_model = Customer.owner.property.mapper.class_
        if db.session.get(user_model, filters.owner_id) is None:
            raise FilterError(_l("%(param)s: there is no such user.", param=registry.filter_labels()["owner"]))


def filter_options(analysis: Analysis) -> dict:
    """Choices of the filter bar: active regions, the salespeople owning customers in the
    user's scope, the grades."""
    options = {"grade": [(code, pick(zh, en)) for code, zh, en in VALUE_GRADE]}
    if "region" in analysis.uses:
        options["region"] = [(r.id, label_of(r)) for r in db.session.scalars(
            sa.select(Region).where(Region.active.is_(True)).order_by(Region.sort_order, Region.name))]
    if "owner" in analysis.uses:
        user_model = Customer.owner.property.mapper.class_
        owners = scope.scoped(sa.select(Customer.owner_id).where(Customer.owner_id.is_not(None)).distinct(), Customer)
        options["owner"] = [(u.id, label_of(u)) for u in db.session.scalars(
            sa.select(user_model).where(user_model.id.in_(owners)).order_by(user_model.username))]
    return options


def register(appbuilder, category: str = CATEGORY) -> None:
    """The menu 分析: the index first, then one entry per analysis registered so far (shown to
    a role holding can_list on AnalysisView and whatever the analysis needs)."""
    label, icon = _l("Analyses"), "fa-bar-chart"
    view = appbuilder.add_view(AnalysisView, "All analyses", label=_l("All analyses"), icon="fa-th-list",
                               category=category, category_label=label, category_icon=icon)
    _menu_honours_conditions(current_app)
    for analysis in registry.analyses():
        appbuilder.add_link(f"analysis:{analysis.key}", href=f"/analysis/{analysis.key}/", label=analysis.title,
                            icon=analysis.icon, category=category, category_label=label, category_icon=icon,
                            baseview=view, cond=lambda a=analysis: may_open(a))


def _menu_honours_conditions(app) -> None:
    """Flask-AppBuilder's navbar template asks only ``is_menu_visible`` (menu_access), not the
    item's ``cond`` (which its menu API does honour): an analysis whose ``needs`` the user
    lacks would be listed and then refused. Make the filter ask both."""
    original = app.jinja_env.filters.get("is_menu_visible")
    if original is None or getattr(original, "honours_cond", False):
        return

    def is_menu_visible(item):
        return item.should_render() and original(item)

    is_menu_visible.honours_cond = True
    app.jinja_env.filters["is_menu_visible"] = is_menu_visible
