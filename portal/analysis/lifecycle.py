"""生命周期分析 (潜在 → 现有 → 旧客户), from the dated stage history (lifecycle_event):

* **stages over time** — how many customers were potential, current and former at the end of
  each month of the period (the last point: on the period's end date). Each transition adds
  one to its new stage and takes one from its old stage, so the counts are running sums of
  one GROUP BY over the events (month × stage), not a query per month;
* **new customers per month by source** — cards opened (the first event of a card, dated by
  its 获取日期 or its creation) per month, by 客户来源;
* **churn per year** — current → former transitions per year, by the reason given (the eight
  most frequent reasons, the rest together), with the customers who were current at the start
  of the year (or of the period) and the churn rate (DOMAIN.md: naturally about 5% a year);
* **referral chains** (无限连锁) — who brought whom, through 推荐客户 (referred_by): a
  recursive CTE (SQLite and PostgreSQL) from every root — a customer who brought others and
  was not brought by anyone the user can see — down to the last customer brought in.

Region, salesperson and grade are the customer's current ones. All counts are within the
user's row scope: a salesperson's referral chains are made of their own customers.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from flask_babel import gettext as _, lazy_gettext as _l

from portal.fields import fields_of
from portal.models import Customer, LifecycleEvent, Source
from portal.models.choices import STAGE
from portal.security import scope

from . import drill
from .common import NONE, code_label, column_is, drill_customers, session, share
from .registry import Analysis, Chart, Column, Filters, Param, Result, Series, register
from .sql import year_month, year_of

STAGES = tuple(code for code, _zh, _en in STAGE)
VIEWS = (("stages", _l("Stages over time")), ("new", _l("New customers by source")),
         ("churn", _l("Churn per year")), ("referrals", _l("Referral chains")))
TOP_REASONS = 8
MAX_DEPTH = 50            # a referral chain deeper than this is cut (loops are refused when entered)
MAX_CHAINS = 200          # rows of the chain table
TREE_CHAINS = 20          # chains drawn as a tree
MAX_TREE_NODES = 600
MAX_MEMBERS_SHOWN = 10
BEFORE = "before"


def compute(filters: Filters, user) -> Result:
    view = filters.param("view")
    return {"stages": stages_over_time, "new": new_by_source, "churn": churn_per_year,
            "referrals": referral_chains}[view](filters, user)


def _month_end(month: dt.date, cap: dt.date) -> dt.date:
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return min(following - dt.timedelta(days=1), cap)


def _stage_deltas(filters: Filters, user, bucket):
    """{(bucket, stage): +/- count} over events up to the period's end: +1 for the stage a
    transition enters, -1 for the one it leaves. ``bucket`` groups the event date."""
    conditions = [*filters.customer_conditions(user), LifecycleEvent.occurred_on <= filters.date_to]
    key = sa.case((LifecycleEvent.occurred_on < filters.date_from, BEFORE), else_=bucket)
    entered = (sa.select(key.label("bucket"), LifecycleEvent.to_stage.label("stage"), sa.literal(1).label("delta"))
               .join(Customer, Customer.id == LifecycleEvent.customer_id).where(*conditions))
    left = (sa.select(key.label("bucket"), LifecycleEvent.from_stage.label("stage"), sa.literal(-1).label("delta"))
            .join(Customer, Customer.id == LifecycleEvent.customer_id)
            .where(*conditions, LifecycleEvent.from_stage.is_not(None)))
    moves = sa.union_all(entered, left).subquery("moves")
    query = sa.select(moves.c.bucket, moves.c.stage, sa.func.sum(moves.c.delta)).group_by(moves.c.bucket, moves.c.stage)
    return {(str(b), s): int(n) for b, s, n in session().execute(query)}


def stages_over_time(filters: Filters, user) -> Result:
    deltas = _stage_deltas(filters, user, year_month(LifecycleEvent.occurred_on))
    running = {s: deltas.get((BEFORE, s), 0) for s in STAGES}
    spec = fields_of(Customer)["stage"]
    rows, links = [], []
    for month in filters.months():
        label = f"{month:%Y-%m}"
        for s in STAGES:
            running[s] += deltas.get((label, s), 0)
        end = _month_end(month, filters.date_to)
        rows.append({"month": label, "on": end, **running, "total": sum(running.values())})
        links.append({s: drill.link("lifecycle.stage_at", stage=s, on=end.isoformat(),
                                    **filters.drill_params(dates=False)) for s in STAGES})
    columns = [Column("month", _l("Month")), Column("on", _l("Counted on"), "date")]
    columns += [Column(s, spec.choice_label(s), "int") for s in STAGES] + [Column("total", _l("Total"), "int")]
    return Result(columns=columns, rows=rows, drill=links,
                  chart=Chart("line", category="month", series=[Series(s) for s in STAGES]),
                  notes=[_l("Customers in each stage at the end of the month (the last month: on the period's end "
                            "date), from the dated stage history of the cards.")])


def new_by_source(filters: Filters, user) -> Result:
    month = year_month(LifecycleEvent.occurred_on)
    query = (sa.select(month, Customer.source_id, sa.func.count(sa.distinct(Customer.id)))
             .select_from(LifecycleEvent).join(Customer, Customer.id == LifecycleEvent.customer_id)
             .where(*filters.customer_conditions(user), LifecycleEvent.from_stage.is_(None),
                    filters.period(LifecycleEvent.occurred_on))
             .group_by(month, Customer.source_id))
    counts = {(m, s): n for m, s, n in session().execute(query)}
    source_ids = sorted({s for _m, s in counts if s is not None})
    sources = {r.id: r for r in session().execute(
        sa.select(Source.id, Source.name, Source.name_en, Source.sort_order).where(Source.id.in_(source_ids)))}
    ordered = sorted(source_ids, key=lambda i: (sources[i].sort_order, sources[i].name)) if sources else []
    if any(s is None for _m, s in counts):
        ordered.append(None)
    key = lambda s: f"s{s}" if s is not None else "s_none"  # noqa: E731
    columns = [Column("month", _l("Month"))]
    columns += [Column(key(s), code_label(sources[s].name, sources[s].name_en) if s is not None else _("No source"), "int")
                for s in ordered]
    columns.append(Column("total", _l("Total"), "int"))
    rows, links = [], []
    for first in filters.months():
        label = f"{first:%Y-%m}"
        start, end = max(first, filters.date_from), _month_end(first, filters.date_to)
        row = {"month": label, **{key(s): counts.get((label, s), 0) for s in ordered}}
        row["total"] = sum(row[key(s)] for s in ordered)
        rows.append(row)
        common = {**filters.drill_params(), "from": start.isoformat(), "to": end.isoformat()}
        entry = {key(s): drill.link("lifecycle.new", source=s if s is not None else NONE, **common) for s in ordered}
        entry["*"] = drill.link("lifecycle.new", **common)
        links.append(entry)
    totals = {"month": _("Total"), **{c.key: sum(r[c.key] for r in rows) for c in columns[1:]}}
    return Result(columns=columns, rows=rows, drill=links, totals=totals,
                  chart=Chart("stacked_bar", category="month", series=[Series(key(s)) for s in ordered]),
                  notes=[_l("A new customer is a card opened in the month (dated by its acquisition date, else "
                            "by its creation), whatever its stage now.")])


def churn_per_year(filters: Filters, user) -> Result:
    year = year_of(LifecycleEvent.occurred_on)
    churned = {(int(y), r): n for y, r, n in session().execute(
        sa.select(year, LifecycleEvent.reason, sa.func.count()).select_from(LifecycleEvent)
        .join(Customer, Customer.id == LifecycleEvent.customer_id)
        .where(*filters.customer_conditions(user), LifecycleEvent.from_stage == "current",
               LifecycleEvent.to_stage == "former", filters.period(LifecycleEvent.occurred_on))
        .group_by(year, LifecycleEvent.reason))}
    by_reason: dict = {}
    for (_y, reason), n in churned.items():
        by_reason[reason] = by_reason.get(reason, 0) + n
    top = sorted(by_reason, key=lambda r: (-by_reason[r], r or ""))[:TOP_REASONS]
    deltas = _stage_deltas(filters, user, sa.cast(year_of(LifecycleEvent.occurred_on), sa.String))
    current = deltas.get((BEFORE, "current"), 0)
    years = list(range(filters.date_from.year, filters.date_to.year + 1))
    columns = [Column("year", _l("Year"))]
    columns += [Column(f"r{i}", reason or _("No reason given"), "int") for i, reason in enumerate(top)]
    others = len(by_reason) > len(top)
    if others:
        columns.append(Column("other", _l("Other reasons"), "int"))
    columns += [Column("churned", _l("Became former"), "int"), Column("base", _l("Current at the start"), "int"),
                Column("rate", _l("Churn rate (%)"), "decimal")]
    rows, links = [], []
    for y in years:
        row = {"year": str(y)}
        for i, reason in enumerate(top):
            row[f"r{i}"] = churned.get((y, reason), 0)
        total = sum(n for (yy, _r), n in churned.items() if yy == y)
        if others:
            row["other"] = total - sum(row[f"r{i}"] for i in range(len(top)))
        row.update(churned=total, base=current, rate=share(total, current))
        rows.append(row)
        current += deltas.get((str(y), "current"), 0)   # the start of the next year
        start, end = max(dt.date(y, 1, 1), filters.date_from), min(dt.date(y, 12, 31), filters.date_to)
        common = {**filters.drill_params(), "from": start.isoformat(), "to": end.isoformat()}
        entry = {"*": drill.link("lifecycle.churn", **common)}
        for i, reason in enumerate(top):
            if reason is not None and len(reason) <= drill.MAX_VALUE:
                entry[f"r{i}"] = drill.link("lifecycle.churn", reason=reason, **common)
            elif reason is None:
                entry[f"r{i}"] = drill.link("lifecycle.churn", reason=NONE, **common)
        links.append(entry)
    series = [Series(f"r{i}") for i in range(len(top))] + ([Series("other")] if others else [])
    return Result(columns=columns, rows=rows, drill=links,
                  chart=Chart("stacked_bar", category="year", series=series),
                  notes=[_l("Churn: current customers who became former customers in the year, by the reason for "
                            "stopping recorded then. Rate: those customers against the customers current at the start "
                            "of the year (or of the period)."),
                         _l("Natural churn is about 5 percent a year.")])


# --- referral chains ------------------------------------------------------------------------

def chains(filters: Filters, user):
    """A recursive CTE (root_id, id, parent_id, depth) of every referral chain among the
    customers in scope and filters."""
    visible = sa.select(Customer.id, Customer.referred_by_id).where(*filters.customer_conditions(user)).cte("visible")
    child, parent = visible.alias("child"), visible.alias("parent")
    is_root = sa.and_(
        sa.exists().where(child.c.referred_by_id == visible.c.id),
        sa.or_(visible.c.referred_by_id.is_(None), ~sa.exists().where(parent.c.id == visible.c.referred_by_id)))
    chain = (sa.select(visible.c.id.label("root_id"), visible.c.id.label("id"),
                       sa.cast(sa.null(), sa.Integer).label("parent_id"), sa.literal(0, sa.Integer).label("depth"))
             .where(is_root).cte("chain", recursive=True))
    # Each level follows ix_customer_referred_by_id from the level above (with the scope and
    # filters on the customers reached), not a scan of every visible customer per level.
    step = Customer.__table__.alias("step")
    conditions = [c for c in filters.customer_conditions(user)]
    in_view = (sa.select(visible.c.id).where(visible.c.id == step.c.id).exists() if conditions else sa.true())
    return chain.union_all(
        sa.select(chain.c.root_id, step.c.id, step.c.referred_by_id, chain.c.depth + 1)
        .select_from(chain).join(step, step.c.referred_by_id == chain.c.id)
        .where(chain.c.depth < MAX_DEPTH, in_view))


def referral_chains(filters: Filters, user) -> Result:
    chain = chains(filters, user)
    members = (sa.func.count() - 1).label("members")
    summary = (sa.select(chain.c.root_id, members, sa.func.max(chain.c.depth).label("length"))
               .group_by(chain.c.root_id).order_by(members.desc(), chain.c.root_id).limit(MAX_CHAINS))
    found = session().execute(summary).all()
    roots = [r.root_id for r in found]
    nodes = session().execute(
        sa.select(chain.c.root_id, chain.c.id, chain.c.parent_id, chain.c.depth, Customer.number, Customer.name)
        .join(Customer, Customer.id == chain.c.id).where(chain.c.root_id.in_(roots))
        .order_by(chain.c.root_id, chain.c.depth, Customer.id)).all() if roots else []
    by_root: dict[int, list] = {}
    for node in nodes:
        by_root.setdefault(node.root_id, []).append(node)
    spec = fields_of(Customer)
    rows, links = [], []
    for root_id, count, length in found:
        chain_nodes = by_root.get(root_id, [])
        head = chain_nodes[0] if chain_nodes else None
        names = [n.name for n in chain_nodes[1:MAX_MEMBERS_SHOWN + 1]]
        if count > MAX_MEMBERS_SHOWN:
            names.append("…")
        rows.append({"number": head.number if head else "", "name": head.name if head else "", "members": count,
                     "length": length, "brought": "、".join(names)})
        links.append(drill.link("lifecycle.referral", root=root_id))
    columns = [Column("number", spec["number"].label, source=(Customer, "number")),
               Column("name", _l("Referred first (root)"), source=(Customer, "name")),
               Column("members", _l("Customers brought in"), "int"), Column("length", _l("Chain length (levels)"), "int"),
               Column("brought", _l("Brought in (nearest first)"), source=(Customer, "name"))]
    tree = _tree([by_root.get(r, []) for r in roots[:TREE_CHAINS]])
    return Result(columns=columns, rows=rows, drill=links, chart=Chart("tree", tree=tree) if tree else None,
                  notes=[_l("A chain starts at a customer who brought others in and was not brought in by anyone you can "
                            "see; its length is the number of levels below it."),
                         _l("At most %(n)s chains are listed, the longest first; the tree shows the first %(t)s.",
                            n=MAX_CHAINS, t=TREE_CHAINS)])


def _tree(chain_lists: list[list]) -> list[dict]:
    """Nested nodes {name, value, url, children} for the ECharts tree (at most MAX_TREE_NODES)."""
    trees, budget = [], MAX_TREE_NODES
    for nodes in chain_lists:
        made: dict[int, dict] = {}
        for node in nodes:
            if budget <= 0:
                break
            budget -= 1
            item = {"name": node.name, "url": drill.url("lifecycle.referral", root=node.id), "children": []}
            made[node.id] = item
            if node.parent_id in made and node.depth > 0:
                made[node.parent_id]["children"].append(item)
            elif node.depth == 0:
                trees.append(item)
        for item in made.values():
            item["value"] = _size(item) - 1
    return trees


def _size(item: dict) -> int:
    return 1 + sum(_size(c) for c in item["children"])


register(Analysis(
    "lifecycle", _l("Customer lifecycle"), compute,
    description=_l("Customers per stage over time, new customers by source, churn with its reasons, and referral chains."),
    params=(Param("view", _l("View"), choices=VIEWS, default="stages", tabs=True),), order=30, icon="fa-refresh"))


# --- drill-downs ------------------------------------------------------------------------------

def _latest_stage_on(day: dt.date, stage: str):
    """Customer.id IN (customers whose latest transition on or before ``day`` entered ``stage``)."""
    later = LifecycleEvent.__table__.alias("later")
    return Customer.id.in_(
        sa.select(LifecycleEvent.customer_id).where(
            LifecycleEvent.occurred_on <= day, LifecycleEvent.to_stage == stage,
            ~sa.exists().where(later.c.customer_id == LifecycleEvent.customer_id, later.c.occurred_on <= day,
                               sa.or_(later.c.occurred_on > LifecycleEvent.occurred_on,
                                      sa.and_(later.c.occurred_on == LifecycleEvent.occurred_on,
                                              later.c.id > LifecycleEvent.id)))))


@drill.define("lifecycle.stage_at", label=lambda p: _("%(stage)s on %(day)s",
                                                      stage=fields_of(Customer)["stage"].choice_label(p.get("stage")),
                                                      day=p.get("on", "")))
def _drill_stage_at(params):
    stage = drill.require(params, "stage", choices=STAGES)
    day = drill.require(params, "on", kind="date")
    return sa.and_(_latest_stage_on(day, stage), *drill_customers(params))


def _source_label(params):
    value = params.get("source")
    if value == NONE:
        name = _("No source")
    elif value and value.isdigit():
        source = session().get(Source, int(value))
        name = str(source) if source else "?"
    else:
        name = None
    period = f"{params.get('from', '…')} – {params.get('to', '…')}"
    return _("New customers %(period)s from %(source)s", period=period, source=name) if name else \
        _("New customers %(period)s", period=period)


@drill.define("lifecycle.new", label=_source_label)
def _drill_new(params):
    filters = drill.period_filters(params)
    conditions = list(drill_customers(params))
    source = params.get("source")
    if source is not None:
        if source != NONE:
            drill.require(params, "source", kind="int")
        conditions.append(column_is(Customer.source_id, source))
    return sa.and_(*conditions, Customer.id.in_(sa.select(LifecycleEvent.customer_id).where(
        LifecycleEvent.from_stage.is_(None), filters.period(LifecycleEvent.occurred_on))))


def _churn_label(params):
    period = f"{params.get('from', '…')} – {params.get('to', '…')}"
    reason = params.get("reason")
    if reason is None:
        return _("Became former customers %(period)s", period=period)
    return _("Became former customers %(period)s: %(reason)s", period=period,
             reason=_("No reason given") if reason == NONE else reason)


@drill.define("lifecycle.churn", label=_churn_label)
def _drill_churn(params):
    filters = drill.period_filters(params)
    reason = params.get("reason")
    events = [LifecycleEvent.from_stage == "current", LifecycleEvent.to_stage == "former",
              filters.period(LifecycleEvent.occurred_on)]
    if reason is not None:
        events.append(LifecycleEvent.reason.is_(None) if reason == NONE else LifecycleEvent.reason == reason)
    return sa.and_(*drill_customers(params), Customer.id.in_(sa.select(LifecycleEvent.customer_id).where(*events)))


def _referral_label(params):
    value = params.get("root")
    customer = session().get(Customer, int(value)) if value and value.isdigit() else None
    # Named only when the user may see it: a link must not tell the name of someone else's customer.
    if customer is not None and scope.can_reach(Customer, customer.id):
        return _("Referral chain of %(customer)s", customer=str(customer))
    return _("A referral chain")


@drill.define("lifecycle.referral", label=_referral_label)
def _drill_referral(params):
    root = drill.require(params, "root", kind="int")
    chain = sa.select(Customer.id.label("id"), sa.literal(0, sa.Integer).label("depth")).where(
        Customer.id == root).cte("drill_chain", recursive=True)
    below = aliased(Customer)
    chain = chain.union_all(sa.select(below.id, chain.c.depth + 1).join(chain, below.referred_by_id == chain.c.id)
                            .where(chain.c.depth < MAX_DEPTH))
    return Customer.id.in_(sa.select(chain.c.id))
