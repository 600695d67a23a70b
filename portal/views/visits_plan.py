"""Visit plans (客户访问管理表): the rules as an editable list, each person's contacts due this
week and overdue, the day's route in 路序 (printable), and the compliance report. The
numbers come from portal/services/visit_plan.py (SQL, within the user's row scope); these
views read the query string, show results and write the .xlsx.

Rights (seeds/roles.json): VisitRuleView — r reads the rules, w edits them (Custodian, Sales
manager); VisitPlanView — can_list the due list and the route, can_download their .xlsx;
VisitComplianceView — can_list the report, can_download its .xlsx. Every page is logged in
the access log; downloads are logged as exports and follow the role's export limits.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l

from portal.analysis.registry import FilterError, Page
from portal.excel import limits
from portal.excel.export import ExportColumn, write_table
from portal.extensions import db
from portal.fields import FieldType, fields_of
from portal.grid.export import attachment
from portal.grid.lookups import label_of
from portal.models import Customer, Region, Route, User, VisitRule
from portal.security import access_log, scope
from portal.security.permissions import current_user
from portal.services import visit_plan
from portal.services.visit_plan import PlanError

from .base import ArchiveModelView

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROUTE_LIMIT = 2000          # the route's .xlsx
DUE_PAGE_SIZE = 100         # rows a page of the due list (offset in SQL; the .xlsx has every row)
ROUTE_PAGE_SIZE = 200       # rows a page of the route (and of its printable copy)


class VisitRuleView(ArchiveModelView):
    """The rules as data: a manager changes a frequency here, the plans follow at once."""

    noun, plural = _l("Visit rule"), _l("Visit rules")
    model = VisitRule
    base_order = ("visitor_role", "asc")
    list_columns = ["visitor_role", "grade", "schedule", "visits_min", "visits_max", "calls_min", "calls_max",
                    "interval_min_months", "interval_max_months", "note", "active"]


class ParamError(ValueError):
    """A query-string value that is not what the page takes (answered with 400)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _param_message(exc: Exception) -> str:
    """What the page says of a bad request: ParamError's message; PlanError carries none (the
    service raises it only for a role it does not know)."""
    return str(getattr(exc, "message", _("Choose a visitor's role from the list.")))


# -- reading the query string -----------------------------------------------------------------

KNOWN_PARAMS = {"on", "role", "person", "grade", "region", "route", "all", "print", "start", "end", "page"}


def check_known(args, known=KNOWN_PARAMS) -> None:
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ParamError(_l("Unknown parameter: %(name)s.", name=unknown[0]))


def date_arg(args, name: str, default: dt.date) -> dt.date:
    value = (args.get(name) or "").strip()
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ParamError(_l("%(value)s is not a date (YYYY-MM-DD).", value=value))


def int_arg(args, name: str) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ParamError(_l("%(value)s is not a number.", value=value))
    return int(value)


def flag_arg(args, name: str) -> bool:
    value = (args.get(name) or "").strip().lower()
    if value in ("", "0", "no", "false"):
        return False
    if value in ("1", "yes", "true", "on"):
        return True
    raise ParamError(_l("%(value)s is not yes or no.", value=value))


def page_arg(args, size: int) -> Page:
    try:
        return Page.parse(args.get("page"), size)
    except FilterError as exc:
        raise ParamError(exc.message)


def page_url(endpoint: str, args):
    """page number → the address of that page with the request's other filters kept."""
    kept = {k: v for k, v in args.items() if k != "page" and v}
    return lambda number: url_for(endpoint, **kept, page=number)


def role_arg(args, user) -> str:
    value = (args.get("role") or "").strip()
    if not value:
        return visit_plan.role_key_of(user, role_map()) or "salesperson"
    if value not in visit_plan.ROLE_KEYS:
        raise ParamError(_l("Choose a visitor's role from the list."))
    return value


def grade_arg(args) -> str | None:
    value = (args.get("grade") or "").strip()
    if not value:
        return None
    if value not in {c.code for c in fields_of(Customer)["value_grade"].choices}:
        raise ParamError(_l("Choose a grade from the list."))
    return value


