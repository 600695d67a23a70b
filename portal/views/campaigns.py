"""Campaign lists (目标客户名单): choose the customers (a saved grid view and/or criteria) and
the channel, see who would get one and who is left out and why, then record the campaign
as a promotion with its targets and take the list away as .xlsx or label sheets.

A list leaves the portal only as a recorded campaign: the downloads are of a promotion's
targets, so every copy has its cost, its responses and its entry in the access log. The
rules live in portal/services/mailing.py; this view reads forms and shows results.

Rights (seeds/roles.json, view CampaignView): can_list opens the page and its preview,
can_add records a campaign, can_download takes the .xlsx or the label sheet.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from urllib.parse import quote

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from portal.excel import limits, mailing as mailing_files
from portal.extensions import db
from portal.fields import fields_of
from portal.grid.lookups import label_of
from portal.models import Customer, Promotion, Region, Tag
from portal.models.consent import CHANNELS
from portal.security import access_log
from portal.security.permissions import current_user
from portal.services import mailing
from portal.services.mailing import CampaignError, Criteria

MULTI = ("stage", "grade", "province", "region", "tag")


def _ids(values) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in values if v != "")
    except ValueError:
        raise CampaignError(_l("Choose regions and tags from the lists."))


def criteria_from(args) -> Criteria:
    """The segment as the form sent it (query string or form body)."""
    view = (args.get("view") or "").strip()
    if view and not view.isdigit():
        raise CampaignError(_l("This saved view does not exist or is not shared with you."))
    return Criteria(
        view_id=int(view) if view else None,
        stages=tuple(v for v in args.getlist("stage") if v), grades=tuple(v for v in args.getlist("grade") if v),
        provinces=tuple(v for v in args.getlist("province") if v),
        region_ids=_ids(args.getlist("region")), tag_ids=_ids(args.getlist("tag")),
    )


def channel_from(args) -> str:
    channel = args.get("channel") or "mail"
    if channel not in CHANNELS:
        raise CampaignError(_l("Choose mail, SMS or e-mail."))
    return channel


def _choices(name: str):
    return [(c.code, c.label) for c in fields_of(Customer)[name].choices]


def _code_rows(model):
    return [(row.id, label_of(row)) for row in db.session.scalars(
        sa.select(model).where(model.active.is_(True)).order_by(model.sort_order, model.name))]


def channel_label(channel: str) -> str:
    return fields_of(Promotion)["promotion_type"].choice_label(channel)


def _content_disposition(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


class CampaignView(BaseView):
    route_base = "/campaign"
    default_view = "new"
    base_permissions = ["can_list", "can_add", "can_download"]
    method_permission_name = {"new": "list", "show": "list", "create": "add", "xlsx": "download",
                              "labels": "download"}

    # -- choose and preview -------------------------------------------------------------

    def _form_context(self, args, user) -> dict:
        return {
            "args": args, "views": mailing.saved_views(db.session, user.id),
            "channels": [(c, channel_label(c)) for c in CHANNELS],
            "options": {"stage": _choices("stage"), "grade": _choices("value_grade"),
                        "province": _choices("province"), "region": _code_rows(Region), "tag": _code_rows(Tag)},
            "labels": {"stage": fields_of(Customer)["stage"].label, "grade": fields_of(Customer)["value_grade"].label,
                       "province": fields_of(Customer)["province"].label,
                       "region": fields_of(Customer)["region_id"].label, "tag": fields_of(Customer)["tags"].label},
            "promotion_labels": {n: s.label for n, s in fields_of(Promotion).items()},
            "default_name": "",
            "today": dt.date.today().isoformat(),
        }

    def _page(self, args, *, campaign=None, channel="mail", errors=(), status=200):
        user = current_user()
        context = self._form_context(args, user)
        context.update(campaign=campaign, channel=channel, errors=list(errors), reasons=_reason_labels(channel),
                       export_cap=limits.rules_for(user).cap,
                       default_name=f"{channel_label(channel)} {dt.date.today():%Y-%m-%d}")
        return self.render_template("portal/campaign_new.html", **context), status

    @expose("/new", methods=["GET"])
    @has_access
    def new(self):
        """The form; with ``preview=1`` also the counts and the first address blocks."""
        args = request.args
        if not args.get("preview"):
            return self._page(args)
        try:
            channel = channel_from(args)
            campaign = mailing.build_list(db.session, current_user(), channel, criteria_from(args))
        except CampaignError as exc:
            return self._page(args, errors=[exc.message], status=422)
        return self._page(args, campaign=campaign, channel=channel)

    # -- record -------------------------------------------------------------------------

    @expose("/create", methods=["POST"])
    @has_access
    def create(self):
        form = request.form
        try:
            channel = channel_from(form)
            starts_on = dt.date.fromisoformat(form.get("starts_on") or dt.date.today().isoformat())
        except ValueError as exc:
            message = exc.message if isinstance(exc, CampaignError) else _l("The date is not a date (YYYY-MM-DD).")
            return self._page(form, errors=[message], status=422)
        user = current_user()
        try:
            campaign = mailing.build_list(db.session, user, channel, criteria_from(form))
            promotion = mailing.create_promotion(
                db.session, campaign, name=form.get("name", ""), starts_at=starts_on,
                cost_per_target=form.get("cost_per_target"), fixed_cost=form.get("fixed_cost"),
                owner_id=user.id, intent=form.get("intent"))
        except CampaignError as exc:
            db.session.rollback()
            return self._page(form, errors=[exc.message], status=422)
        db.session.commit()
        flash(_("Campaign %(name)s recorded with %(n)d targets.", name=promotion.name, n=len(campaign.targets)),
              "success")
        return redirect(url_for("CampaignView.show", pk=promotion.id))

    # -- a recorded campaign and its files ----------------------------------------------

    def _promotion(self, pk) -> Promotion:
        promotion = db.session.get(Promotion, pk)
        if promotion is None or promotion.promotion_type not in CHANNELS:
            abort(404)
        return promotion

    @expose("/<int:pk>/", methods=["GET"])
    @has_access
    def show(self, pk):
        promotion = self._promotion(pk)
        current = mailing.addressees_of(db.session, promotion, current_user())
        return self.render_template(
            "portal/campaign_show.html", promotion=promotion, audience=promotion.audience or {},
            current=current, channel_label=channel_label(current.channel), reasons=_reason_labels(current.channel),
            criteria=criteria_text((promotion.audience or {}).get("criteria") or {}),
            promotion_labels={n: s.label for n, s in fields_of(Promotion).items()},
            labels_per_page=mailing_files.LABELS_PER_PAGE)

    def _log(self, promotion, current, fmt: str, columns=(), withheld=()) -> None:
        access_log.record("export", "Promotion", promotion.id, row_count=len(current.targets), detail={
            "kind": "campaign", "via": "campaign", "format": fmt, "channel": current.channel,
            "audience": promotion.audience, "opted_out_since": current.excluded[mailing.OPTED_OUT],
            "columns": [str(c.label) for c in columns], "withheld": [str(c.label) for c in withheld]})

    def _refused(self, promotion, refused: limits.ExportRefused, fmt: str):
        """Back to the campaign's page with the reason (logged as a denial)."""
        limits.log_refusal("campaign", "Promotion", refused, promotion=promotion.id, format=fmt)
        flash(str(refused.message), "danger")
        return redirect(url_for("CampaignView.show", pk=promotion.id))

    def _export(self, pk):
        """The promotion, its addressees now and the user's export rules, checked against the
        role's row cap (an export over it is refused, never cut short)."""
        promotion = self._promotion(pk)
        current = mailing.addressees_of(db.session, promotion, current_user())
        rules = limits.rules_for()
        rules.check_count(len(current.targets))
        return promotion, current, rules

    @expose("/<int:pk>/xlsx", methods=["GET"])
    @has_access
    def xlsx(self, pk):
        try:
            promotion, current, rules = self._export(pk)
            columns, withheld = mailing_files.allowed_columns(current.channel, rules)
            if not columns:
                raise limits.ExportRefused(_l("Your role may not export any of these columns."), reason="no_columns")
        except limits.ExportRefused as refused:
            return self._refused(self._promotion(pk), refused, "xlsx")
        stream = tempfile.TemporaryFile()
        mailing_files.write_list(stream, current.targets, current.channel, sheet_name=promotion.name, columns=columns)
        self._log(promotion, current, "xlsx", columns, withheld)
        stream.seek(0)
        stamp = f"{dt.datetime.now():%Y%m%d-%H%M}"
        response = send_file(stream, mimetype=mailing_files.MIMETYPE, as_attachment=True,
                             download_name=f"campaign-{promotion.id}-{stamp}.xlsx")
        response.headers["Content-Disposition"] = _content_disposition(
            f"{promotion.name}-{stamp}.xlsx", f"campaign-{promotion.id}-{stamp}.xlsx")
        return response

    @expose("/<int:pk>/labels", methods=["GET"])
    @has_access
    def labels(self, pk):
        """The label sheet to print; ``skip`` blank labels first on a used sheet."""
        try:
            promotion, current, rules = self._export(pk)
            if not mailing_files.labels_allowed(rules):
                raise limits.ExportRefused(_l("Your role may not take the addresses out of the archive."),
                                           reason="no_columns")
        except limits.ExportRefused as refused:
            return self._refused(self._promotion(pk), refused, "labels")
        try:
            skip = int(request.args.get("skip") or 0)
        except ValueError:
            skip = 0
        self._log(promotion, current, "labels")
        lang = "zh-CN" if str(get_locale() or "zh").startswith("zh") else "en"
        return render_template("portal/labels.html", promotion=promotion, lang=lang,
                               pages=mailing_files.label_pages(current.targets, skip),
                               count=len(current.targets), per_page=mailing_files.LABELS_PER_PAGE)


