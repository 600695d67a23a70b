"""The archive's views: the customer card and the records around it."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired

from portal.extensions import db
from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.models import (
    AfterSales, CompetitorPresence, Contact, Customer, LifecycleEvent, Promotion, PromotionTarget, PurchaseProject,
    Transaction, TransactionLine, Visit,
)
from portal.services import lifecycle

from .base import ArchiveModelView

SHOW_WITH_TABS = "appbuilder/general/model/show_cascade.html"
EDIT_WITH_TABS = "appbuilder/general/model/edit_cascade.html"


class ContactView(ArchiveModelView):
    model = Contact
    extra_list_columns = ("phone", "email")


class TransactionLineView(ArchiveModelView):
    model = TransactionLine


class TransactionView(ArchiveModelView):
    model = Transaction
    related_views = [TransactionLineView]
    show_template = SHOW_WITH_TABS
    edit_template = EDIT_WITH_TABS
    base_order = ("trade_date", "desc")


class AfterSalesView(ArchiveModelView):
    model = AfterSales
    base_order = ("occurred_on", "desc")


class VisitView(ArchiveModelView):
    model = Visit
    base_order = ("visited_on", "desc")


class PromotionTargetView(ArchiveModelView):
    model = PromotionTarget


class PromotionView(ArchiveModelView):
    model = Promotion
    related_views = [PromotionTargetView]
    show_template = SHOW_WITH_TABS
    edit_template = EDIT_WITH_TABS
    base_order = ("starts_at", "desc")


class LifecycleEventView(ArchiveModelView):
    """The card's stage history; written by the lifecycle rules only."""

    model = LifecycleEvent
    base_permissions = ["can_list", "can_show"]
    base_order = ("occurred_on", "desc")


class PurchaseProjectView(ArchiveModelView):
    model = PurchaseProject


class CompetitorPresenceView(ArchiveModelView):
    model = CompetitorPresence


class FormerCustomerForm(DynamicForm):
    reason = TextAreaField(_l("Reason for stopping"), validators=[DataRequired()])
    stopped_on = StringField(_l("Stopped on"))


class CustomerView(ArchiveModelView):
    """客户档案卡: the card's sections as fieldsets, its related records as tabs."""

    model = Customer
    related_views = [
        ContactView, TransactionView, AfterSalesView, VisitView, PromotionTargetView,
        PurchaseProjectView, CompetitorPresenceView, LifecycleEventView,
    ]
    show_template = "portal/customer_show.html"
    edit_template = EDIT_WITH_TABS
    base_order = ("number", "desc")
    extra_search_columns = ("city", "customer_type", "source", "industry", "team", "is_core")

    @expose("/former/<int:pk>", methods=["GET", "POST"])
    @has_access
    def former(self, pk: int):
        """Record that a current customer stopped buying, with the reason (旧客户)."""
        customer = db.session.get(Customer, pk)
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