def code_arg(args, name: str, model) -> int | None:
    pk = int_arg(args, name)
    if pk is not None and db.session.get(model, pk) is None:
        raise ParamError(_l("Choose a region and a route from the lists."))
    return pk


def role_map() -> dict:
    return current_app.config.get("VISIT_RULE_ROLES") or visit_plan.DEFAULT_ROLE_MAP


def role_label(key: str) -> str:
    return fields_of(VisitRule)["visitor_role"].choice_label(key)


def role_options():
    return [(c.code, c.label) for c in fields_of(VisitRule)["visitor_role"].choices]


def grade_options():
    return [(c.code, c.label) for c in fields_of(Customer)["value_grade"].choices]


def people_in_scope(user) -> list[tuple[int, str]]:
    """The salespeople owning customers the user sees (the person filter's choices)."""
    query = sa.select(Customer.owner_id).where(Customer.owner_id.is_not(None)).distinct()
    condition = scope.customer_condition(user)
    if condition is not None:
        query = query.where(condition)
    ids = [i for i in db.session.scalars(query)]
    if not ids:
        return []
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids))).all()
    return sorted(((u.id, _person(u)) for u in users), key=lambda p: p[1])


def _person(u) -> str:
    return f"{u.last_name or ''}{u.first_name or ''}".strip() or u.username


def rule_text(rule: visit_plan.Rule | None) -> str:
    """A rule as people say it: "visit 3×, call 2–3× a month", "visit every 1–2 months"."""
    if rule is None:
        return ""

    def span(low, high):
        return str(low) if low == high else f"{low}–{high}"

    parts = []
    if rule.schedule == "monthly":
        if rule.visits:
            parts.append(_("visit %(n)s× a month", n=span(rule.visits.low, rule.visits.high)))
        if rule.calls:
            parts.append(_("call %(n)s× a month", n=span(rule.calls.low, rule.calls.high)))
    elif rule.visits:
        parts.append(_("visit every %(n)s months", n=span(rule.visits.high, rule.visits.low)))
    return _(", ").join(parts)


def status_labels() -> dict[str, str]:
    return {"never": _("Never contacted"), "overdue": _("Overdue"), "due": _("Due this week"), "ok": _("On track")}


# -- .xlsx ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    label: str
    type: FieldType
    value: Callable
    field: str | None = None     # the Customer field the values come from (export limits)


def allowed(columns: list[Column], rules) -> tuple[list[Column], list[Column]]:
    specs = fields_of(Customer)
    kept = [c for c in columns if c.field is None or rules.allows(Customer, specs[c.field])]
    return kept, [c for c in columns if c not in kept]


def xlsx_response(kind: str, object_type: str, title: str, ascii_name: str, columns: list[Column], items,
                  filters: dict, back: str, count: int | None = None):
    """The items as .xlsx within the role's export limits, logged — or, refused, back to the
    page (endpoint ``back``, same arguments) with the reason, as the lists and the grid do.
    ``items`` may be a generator (written as it comes): without ``count`` it is then cut off
    with the refusal as soon as it passes the role's row cap."""
    rules = limits.rules_for()
    kept, withheld = allowed(columns, rules)
    stream = tempfile.TemporaryFile()
    try:
        if count is not None or isinstance(items, (list, tuple)):
            rules.check_count(len(items) if count is None else count)
        if not kept:
            raise limits.ExportRefused(_l("Your role may not export any of these columns."), reason="no_columns")
        written = write_table(stream, fmt="xlsx", sheet_name=title,
                              columns=[ExportColumn(label=c.label, type=c.type) for c in kept],
                              rows=([c.value(item) for c in kept] for item in rules.capped(items)),
                              yes_no=(_("Yes"), _("No")))
    except limits.ExportRefused as refused:
        stream.close()
        limits.log_refusal(kind, object_type, refused, filters=filters)
        flash(str(refused.message), "warning")
        return redirect(url_for(back, **request.args.to_dict(flat=False)))
    limits.log_export(kind, object_type, written, filters=filters, columns=[c.label for c in kept],
                      withheld=[c.label for c in withheld], format="xlsx")
    stream.seek(0)
    response = send_file(stream, mimetype=MIMETYPE, as_attachment=True, download_name=f"{ascii_name}.xlsx")
    response.headers["Content-Disposition"] = attachment(title, ascii_name, "xlsx")
    return response


