"""The "today" page (今日提醒): a user's reminders — birthdays, replenishments, credit reports
and limits, cards to re-check, customers with no order, open complaints — each linking to
the card and with a button to mark it done; and the same list as .xlsx. The rules live in
portal/services/reminders.py; this view reads the windows from the query string (defaults
in config REMINDER_*), shows results and records what was done.

Rights (seeds/roles.json, view TodayView): can_list opens the page, can_done marks a
reminder done (recorded in reminder_done and the access log), can_download takes the .xlsx
(an export: logged, within the role's export limits; reminders whose dates come from
fields the role may not export are left out of the file and named in the log).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext as _, lazy_gettext as _l

from portal.extensions import db
from portal.fields import FieldType, fields_of
from portal.models import AfterSales, Contact, Customer, ReminderDone
from portal.security import access_log
from portal.security.permissions import current_user
from portal.services import reminders
from portal.services.reminders import KINDS, ReminderError, Settings

from .visits_plan import Column, ParamError, date_arg, xlsx_response

PAGE_LIMIT = 50
# query-string name → Settings field
WINDOWS = {
    "birthday_days": "REMINDER_BIRTHDAY_DAYS", "replenish_days": "REMINDER_REPLENISH_DAYS",
    "credit_days": "REMINDER_CREDIT_DAYS", "stale_months": "REMINDER_STALE_MONTHS",
    "no_order_months": "REMINDER_NO_ORDER_MONTHS",
}
KNOWN = {*WINDOWS, "on", "kind"}
# The field whose values a reminder of each kind shows (the export limits decide on it).
KIND_FIELDS = {
    "birthday": (Customer, "birth_date"), "credit_report": (Customer, "credit_report_date"),
    "credit_limit": (Customer, "credit_limit"), "stale_card": (Customer, "verified_on"),
    "no_order": (Customer, "last_trade_on"), "complaint": (AfterSales, "content"),
}


def default_settings() -> Settings:
    config = current_app.config
    return Settings(**{name: int(config.get(key, getattr(Settings, name))) for name, key in WINDOWS.items()},
                    default_report_months=int(config.get("REMINDER_DEFAULT_REPORT_MONTHS",
                                                         Settings.default_report_months)))


def settings_from(args) -> Settings:
    unknown = sorted(set(args) - KNOWN)
    if unknown:
        raise ParamError(_l("Unknown parameter: %(name)s.", name=unknown[0]))
    values = {}
    for name in WINDOWS:
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        low, high = reminders.BOUNDS[name]
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ParamError(_l("%(field)s: a whole number from %(low)s to %(high)s.", field=window_labels()[name],
                                low=low, high=high))
        values[name] = int(raw)
    from dataclasses import replace

    return replace(default_settings(), **values)


def kinds_from(args) -> tuple[str, ...]:
    chosen = [k for k in args.getlist("kind") if k]
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ParamError(_l("Unknown reminder: %(kind)s.", kind=unknown[0]))
    return tuple(chosen) or KINDS


def window_labels() -> dict[str, str]:
    return {"birthday_days": _("Birthdays in the next … days"), "replenish_days": _("Replenishment in the next … days"),
            "credit_days": _("Credit reports expiring in the next … days"),
            "stale_months": _("Cards not checked for … months"), "no_order_months": _("No order for … months")}


def kind_label(kind: str) -> str:
    return fields_of(ReminderDone)["kind"].choice_label(kind)


def describe(r) -> str:
    """What a reminder asks, as a sentence."""
    if r.kind == "birthday":
        who = r.subject or r.name
        return _("%(who)s's birthday (born %(born)s)", who=who, born=r.since.isoformat())
    if r.kind == "replenish":
        return _("%(product)s bought %(last)s: time to replenish", product=r.subject, last=r.since.isoformat())
    if r.kind == "credit_report":
        return _("Credit report of %(date)s expires", date=r.since.isoformat())
    if r.kind == "credit_limit":
        if r.since is None:
            return _("Credit limit with no credit report: review it")
        return _("Credit limit rests on %(date)s: review it", date=r.since.isoformat())
    if r.kind == "stale_card":
        return _("Card last checked %(date)s: check name, address and phones", date=r.since.isoformat())
    if r.kind == "no_order":
        return _("Last order %(date)s", date=r.since.isoformat())
    return _("Complaint of %(date)s: %(text)s", date=r.since.isoformat(), text=r.subject or "")


def when(r) -> str:
    if r.days == 0:
        return _("today")
    if r.days > 0:
        return _("in %(n)d days", n=r.days)
    return _("%(n)d days ago", n=-r.days)


def export_columns() -> list[Column]:
    specs = fields_of(Customer)
    return [
        Column(_("Reminder"), FieldType.TEXT, lambda r: kind_label(r.kind)),
        Column(_("Date"), FieldType.DATE, lambda r: r.due_on),
        Column(_("Days from today"), FieldType.INT, lambda r: r.days),
        Column(str(specs["number"].label), FieldType.TEXT, lambda r: r.number, "number"),
        Column(str(specs["name"].label), FieldType.TEXT, lambda r: r.name, "name"),
        Column(_("What"), FieldType.TEXT, describe),
    ]


class TodayView(BaseView):
    route_base = "/today"
    default_view = "page"
    base_permissions = ["can_list", "can_done", "can_download"]
    method_permission_name = {"page": "list", "done": "done", "xlsx": "download"}

    def _read(self, args):
        settings = settings_from(args)
        return settings, kinds_from(args), date_arg(args, "on", dt.date.today())

    def _render(self, result, args, error=None, status=200):
        may_done = self.appbuilder.sm.has_access("can_done", self.class_permission_name)
        may_download = self.appbuilder.sm.has_access("can_download", self.class_permission_name)
        return self.render_template(
            "portal/today.html", result=result, args=args, error=error, kinds=KINDS, kind_label=kind_label,
            describe=describe, when=when, window_labels=window_labels(), bounds=reminders.BOUNDS,
            defaults=default_settings(), limit=PAGE_LIMIT, may_done=may_done, may_download=may_download,
            title=_("Today")), status

    @expose("/", methods=["GET"])
    @has_access
    def page(self):
        try:
            settings, kinds, on = self._read(request.args)
        except ParamError as exc:
            return self._render(None, request.args, str(exc.message), 400)
        result = reminders.for_user(db.session, current_user(), on, settings, kinds=kinds, limit=PAGE_LIMIT)
        access_log.record("list", "Reminder", row_count=result.total,
                          detail={"via": "today", "on": on.isoformat(), "counts": result.counts})
        return self._render(result, request.args)

    @expose("/done", methods=["POST"])
    @has_access
    def done(self):
        form = request.form
        back = form.get("next") or ""
        target = back if back.startswith("/today") else url_for("TodayView.page")
        try:
            kind = form.get("kind") or ""
            if kind not in KINDS:
                raise ParamError(_l("Unknown reminder: %(kind)s.", kind=kind))
            customer_id, subject_id = (form.get("customer") or ""), (form.get("subject") or "0")
            if not customer_id.isdigit() or not subject_id.isdigit():
                raise ParamError(_l("This reminder is not one of yours, or it is done already."))
            occurrence = date_arg(form, "occurrence", None)
            on = date_arg(form, "on", dt.date.today())
            if on > dt.date.today():
                raise ParamError(_l("A reminder cannot be done in the future."))
            done = reminders.mark_done(db.session, current_user(), on, kind, int(customer_id), int(subject_id),
                                       occurrence, settings=default_settings())
        except ParamError as exc:
            return self._render(None, request.args, str(exc.message), 400)
        except ReminderError:
            db.session.rollback()
            flash(_("This reminder is not one of yours, or it is done already."), "warning")
            return redirect(target, 303)
        try:
            db.session.commit()
        except sa.exc.IntegrityError:   # someone marked it done at the same moment
            db.session.rollback()
            flash(_("This reminder is not one of yours, or it is done already."), "warning")
            return redirect(target, 303)
        access_log.record("reminder_done", "Customer", done.customer_id, detail={
            "kind": done.kind, "subject": done.subject_id, "occurrence": done.occurrence.isoformat()})
        flash(_("Done: %(what)s", what=kind_label(done.kind)), "success")
        return redirect(target, 303)

    @expose("/xlsx", methods=["GET"])
    @has_access
    def xlsx(self):
        try:
            settings, kinds, on = self._read(request.args)
        except ParamError as exc:
            return self._render(None, request.args, str(exc.message), 400)
        from portal.excel import limits

        rules = limits.rules_for()
        allowed_kinds = tuple(k for k in kinds if k not in KIND_FIELDS
                              or rules.allows(KIND_FIELDS[k][0], fields_of(KIND_FIELDS[k][0])[KIND_FIELDS[k][1]]))
        contact_birthdays_out = not rules.allows(Contact, fields_of(Contact)["birth_date"])
        items = []
        if allowed_kinds:   # (no kinds at all would mean every kind to the service)
            result = reminders.for_user(db.session, current_user(), on, settings, kinds=allowed_kinds)
            items = [r for r in result.all() if not (contact_birthdays_out and r.kind == "birthday" and r.subject_id)]
        filters = {"on": on.isoformat(), **{k: getattr(settings, k) for k in WINDOWS},
                   "kinds": list(allowed_kinds), "kinds_withheld": [k for k in kinds if k not in allowed_kinds]}
        return xlsx_response("reminders", "Reminder", _("Reminders"), f"reminders-{on:%Y%m%d}", export_columns(),
                             items, filters, back="TodayView.page")


def register(appbuilder, category: str) -> None:
    appbuilder.add_view(TodayView, "Today", label=_l("Today"), icon="fa-bell", category=category)
