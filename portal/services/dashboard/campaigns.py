"""Marketing's view: the customer segments of the latest classification runs (the RFM and ABC
analyses of portal/views/classification.py, read through the analysis registry) and the
recent campaigns' cost against their response (Promotion / PromotionTarget).

Campaign figures, per promotion (the :data:`RECENT` latest that have started by today):

* *targets*: the promotion's targets in the user's scope;
* *responded*: targets whose response is ``interested`` or ``purchased``; *purchased*: the latter;
* *cost* = the promotion's fixed cost + each target's variable cost (the target's own, else
  the promotion's cost per target; none: 0). A user who sees only some targets sees the whole
  fixed cost and the variable cost of the targets they see;
* *cost per response* = cost / responded (empty when nobody responded); *response rate* =
  responded / targets in per cent.

All promotions in one GROUP BY; each count drills to the customers behind it.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.analysis import drill, registry
from portal.analysis.registry import Chart, Column, Result
from portal.models import Customer, Promotion, PromotionTarget
from portal.models.classification import ABC
from portal.security import scope
from portal.services.classification import reports

from . import Figure, Page, Panel, Section

RECENT = 10
RESPONDED = ("interested", "purchased")
PURCHASED = ("purchased",)
WHO = {"targets": None, "responded": RESPONDED, "purchased": PURCHASED}


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def campaign_rows(session, user, today: dt.date, limit: int = RECENT) -> list[dict]:
    """The ``limit`` latest promotions started by ``today``, newest first, with the figures of
    the module docstring (Decimal money)."""
    t, p = PromotionTarget, Promotion
    visible = scope.customer_condition(user) if user is not scope.ALL else None
    on = [t.promotion_id == p.id]
    if visible is not None:
        on.append(t.customer_id.in_(sa.select(Customer.id).where(visible)))
    variable = sa.func.coalesce(sa.func.sum(sa.func.coalesce(t.variable_cost, p.variable_cost_per_target)), 0)
    query = (sa.select(p.id, p.name, p.promotion_type, p.starts_at, p.fixed_cost, sa.func.count(t.id),
                       sa.func.sum(sa.case((t.response.in_(RESPONDED), 1), else_=0)),
                       sa.func.sum(sa.case((t.response.in_(PURCHASED), 1), else_=0)), variable)
             .select_from(p).outerjoin(t, sa.and_(*on))
             .where(p.starts_at < dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))
             .group_by(p.id, p.name, p.promotion_type, p.starts_at, p.fixed_cost)
             .order_by(p.starts_at.desc(), p.id.desc()).limit(limit))
    if visible is not None:
        query = query.having(sa.func.count(t.id) > 0)
    rows = []
    for pid, name, kind, starts, fixed, targets, responded, purchased, var in session.execute(query):
        responded, purchased = int(responded or 0), int(purchased or 0)
        cost = _money(fixed) + _money(var)
        rows.append({"id": pid, "name": name, "type": kind, "starts": starts.date() if starts else None,
                     "targets": int(targets or 0), "responded": responded, "purchased": purchased, "cost": cost,
                     "per_response": (cost / responded).quantize(Decimal("0.01")) if responded else None,
                     "rate": round(100 * responded / targets, 1) if targets else None})
    return rows


@drill.define("dashboard.campaign", label=lambda p: _campaign_label(p))
def _drill_campaign(params):
    promotion = drill.require(params, "promotion", kind="int")
    who = drill.optional(params, "who", choices=tuple(WHO)) or "targets"
    query = sa.select(PromotionTarget.customer_id).where(PromotionTarget.promotion_id == promotion)
    if WHO[who] is not None:
        query = query.where(PromotionTarget.response.in_(WHO[who]))
    return Customer.id.in_(query)


def _campaign_label(params):
    from portal.extensions import db

    pid = params.get("promotion", "")
    promotion = db.session.get(Promotion, int(pid)) if str(pid).isdigit() else None
    name = promotion.name if promotion is not None else pid
    return {"responded": _l("Campaign %(name)s: customers who responded", name=name),
            "purchased": _l("Campaign %(name)s: customers who bought", name=name)}.get(
        params.get("who"), _l("Campaign %(name)s: its targets", name=name))


def campaigns_panel(session, user, today, options) -> list[Panel]:
    from portal.fields import fields_of

    rows = campaign_rows(session, user, today)
    type_spec = fields_of(Promotion)["promotion_type"]
    links = []
    for row in rows:
        row["type"] = type_spec.choice_label(row["type"]) if row["type"] else ""
        links.append({key: drill.link("dashboard.campaign", promotion=row["id"], who=key) for key in WHO}
                     | {"*": drill.link("dashboard.campaign", promotion=row["id"], who="responded")})
    cost = sum((r["cost"] for r in rows), Decimal("0.00"))
    responded = sum(r["responded"] for r in rows)
    targets = sum(r["targets"] for r in rows)
    page = Page("PromotionView.list")
    figures = [
        Figure("campaigns", _l("Recent campaigns"), len(rows), page),
        Figure("targets", _l("Customers targeted"), targets, page),
        Figure("responded", _l("Responses"), responded, page),
        Figure("cost", _l("Cost"), cost, page, type="money"),
        Figure("per_response", _l("Cost per response"),
               (cost / responded).quantize(Decimal("0.01")) if responded else None, page, type="money"),
    ]
    result = Result(
        columns=[Column("name", _l("Campaign")), Column("type", type_spec.label), Column("starts", _l("Started"), "date"),
                 Column("targets", _l("Targets"), "int"), Column("responded", _l("Responded"), "int"),
                 Column("purchased", _l("Bought"), "int"), Column("rate", _l("Response rate %"), "decimal"),
                 Column("cost", _l("Cost"), "money"), Column("per_response", _l("Cost per response"), "money")],
        rows=rows, drill=links,
        chart=Chart("scatter", x="cost", y="rate", name="name", group="type"))
    return [Panel("campaigns", _l("Campaign cost vs response"), figures=figures, result=result, more=page,
                  more_label=_l("All promotions"),
                  notes=[_l("The %(n)s latest campaigns. Cost: fixed cost plus each target's variable cost; "
                            "responded: interested or bought. Click a point for the customers who responded.",
                            n=RECENT)])]


def segments_panel(session, user, today, options) -> list[Panel]:
    rfm = registry.get("rfm")
    _filters, result = rfm.run({}, user, today=today)
    figures = [Figure("classified", _l("Customers in RFM segments"), sum(r.get("customers") or 0 for r in result.rows),
                      Page("AnalysisView.page", {"key": "rfm"}))]
    run = reports.latest_run(session, ABC)
    if run is not None:
        condition = scope.customer_condition(user) if user is not scope.ALL else None
        flags = reports.flag_counts(session, run, condition)
        for flag, label in (("gold", _l("Gold customers")), ("drag", _l("Drag customers"))):
            figures.append(Figure(flag, label, flags[flag], drill.link("classification.flag", run=run.id, flag=flag),
                                  hint=_l("ABC run %(id)s", id=run.id)))
    return [Panel("segments", _l("Customer segments"), figures=figures, result=result,
                  more=Page("AnalysisView.page", {"key": "rfm"}), more_label=_l("Open the RFM analysis"),
                  notes=list(result.notes))]


SECTIONS = (
    Section("segments", _l("Segments"), segments_panel, needs=(("can_list", "AnalysisView"),)),
    Section("campaigns", _l("Campaigns"), campaigns_panel, needs=(("can_list", "PromotionView"),)),
)