def plan_columns(statuses: dict) -> list[Column]:
    specs = fields_of(Customer)

    def track(name, attr):
        return lambda r: getattr(getattr(r, name), attr) if getattr(r, name) is not None else None

    return [
        Column(_("Salesperson / visitor"), FieldType.TEXT, lambda r: r.person),
        Column(str(specs["number"].label), FieldType.TEXT, lambda r: r.number, "number"),
        Column(str(specs["name"].label), FieldType.TEXT, lambda r: r.name, "name"),
        Column(str(specs["value_grade"].label), FieldType.TEXT, lambda r: r.grade, "value_grade"),
        Column(_("Status"), FieldType.TEXT, lambda r: statuses[r.status]),
        Column(str(specs["region_id"].label), FieldType.TEXT, lambda r: r.region, "region_id"),
        Column(str(specs["route_id"].label), FieldType.TEXT, lambda r: r.route, "route_id"),
        Column(str(specs["route_order"].label), FieldType.INT, lambda r: r.route_order, "route_order"),
        Column(_("Address"), FieldType.TEXT, lambda r: r.address, "street"),
        Column(str(specs["phone"].label), FieldType.PHONE, lambda r: r.phone, "phone"),
        Column(str(specs["mobile"].label), FieldType.MOBILE, lambda r: r.mobile, "mobile"),
        Column(_("Last visit"), FieldType.DATE, track("visit", "last")),
        Column(_("Next visit from"), FieldType.DATE, track("visit", "due_from")),
        Column(_("Next visit by"), FieldType.DATE, track("visit", "due_by")),
        Column(_("Visit overdue (days)"), FieldType.INT, track("visit", "overdue_days")),
        Column(_("Last call"), FieldType.DATE, track("call", "last")),
        Column(_("Next call from"), FieldType.DATE, track("call", "due_from")),
        Column(_("Next call by"), FieldType.DATE, track("call", "due_by")),
        Column(_("Call overdue (days)"), FieldType.INT, track("call", "overdue_days")),
    ]


# -- the pages --------------------------------------------------------------------------------

