"""The archive's views: the customer card and the records around it."""
from __future__ import annotations

import datetime as dt
import tempfile

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
import sqlalchemy as sa
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired

from portal.extensions import db
from portal.fields import FieldInvalid, FieldSpec, FieldType, clean, fields_of
from portal.models import (
    AfterSales, CompetitorPresence, Contact, Customer, LifecycleEvent, Promotion, PromotionTarget, PurchaseProject,
    Transaction, TransactionLine, Visit,
)
from portal.context import changes_from
from portal.excel import archive as archive_export
from portal.excel.limits import ExportRefused, log_refusal
from portal.security import access_log, scope
from portal.services import archive, assignment, lifecycle, referrals, verification

from .audit import ChangeLogView
from .base import ArchiveModelView

SHOW_WITH_TABS = "appbuilder/general/model/show_cascade.html"
EDIT_WITH_TABS = "appbuilder/general/model/edit_cascade.html"


class ContactView(ArchiveModelView):
    noun, plural = _l("Contact"), _l("Contacts")
    model = Contact
    extra_list_columns = ("phone", "email")


class TransactionLineView(ArchiveModelView):
    noun, plural = _l("Transaction line"), _l("Transaction lines")
    model = TransactionLine


class TransactionView(ArchiveModelView):
    noun, plural = _l("Transaction"), _l("Transactions")
    model = Transaction
    related_views = [TransactionLineView]
    show_template = SHOW_WITH_TABS
    edit_template = EDIT_WITH_TABS
    base_order = ("trade_date", "desc")


class AfterSalesView(ArchiveModelView):
    noun, plural = _l("After-sales record"), _l("After-sales")
    model = AfterSales
    base_order = ("occurred_on", "desc")


class VisitView(ArchiveModelView):
    noun, plural = _l("Visit or call"), _l("Visits and calls")
    model = Visit
    base_order = ("visited_on", "desc")


class PromotionTargetView(ArchiveModelView):
    noun, plural = _l("Promotion target"), _l("Promotion targets")
    model = PromotionTarget


class PromotionView(ArchiveModelView):
    noun, plural = _l("Promotion"), _l("Promotions")
    model = Promotion
    related_views = [PromotionTargetView]
    show_template = SHOW_WITH_TABS
    edit_template = EDIT_WITH_TABS
    base_order = ("starts_at", "desc")


class LifecycleEventView(ArchiveModelView):
    """The card's stage history; written by the lifecycle rules only."""

    noun, plural = _l("Stage change"), _l("Lifecycle history")
    model = LifecycleEvent
    base_permissions = ["can_list", "can_show"]
    base_order = ("occurred_on", "desc")


class PurchaseProjectView(ArchiveModelView):
    noun, plural = _l("Purchase project"), _l("Purchase projects")
    model = PurchaseProject


class CompetitorPresenceView(ArchiveModelView):
    noun, plural = _l("Competitor"), _l("Competitors")
    model = CompetitorPresence


class NoReferralLoop:
    """The referrer chosen on a card cannot be the customer itself or one it referred."""

    def __call__(self, form, field) -> None:
        editing = getattr(form, "_id", None)
        if referrals.would_loop(int(editing) if editing is not None else None, field.data):
            raise ValidationError(str(_l("A customer cannot be referred by itself or by a customer it referred.")))


class ReassignForm(DynamicForm):
    from_user = SelectField(_l("Customers of"), coerce=int, validators=[DataRequired()])
    to_users = SelectMultipleField(_l("Give them to"), coerce=int, validators=[DataRequired()])
    deactivate = BooleanField(_l("The person is leaving: deactivate the user"), default=True)


class FormerCustomerForm(DynamicForm):
    reason = TextAreaField(_l("Reason for stopping"), validators=[DataRequired()])
    stopped_on = StringField(_l("Stopped on"))


class ReferralView(ArchiveModelView):
    """The customers a customer brought in (客户推荐): the next link of its referral chain."""

    model = Customer
    noun, plural = _l("Referred customer"), _l("Referred customers")
    list_columns = ["number", "name", "stage", "owner", "acquired_on"]
    base_permissions = ["can_list"]