def _reason_labels(channel: str) -> dict:
    missing = {"mail": _("No postal address"), "sms": _("No mobile"), "email": _("No e-mail address")}
    same = {"mail": _("Same address as another customer (one letter per household or company)"),
            "sms": _("Same mobile as another customer"), "email": _("Same e-mail address as another customer")}
    return {mailing.OPTED_OUT: _("Opted out"), mailing.NO_ADDRESS: missing[channel], mailing.DUPLICATE: same[channel]}


def criteria_text(criteria: dict) -> list[tuple[str, str]]:
    """(label, values) of the conditions a campaign was selected by, as people read them."""
    specs = fields_of(Customer)
    shown = []
    for key, name in (("stages", "stage"), ("grades", "value_grade"), ("provinces", "province")):
        if criteria.get(key):
            shown.append((specs[name].label, "、".join(specs[name].choice_label(v) for v in criteria[key])))
    for key, name, model in (("region_ids", "region_id", Region), ("tag_ids", "tags", Tag)):
        if criteria.get(key):
            rows = db.session.scalars(sa.select(model).where(model.id.in_(criteria[key])).order_by(model.sort_order))
            shown.append((specs[name].label, "、".join(label_of(r) for r in rows)))
    return shown


def register(appbuilder, category: str) -> None:
    """The menu entry under ``category`` (sales activity, next to the promotions); a role
    sees it when it holds can_list on CampaignView."""
    appbuilder.add_view(CampaignView, "Campaign lists", label=_l("Campaign lists"), icon="fa-envelope",
                        category=category)