class VisitPlanView(BaseView):
    """Who is due or overdue for a visit or a call, and the day's route."""

    route_base = "/visitplan"
    default_view = "due"
    base_permissions = ["can_list", "can_download"]
    method_permission_name = {"due": "list", "route": "list", "due_xlsx": "download", "route_xlsx": "download"}

    def _error(self, template: str, message, **context):
        return self.render_template(template, error=str(message), **self._options(), **context), 400

    def _options(self) -> dict:
        return {"roles": role_options(), "grades": grade_options(), "statuses": status_labels(),
                "role_label": role_label, "rule_text": rule_text}

    def _due_filters(self, args) -> dict:
        check_known(args)
        user = current_user()
        return {"on": date_arg(args, "on", dt.date.today()), "role": role_arg(args, user),
                "person": int_arg(args, "person"), "grade": grade_arg(args)}

    @staticmethod
    def _logged(filters: dict) -> dict:
        return {**filters, "on": filters["on"].isoformat()}

    @expose("/", methods=["GET"])
    @has_access
    def due(self):
        try:
            filters = self._due_filters(request.args)
            page = page_arg(request.args, DUE_PAGE_SIZE)
            plan = visit_plan.due(db.session, current_user(), filters["on"], role_key=filters["role"],
                                  person_id=filters["person"], grade=filters["grade"], role_map=role_map(),
                                  limit=page.size, offset=page.offset)
        except (ParamError, PlanError) as exc:
            return self._due_error(exc)
        access_log.record("list", "VisitPlan", row_count=plan.total,
                          detail={"via": "visit_plan", "filters": self._logged(filters), "page": page.number})
        return self.render_template("portal/visit_due.html", plan=plan, rows=plan.rows, counts=plan.status_counts,
                                    page=page.of(plan.total), page_url=page_url("VisitPlanView.due", request.args),
                                    args={k: v for k, v in request.args.items() if k != "page"},
                                    people=people_in_scope(current_user()), error=None, title=_("Visits due"),
                                    **self._options())

    @expose("/due.xlsx", methods=["GET"])
    @has_access
    def due_xlsx(self):
        """Every row of the due list (not a page), streamed from the database into the file."""
        try:
            filters = self._due_filters(request.args)
            rows = visit_plan.iter_due(db.session, current_user(), filters["on"], role_key=filters["role"],
                                       person_id=filters["person"], grade=filters["grade"], role_map=role_map())
        except (ParamError, PlanError) as exc:
            return self._due_error(exc)
        return xlsx_response("visit_plan", "VisitPlan", _("Visits due"), f"visits-due-{filters['on']:%Y%m%d}",
                             plan_columns(status_labels()), rows, self._logged(filters), back="VisitPlanView.due")

    def _due_error(self, exc):
        return self._error("portal/visit_due.html", _param_message(exc), plan=None, args=request.args, people=[])

    def _route_error(self, exc):
        return self._error("portal/visit_route.html", _param_message(exc), result=None, args=request.args, people=[],
                           regions=[], routes=[])

    def _route(self, args, page: Page | None):
        check_known(args)
        user = current_user()
        on = date_arg(args, "on", dt.date.today())
        role = role_arg(args, user)
        filters = {"on": on.isoformat(), "role": role, "person": int_arg(args, "person"),
                   "region": code_arg(args, "region", Region), "route": code_arg(args, "route", Route),
                   "all": flag_arg(args, "all")}
        limit, offset = (page.size, page.offset) if page is not None else (ROUTE_LIMIT, 0)
        result = visit_plan.route(db.session, user, on, region_id=filters["region"], route_id=filters["route"],
                                  role_key=role, person_id=filters["person"], only_due=not filters["all"],
                                  limit=limit, offset=offset, role_map=role_map())
        return result, filters

    @expose("/route", methods=["GET"])
    @has_access
    def route(self):
        try:
            page = page_arg(request.args, ROUTE_PAGE_SIZE)
            result, filters = self._route(request.args, page)
            printing = flag_arg(request.args, "print")
        except (ParamError, PlanError) as exc:
            return self._route_error(exc)
        access_log.record("list", "VisitRoute", row_count=result.total,
                          detail={"via": "visit_route", "filters": filters, "page": page.number})
        page = page.of(result.total)
        context = dict(result=result, args=request.args, error=None, page=page, title=_("Visit route"),
                       page_url=page_url("VisitPlanView.route", request.args), **self._options())
        if printing:
            from portal.i18n import current_language

            return self.render_template("portal/visit_route_print.html", lang="en" if current_language() == "en" else "zh-CN",
                                        **context)
        regions = [(r.id, label_of(r)) for r in db.session.scalars(
            sa.select(Region).where(Region.active.is_(True)).order_by(Region.sort_order, Region.name))]
        routes = [(r.id, label_of(r), r.region_id) for r in db.session.scalars(
            sa.select(Route).where(Route.active.is_(True)).order_by(Route.sort_order, Route.name))]
        return self.render_template("portal/visit_route.html", people=people_in_scope(current_user()),
                                    regions=regions, routes=routes, **context)

    @expose("/route.xlsx", methods=["GET"])
    @has_access
    def route_xlsx(self):
        try:
            result, filters = self._route(request.args, None)
        except (ParamError, PlanError) as exc:
            return self._route_error(exc)
        return xlsx_response("visit_route", "VisitRoute", _("Visit route"), f"visit-route-{result.on:%Y%m%d}",
                             plan_columns(status_labels()), result.rows, filters, back="VisitPlanView.route")


