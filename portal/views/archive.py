"""The archive's views: the customer card and the records around it."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired

from portal.extensions import db
from portal.fields import FieldInvalid, FieldSpec, FieldType, clean, fields_of
from portal.models import (
    AfterSales, CompetitorPresence, Contact, Customer, LifecycleEvent, Promotion, PromotionTarget, PurchaseProject,
    Transaction, TransactionLine, Visit,
)
from portal.services import lifecycle, referrals, verification

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
        PurchaseProjectView, CompetitorPresenceView, ReferralView, LifecycleEventView,
    ]
    show_template = "portal/customer_show.html"
    edit_template = EDIT_WITH_TABS
    base_order = ("number", "desc")
    extra_search_columns = ("city", "customer_type", "source", "industry", "team", "is_core", "verified_on",
                            "referred_by")
    extra_validators = {"referred_by": [NoReferralLoop()]}

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            customer = db.session.get(Customer, kwargs["pk"])
            if customer is not None:
                stage = fields_of(Customer)["stage"]
                kwargs.update(stage_label=stage.choice_label(customer.stage), stage_since=customer.stage_since)
        return super().render_template(template, **kwargs)

    @action("verify", _l("Mark verified"), _l("Mark the selected cards as checked by you today?"), "fa-check")
    def verify(self, items):
        """档案审查: stamp the selected cards as verified by the current user today."""
        items = items if isinstance(items, list) else [items]
        for customer in items:
            verification.verify(customer)
        db.session.commit()
        flash(str(_l("%(n)d cards marked verified.", n=len(items))), "success")
        self.update_redirect()
        return redirect(self.get_redirect())

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