class CustomerView(ArchiveModelView):
    """客户档案卡: the card's sections as fieldsets, its related records as tabs."""

    noun, plural = _l("Customer"), _l("Customers")
    model = Customer
    related_views = [
        ContactView, TransactionView, AfterSalesView, VisitView, PromotionTargetView,
        PurchaseProjectView, CompetitorPresenceView, ReferralView, LifecycleEventView, ChangeLogView,
    ]
    show_template = "portal/customer_show.html"
    list_template = "portal/customer_list.html"
    edit_template = EDIT_WITH_TABS
    base_order = ("number", "desc")
    # (Not referred_by: its filter would list every customer in a dropdown on every page.)
    extra_search_columns = ("city", "customer_type", "source", "industry", "team", "is_core", "verified_on")
    extra_validators = {"referred_by": [NoReferralLoop()]}

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            customer = self.datamodel.get(kwargs["pk"], self._base_filters)
            if customer is not None:
                stage = fields_of(Customer)["stage"]
                kwargs.update(stage_label=stage.choice_label(customer.stage), stage_since=customer.stage_since)
        return super().render_template(template, **kwargs)

    @action("verify", _l("Mark verified"), _l("Mark the selected cards as checked by you today?"), "fa-check")
    def verify(self, items):
        """档案审查: stamp the selected cards as verified by the current user today."""
        items = items if isinstance(items, list) else [items]
        if not items or any(item is None for item in items):
            abort(404)  # a card outside the user's scope, or none at all
        for customer in items:
            verification.verify(customer)
        db.session.commit()
        flash(str(_l("%(n)d cards marked verified.", n=len(items))), "success")
        self.update_redirect()
        return redirect(self.get_redirect())

    def _delete(self, pk):
        """Purge (custodian only, by permission): the customer and everything recorded about
        it go, each deletion kept in the change history and the purge in the access log."""
        customer = self.datamodel.get(pk, self._base_filters)
        if customer is None:
            abort(404)
        label = str(customer)
        archive.purge_and_log(db.session, customer)
        flash(str(_l("%(customer)s and its records were deleted for good.", customer=label)), "success")

    @expose("/reassign", methods=["GET", "POST"])
    @has_access
    def reassign(self):
        """Move a leaving salesperson's customers (optionally split among several people)."""
        from flask import g

        sm = self.appbuilder.sm
        users = [u for u in db.session.scalars(sa.select(sm.user_model).order_by(sm.user_model.username))]
        team_only = scope.kind(g.user) != "all"
        if team_only:
            allowed = assignment.managed_user_ids(db.session, g.user.id)
            users = [u for u in users if u.id in allowed]
        form = ReassignForm()
        form.from_user.choices = [(u.id, f"{u.get_full_name()} ({u.username})") for u in users]
        form.to_users.choices = [(u.id, f"{u.get_full_name()} ({u.username})") for u in users if u.active]
        if request.method == "POST" and form.validate():
            by_id = {u.id: u for u in users}
            try:
                with changes_from("reassign"):
                    moved = assignment.reassign(db.session, by_id[form.from_user.data],
                                                [by_id.get(i) for i in form.to_users.data],
                                                deactivate=form.deactivate.data)
                    db.session.commit()
            except assignment.AssignmentError as exc:
                db.session.rollback()
                flash(str(exc.message), "danger")
            else:
                total = sum(moved.values())
                access_log.record("reassign", "User", form.from_user.data, row_count=total,
                                  detail={"to": moved, "deactivated": form.deactivate.data})
                flash(str(_l("%(n)d customers were reassigned.", n=total)), "success")
                return redirect(url_for("CustomerView.list"))
        return self.render_template("portal/reassign.html", form=form, title=_l("Reassign customers"))

    @expose("/former/<int:pk>", methods=["GET", "POST"])
    @has_access
    def former(self, pk: int):
        """Record that a current customer stopped buying, with the reason (旧客户)."""
        customer = self.datamodel.get(pk, self._base_filters)
        if customer is None:
            abort(404)
        form = FormerCustomerForm()
        if request.method == "POST" and form.validate():
            try:
                day = clean(_STOP_DATE, form.stopped_on.data) or dt.date.today()
                lifecycle.mark_former(db.session, customer, form.reason.data, day)
                db.session.commit()
            except (FieldInvalid, lifecycle.LifecycleError) as exc:
                db.session.rollback()
                form.stopped_on.errors = [str(exc.message)] if isinstance(exc, FieldInvalid) else []
                if isinstance(exc, lifecycle.LifecycleError):
                    flash(str(exc.message), "danger")
            else:
                flash(str(_l("%(name)s is now a former customer.", name=customer.name)), "success")
                return redirect(url_for("CustomerView.show", pk=pk))
        return self.render_template("portal/customer_former.html", form=form, customer=customer,
                                    title=_l("Mark as former customer"))


_STOP_DATE = FieldSpec(zh="中断日期", en="Stopped on", type=FieldType.DATE, section="lifecycle", name="stopped_on",
                       not_future=True)


class ArchiveExportView(BaseView):
    """The whole archive as one workbook, a sheet per kind of record (the custodian's second
    copy): the page says what it holds, its button downloads it. Rights (roles.json):
    ``can_list`` opens the page (and its menu entry), ``can_download`` takes the file."""

    route_base = "/archive-export"
    default_view = "page"
    base_permissions = ["can_list", "can_download"]
    method_permission_name = {"page": "list", "download": "download"}

    @expose("/")
    @has_access
    def page(self):
        labels = archive_export.model_labels()
        sheets = [(labels.get(model, model.__name__), count) for model, count in archive_export.counts(db.session)]
        may_download = self.appbuilder.sm.has_access("can_download", self.class_permission_name)
        return self.render_template("portal/archive_export.html", sheets=sheets, total=sum(c for _, c in sheets),
                                    may_download=may_download, title=_l("Export the whole archive"))

    @expose("/download")
    @has_access
    def download(self):
        from portal.grid.export import MIMETYPES, attachment

        stream = tempfile.TemporaryFile()
        try:
            sheets = archive_export.write_archive(stream, db.session)
        except ExportRefused as refused:
            stream.close()
            log_refusal("archive", "Archive", refused)
            flash(str(refused.message), "warning")
            return redirect(url_for("ArchiveExportView.page"))
        archive_export.log_archive(sheets, format="xlsx")
        stream.seek(0)
        response = send_file(stream, mimetype=MIMETYPES["xlsx"], as_attachment=True, download_name="archive.xlsx")
        response.headers["Content-Disposition"] = attachment(str(_l("Customer archive")), "archive", "xlsx")
        return response


def register_archive_export(appbuilder, category: str) -> None:
    """The archive export's menu entry under ``category`` (shown to who may open its page)."""
    appbuilder.add_view(ArchiveExportView, "Archive export", label=_l("Export whole archive"),
                        icon="fa-download", category=category)