def compliance_columns() -> list[Column]:
    grade = fields_of(Customer)["value_grade"]
    return [
        Column(_("Salesperson / visitor"), FieldType.TEXT, lambda r: r.person),
        Column(str(grade.label), FieldType.TEXT, lambda r: grade.choice_label(r.grade) if r.grade else _("All grades")),
        Column(_("Customers"), FieldType.INT, lambda r: r.customers),
        Column(_("Visits planned"), FieldType.DECIMAL, lambda r: r.visits_planned),
        Column(_("Visits planned (at most)"), FieldType.DECIMAL, lambda r: r.visits_planned_max),
        Column(_("Visits done"), FieldType.INT, lambda r: r.visits_done),
        Column(_("Visits done within plan"), FieldType.DECIMAL, lambda r: r.visits_covered),
        Column(_("Visits %"), FieldType.DECIMAL, lambda r: r.visits_percent),
        Column(_("Calls planned"), FieldType.DECIMAL, lambda r: r.calls_planned),
        Column(_("Calls planned (at most)"), FieldType.DECIMAL, lambda r: r.calls_planned_max),
        Column(_("Calls done"), FieldType.INT, lambda r: r.calls_done),
        Column(_("Calls done within plan"), FieldType.DECIMAL, lambda r: r.calls_covered),
        Column(_("Calls %"), FieldType.DECIMAL, lambda r: r.calls_percent),
    ]


class VisitComplianceView(BaseView):
    """Planned vs done visits and calls per person and grade, over a period."""

    route_base = "/visitcompliance"
    default_view = "report"
    base_permissions = ["can_list", "can_download"]
    method_permission_name = {"report": "list", "xlsx": "download"}

    def _report(self, args):
        check_known(args)
        user = current_user()
        today = dt.date.today()
        start = date_arg(args, "start", today.replace(day=1))
        end = date_arg(args, "end", today)
        if end < start:
            raise ParamError(_l("The period ends before it starts."))
        if (end - start).days + 1 > visit_plan.MAX_PERIOD_DAYS:
            raise ParamError(_l("Choose a period of at most three years."))
        role = (args.get("role") or "").strip() or "salesperson"
        if role not in visit_plan.ROLE_KEYS:
            raise ParamError(_l("Choose a visitor's role from the list."))
        person = int_arg(args, "person")
        report = visit_plan.compliance(db.session, user, start, end, role_key=role, person_id=person,
                                       role_map=role_map())
        return report, {"start": start.isoformat(), "end": end.isoformat(), "role": role, "person": person}

    @staticmethod
    def _options() -> dict:
        return {"roles": role_options(), "role_label": role_label, "rule_text": rule_text,
                "grade_label": fields_of(Customer)["value_grade"].choice_label}

    def _report_error(self, exc):
        return self.render_template("portal/visit_compliance.html", report=None, args=request.args,
                                    error=str(exc.message), people=[], **self._options()), 400

    @expose("/", methods=["GET"])
    @has_access
    def report(self):
        try:
            report, filters = self._report(request.args)
        except ParamError as exc:
            return self._report_error(exc)
        access_log.record("list", "VisitCompliance", row_count=len(report.rows),
                          detail={"via": "visit_compliance", "filters": filters})
        return self.render_template("portal/visit_compliance.html", report=report, args=request.args, error=None,
                                    people=people_in_scope(current_user()), title=_("Visit compliance"),
                                    months=float(report.months), **self._options())

    @expose("/xlsx", methods=["GET"])
    @has_access
    def xlsx(self):
        try:
            report, filters = self._report(request.args)
        except ParamError as exc:
            return self._report_error(exc)
        items = [*report.rows, *report.totals]
        # The sheet's name says what the page's note says: the grades are today's, not the period's.
        return xlsx_response("visit_compliance", "VisitCompliance", _("Compliance by current grade"),
                             f"visit-compliance-{report.start:%Y%m%d}-{report.end:%Y%m%d}", compliance_columns(),
                             items, filters, back="VisitComplianceView.report")


def register(appbuilder, category: str, rules_category: str) -> None:
    """The menu entries: the due list and the compliance report under ``category`` (sales
    activity), the rules under ``rules_category`` (codes)."""
    appbuilder.add_view(VisitPlanView, "Visits due", label=_l("Visits due"), icon="fa-calendar-check-o",
                        category=category)
    appbuilder.add_view(VisitComplianceView, "Visit compliance", label=_l("Visit compliance"), icon="fa-line-chart",
                        category=category)
    appbuilder.add_view(VisitRuleView, "Visit rules", label=_l("Visit rules"), icon="fa-calendar",
                        category=rules_category)
