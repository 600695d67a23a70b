"""Reminders (用重于管: the archive tells people what to do today), within a user's row scope.

Kinds (``REMINDER_KINDS`` of models/planning.py), each one SQL query over the archive:

* ``birthday`` — customers' and contacts' birthdays in the next ``birthday_days`` days
  (today included). The window may run over the new year. Someone born on 29 February has
  their birthday on 28 February in a year that has no 29th.
* ``replenish`` — the last purchase of a product with a usage cycle
  (``Product.replenish_cycle_days``; returns, negative lines, are not purchases) plus the
  cycle falls within the next ``replenish_days`` days, or has passed by less than one more
  cycle (overdue longer than that, the customer shows as "no order" instead).
* ``credit_report`` — the credit report (``credit_report_date`` + ``credit_report_valid_months``,
  ``default_report_months`` when the card gives none) expires within ``credit_days`` days
  (today: "expires today", 0 days) or has expired.
* ``credit_limit`` — a customer with a credit limit whose limit rests on nothing current:
  no credit report, or the latest of the report and the last review (this reminder marked
  done) is as old as the report's validity (within ``credit_days``).
* ``stale_card`` — a card not checked for ``stale_months`` months (the quarterly name and
  address check): the latest of its verification stamp, its creation and the last time this
  reminder was marked done.
* ``no_order`` — a current customer whose last order is ``no_order_months`` months old or more.
* ``complaint`` — an open complaint (after-sales of kind complaint, status open).

A reminder is (kind, customer, subject, occurrence) — see :class:`~portal.models.ReminderDone`.
Marking it done (:func:`mark_done`) hides it for everyone until its next occurrence: next
year's birthday, the purchase after this one, the next report, the next order. The rolling
checks (``stale_card``, ``credit_limit``) take the done date as the check itself and come back
when it is as old as the rule says.

No Flask here: the caller passes the session, the user (for the row scope), the day and
the :class:`Settings`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import AfterSales, Contact, Customer, Product, ReminderDone, TransactionLine
from portal.models.planning import REMINDER_KINDS
from portal.security import scope

from .visit_plan import add_months, days_after, latest_start_for

KINDS = tuple(code for code, _zh, _en in REMINDER_KINDS)
ROLLING = ("stale_card", "credit_limit")
CUSTOMER_SUBJECT = 0


class ReminderError(ValueError):
    """A parameter out of range, an unknown kind, or a reminder that is not (or no longer) due."""


@dataclass(frozen=True)
class Settings:
    """The windows of the reminders; config REMINDER_* gives the defaults, the page may
    change them. Days and months are whole numbers within :data:`BOUNDS`."""

    birthday_days: int = 7
    replenish_days: int = 7
    credit_days: int = 30
    stale_months: int = 3
    no_order_months: int = 12
    default_report_months: int = 12

    def checked(self) -> "Settings":
        for f in fields(self):
            low, high = BOUNDS[f.name]
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ReminderError(f.name)
        return self

    def widest(self) -> "Settings":
        """The same rules with every window at its widest (to recognise a reminder shown
        with other windows when it is marked done)."""
        return replace(self, birthday_days=BOUNDS["birthday_days"][1], replenish_days=BOUNDS["replenish_days"][1],
                       credit_days=BOUNDS["credit_days"][1], stale_months=BOUNDS["stale_months"][0],
                       no_order_months=BOUNDS["no_order_months"][0])


BOUNDS = {
    "birthday_days": (0, 365), "replenish_days": (0, 365), "credit_days": (0, 365),
    "stale_months": (1, 120), "no_order_months": (1, 120), "default_report_months": (1, 120),
}


@dataclass(frozen=True)
class Reminder:
    kind: str
    customer_id: int
    number: str
    name: str
    owner_id: int | None
    subject_id: int          # contact, product or after-sales id; 0: the customer itself
    subject: str | None      # its name (contact, product) or the complaint's first words
    occurrence: dt.date      # what makes it this reminder (see ReminderDone)
    due_on: dt.date          # birthday, replenishment day, expiry, re-check day …
    since: dt.date | None    # the date it follows from: birth date, last purchase, report, last check, last order
    days: int                # due_on − today: negative when past

    @property
    def overdue(self) -> bool:
        return self.days < 0


@dataclass
class Reminders:
    on: dt.date
    settings: Settings
    items: dict[str, list[Reminder]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def all(self) -> list[Reminder]:
        return [r for kind in KINDS for r in self.items.get(kind, ())]


# -- helpers ----------------------------------------------------------------------------------

def _scope(query, user):
    condition = scope.customer_condition(user)
    return query if condition is None else query.where(condition)


def _done(kind: str, subject=None, occurrence=None, *, occurrence_from=None, occurrence_to=None):
    """EXISTS a done row of ``kind`` for the customer (and subject and occurrence)."""
    conditions = [ReminderDone.kind == kind, ReminderDone.customer_id == Customer.id]
    conditions.append(ReminderDone.subject_id == (CUSTOMER_SUBJECT if subject is None else subject))
    if occurrence is not None:
        conditions.append(ReminderDone.occurrence == occurrence)
    if occurrence_from is not None:
        conditions.append(ReminderDone.occurrence >= occurrence_from)
    if occurrence_to is not None:
        conditions.append(ReminderDone.occurrence <= occurrence_to)
    return sa.exists().where(*conditions)


def _run(session, query, user, limit, *order):
    """(rows, count) of ``query`` within ``user``'s scope: all of them counted, at most
    ``limit`` fetched in ``order`` (the kind sorts them exactly afterwards). One query each
    way: ``limit`` 0 counts only, None fetches all (the count is their number), otherwise the
    count rides along with the rows as ``count(*) OVER ()`` (taken before the LIMIT)."""
    query = _scope(query, user)
    if limit is not None and limit <= 0:
        return [], session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if limit is None:
        rows = session.execute(query).all()
        return rows, len(rows)
    query = query.add_columns(sa.func.count().over().label("total_count")).order_by(*order).limit(limit)
    rows = session.execute(query).all()
    return rows, (rows[0].total_count if rows else 0)


def _last_done(kind: str):
    return (sa.select(sa.func.max(ReminderDone.occurrence))
            .where(ReminderDone.kind == kind, ReminderDone.customer_id == Customer.id,
                   ReminderDone.subject_id == CUSTOMER_SUBJECT)
            .scalar_subquery())


_CUSTOMER = (Customer.id.label("customer_id"), Customer.number, Customer.name, Customer.owner_id)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthday_in(birth: dt.date, year: int) -> dt.date:
    """The day ``birth``'s birthday falls on in ``year`` (29 Feb → 28 Feb in a common year)."""
    if birth.month == 2 and birth.day == 29 and not is_leap(year):
        return dt.date(year, 2, 28)
    return birth.replace(year=year)


def _segments(on: dt.date, days: int) -> list[tuple[int, dt.date, dt.date]]:
    """The window on … on+days cut at each new year: (year, first day, last day)."""
    end = on + dt.timedelta(days=days)
    segments, start = [], on
    while start <= end:
        last = min(end, dt.date(start.year, 12, 31))
        segments.append((start.year, start, last))
        start = dt.date(start.year + 1, 1, 1)
    return segments


def _month_day(column):
    return sa.extract("month", column) * 100 + sa.extract("day", column)


def _birthday_condition(column, year: int, first: dt.date, last: dt.date):
    """The birthday (by month and day) of ``column`` falls between first and last of ``year``."""
    md = _month_day(column)
    if not is_leap(year):
        md = sa.case((md == 229, 228), else_=md)
    return md.between(first.month * 100 + first.day, last.month * 100 + last.day)


# -- the kinds --------------------------------------------------------------------------------
# Each builder returns (reminders, count): every matching one counted, at most ``limit``
# (None: all) fetched, sorted by date.

def _birthdays(session, user, on, settings, limit=None, customer_id=None):
    """Customers' and contacts' birthdays."""
    segments = _segments(on, settings.birthday_days)
    found, count = [], 0
    for subject_kind in ("customer", "contact"):
        for index, (year, first, last) in enumerate(segments):
            if subject_kind == "customer":
                birth, subject_column = Customer.birth_date, sa.literal(CUSTOMER_SUBJECT)
                query = sa.select(*_CUSTOMER, subject_column.label("subject_id"), sa.null().label("subject"),
                                  birth.label("birth"))
            else:
                birth, subject_column = Contact.birth_date, Contact.id
                query = (sa.select(*_CUSTOMER, Contact.id.label("subject_id"), Contact.name.label("subject"),
                                   birth.label("birth"))
                         .select_from(Contact).join(Customer, Customer.id == Contact.customer_id))
            condition = _birthday_condition(birth, year, first, last)
            # A window longer than a year would meet a birthday twice: the first one only.
            for earlier_year, earlier_first, earlier_last in segments[:index]:
                condition = sa.and_(condition, sa.not_(
                    _birthday_condition(birth, earlier_year, earlier_first, earlier_last)))
            query = query.where(birth.is_not(None), birth <= on, condition,
                                sa.not_(_done("birthday", subject_column, occurrence_from=dt.date(year, 1, 1),
                                              occurrence_to=dt.date(year, 12, 31))))
            if customer_id is not None:
                query = query.where(Customer.id == customer_id)
            rows, n = _run(session, query, user, limit, _month_day(birth), Customer.number, subject_column)
            count += n
            for r in rows:
                day = birthday_in(r.birth, year)
                found.append(Reminder("birthday", r.customer_id, r.number, r.name, r.owner_id, r.subject_id,
                                      r.subject, day, day, r.birth, (day - on).days))
    found.sort(key=lambda r: (r.due_on, r.number, r.subject_id))
    return (found[:limit] if limit is not None else found), count


def _replenishments(session, user, on, settings, limit=None, customer_id=None):
    cycles = sorted(c for c in session.scalars(sa.select(Product.replenish_cycle_days).distinct())
                    if c is not None and c >= 0)
    if not cycles or not cycles[-1]:
        return [], 0
    horizon = on + dt.timedelta(days=settings.replenish_days)
    cycle = Product.replenish_cycle_days

    def per_cycle(day_of):   # a CASE giving each product's constant date by its cycle
        return sa.case(*[(cycle == c, day_of(c)) for c in cycles], else_=None)

    # Only the lines that can be a pair's last purchase in a window are read: a purchase more
    # than two of its product's cycles before ``on`` is out of every window, and so is the
    # pair when it is the latest (every other line of the pair is older still). So the max
    # over the bounded lines is the pair's last purchase whenever the pair is shown, and no
    # pair appears that would not be (tests/planning/test_reminders.py, the bound's cases).
    # The lines carry their transaction's date and customer (migration 0011): no join to
    # trade, and the bounds are ranges of ix_trade_line_product_date per product (PostgreSQL
    # takes each product's own bound, SQLite the constant one: the longest cycle's); a
    # salesperson's customers are ranges of ix_trade_line_customer_date.
    line_date = TransactionLine.trade_date
    last = sa.func.max(line_date).label("last_purchase")
    visible = scope.customer_condition(user)

    def last_purchases(earliest, *conditions):
        query = (sa.select(TransactionLine.customer_id, TransactionLine.product_id, last)
                 .select_from(TransactionLine)
                 .join(Product, Product.id == TransactionLine.product_id)
                 .where(TransactionLine.quantity > 0, line_date >= earliest, line_date <= on, *conditions)
                 .group_by(TransactionLine.customer_id, TransactionLine.product_id))
        if visible is not None:   # the user's customers only, before the aggregate
            query = query.where(TransactionLine.customer_id.in_(sa.select(Customer.id).where(visible)))
        if customer_id is not None:
            query = query.where(TransactionLine.customer_id == customer_id)
        return query

    if session.get_bind().dialect.name == "sqlite" and visible is None and customer_id is None:
        # Every customer: SQLite bounds an index range by a constant only, so one aggregate per
        # cycle, each over its own products' lines from its own bound (a pair's product has one
        # cycle: the parts never share a pair); 0.80 → 0.55 s at 100,000 customers. A
        # salesperson's lines are read by customer instead (ix_trade_line_customer_date).
        bought = sa.union_all(*[
            last_purchases(on - dt.timedelta(days=2 * c),
                           TransactionLine.product_id.in_(sa.select(Product.id).where(cycle == c)))
            for c in cycles])
    else:
        bought = last_purchases(on - dt.timedelta(days=2 * cycles[-1]), cycle >= 0,
                                line_date >= per_cycle(lambda c: on - dt.timedelta(days=2 * c)))
    b = bought.subquery("bought")
    due = days_after(b.c.last_purchase, cycle)
    # due (last + cycle) ≤ horizon ⇔ last ≤ horizon − cycle: a constant per cycle.
    query = (sa.select(*_CUSTOMER, Product.id.label("subject_id"), Product.name.label("subject"),
                       b.c.last_purchase, cycle.label("cycle"))
             .select_from(b)
             .join(Customer, Customer.id == b.c.customer_id)
             .join(Product, Product.id == b.c.product_id)
             .where(b.c.last_purchase <= per_cycle(lambda c: horizon - dt.timedelta(days=c)),
                    sa.not_(_done("replenish", Product.id, b.c.last_purchase))))
    rows, count = _run(session, query, user, limit, due, Customer.number, Product.id)
    found = []
    for r in rows:
        day = r.last_purchase + dt.timedelta(days=r.cycle)
        found.append(Reminder("replenish", r.customer_id, r.number, r.name, r.owner_id, r.subject_id, r.subject,
                              r.last_purchase, day, r.last_purchase, (day - on).days))
    found.sort(key=lambda r: (r.due_on, r.number, r.subject_id))
    return found, count


def _validity_cut(session, day: dt.date, default_months: int):
    """A CASE giving, for each card's validity in months, the latest report date whose
    expiry (date + validity) is on or before ``day``."""
    months = sorted({m for m in session.scalars(sa.select(Customer.credit_report_valid_months).distinct())
                     if m is not None and 0 < m <= 1200})
    whens = [(Customer.credit_report_valid_months == m, latest_start_for(day, m)) for m in months]
    default = latest_start_for(day, default_months)
    return sa.case(*whens, else_=default) if whens else sa.literal(default, sa.Date)


def _validity(months, settings) -> int:
    return months if months and 0 < months <= 1200 else settings.default_report_months


def _credit_reports(session, user, on, settings, limit=None, customer_id=None):
    horizon = on + dt.timedelta(days=settings.credit_days)
    cut = _validity_cut(session, horizon, settings.default_report_months)
    query = (sa.select(*_CUSTOMER, Customer.credit_report_date, Customer.credit_report_valid_months)
             .where(Customer.credit_report_date.is_not(None), Customer.credit_report_date <= cut,
                    sa.not_(_done("credit_report", None, Customer.credit_report_date))))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    # Fetched oldest report first; the expiry order is exact after the fetch.
    rows, count = _run(session, query, user, limit, Customer.credit_report_date, Customer.number)
    found = []
    for r in rows:
        expiry = add_months(r.credit_report_date, _validity(r.credit_report_valid_months, settings))
        found.append(Reminder("credit_report", r.customer_id, r.number, r.name, r.owner_id, CUSTOMER_SUBJECT, None,
                              r.credit_report_date, expiry, r.credit_report_date, (expiry - on).days))
    found.sort(key=lambda r: (r.due_on, r.number))
    return found, count


def _credit_limits(session, user, on, settings, limit=None, customer_id=None):
    horizon = on + dt.timedelta(days=settings.credit_days)
    cut = _validity_cut(session, horizon, settings.default_report_months)
    reviewed = _last_done("credit_limit")
    query = (sa.select(*_CUSTOMER, Customer.credit_report_date, Customer.credit_report_valid_months,
                       reviewed.label("reviewed"))
             .where(Customer.credit_limit > 0,
                    sa.or_(Customer.credit_report_date.is_(None), Customer.credit_report_date <= cut),
                    sa.or_(reviewed.is_(None), reviewed <= cut)))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    rows, count = _run(session, query, user, limit, Customer.credit_report_date.is_not(None),
                       Customer.credit_report_date, Customer.number)
    found = []
    for r in rows:
        basis = max((d for d in (r.credit_report_date, r.reviewed) if d is not None), default=None)
        due_on = add_months(basis, _validity(r.credit_report_valid_months, settings)) if basis else on
        found.append(Reminder("credit_limit", r.customer_id, r.number, r.name, r.owner_id, CUSTOMER_SUBJECT, None,
                              basis or on, due_on, basis, (due_on - on).days))
    found.sort(key=lambda r: (r.due_on, r.number))
    return found, count


def _stale_cards(session, user, on, settings, limit=None, customer_id=None):
    cut = latest_start_for(on, settings.stale_months)
    before = dt.datetime.combine(cut + dt.timedelta(days=1), dt.time())
    checked = _last_done("stale_card")
    query = (sa.select(*_CUSTOMER, Customer.verified_on, Customer.created_on, checked.label("checked"))
             .where(sa.or_(Customer.verified_on.is_(None), Customer.verified_on <= cut),
                    Customer.created_on < before,
                    sa.or_(checked.is_(None), checked <= cut)))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    rows, count = _run(session, query, user, limit, Customer.verified_on.is_not(None), Customer.verified_on,
                       Customer.created_on, Customer.number)
    found = []
    for r in rows:
        basis = max(d for d in (r.verified_on, r.created_on.date(), r.checked) if d is not None)
        due_on = add_months(basis, settings.stale_months)
        found.append(Reminder("stale_card", r.customer_id, r.number, r.name, r.owner_id, CUSTOMER_SUBJECT, None,
                              basis, due_on, basis, (due_on - on).days))
    found.sort(key=lambda r: (r.due_on, r.number))
    return found, count


def _no_orders(session, user, on, settings, limit=None, customer_id=None):
    cut = latest_start_for(on, settings.no_order_months)
    query = (sa.select(*_CUSTOMER, Customer.last_trade_on)
             .where(Customer.stage == "current", Customer.last_trade_on.is_not(None), Customer.last_trade_on <= cut,
                    sa.not_(_done("no_order", None, Customer.last_trade_on))))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    rows, count = _run(session, query, user, limit, Customer.last_trade_on, Customer.number)
    found = []
    for r in rows:
        due_on = add_months(r.last_trade_on, settings.no_order_months)
        found.append(Reminder("no_order", r.customer_id, r.number, r.name, r.owner_id, CUSTOMER_SUBJECT, None,
                              r.last_trade_on, due_on, r.last_trade_on, (due_on - on).days))
    found.sort(key=lambda r: (r.due_on, r.number))
    return found, count


def _complaints(session, user, on, settings, limit=None, customer_id=None):
    query = (sa.select(*_CUSTOMER, AfterSales.id.label("subject_id"), AfterSales.content, AfterSales.occurred_on)
             .select_from(AfterSales).join(Customer, Customer.id == AfterSales.customer_id)
             .where(AfterSales.kind == "complaint", AfterSales.status == "open", AfterSales.occurred_on <= on,
                    sa.not_(_done("complaint", AfterSales.id, AfterSales.occurred_on))))
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    rows, count = _run(session, query, user, limit, AfterSales.occurred_on, Customer.number, AfterSales.id)
    found = []
    for r in rows:
        text = " ".join((r.content or "").split())
        found.append(Reminder("complaint", r.customer_id, r.number, r.name, r.owner_id, r.subject_id,
                              text[:60] + ("…" if len(text) > 60 else ""), r.occurred_on, r.occurred_on,
                              r.occurred_on, (r.occurred_on - on).days))
    found.sort(key=lambda r: (r.due_on, r.number, r.subject_id))
    return found, count


_BUILDERS = {
    "birthday": _birthdays, "replenish": _replenishments, "credit_report": _credit_reports,
    "credit_limit": _credit_limits, "stale_card": _stale_cards, "no_order": _no_orders, "complaint": _complaints,
}


# -- the public functions ---------------------------------------------------------------------

def check_kinds(kinds) -> tuple[str, ...]:
    kinds = tuple(kinds) if kinds else KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ReminderError(unknown[0])
    return tuple(k for k in KINDS if k in kinds)


def for_user(session: Session, user, on: dt.date, settings: Settings | None = None, *, kinds=None,
             limit: int | None = None) -> Reminders:
    """Every reminder due for ``user``'s customers (row scope) on ``on``, per kind, each kind
    sorted by its date. ``limit`` keeps at most that many of each kind (``counts`` has them
    all); ``kinds`` chooses kinds (default all)."""
    settings = (settings or Settings()).checked()
    result = Reminders(on=on, settings=settings)
    for kind in check_kinds(kinds):
        found, count = _BUILDERS[kind](session, user, on, settings, limit)
        result.items[kind] = found
        result.counts[kind] = count
    return result


def counts_for(session: Session, user, on: dt.date, settings: Settings | None = None) -> dict[str, int]:
    """How many reminders of each kind ``user`` has on ``on`` (for a dashboard)."""
    return for_user(session, user, on, settings, limit=0).counts


def find(session: Session, user, on: dt.date, kind: str, customer_id: int, subject_id: int,
         occurrence: dt.date | None, settings: Settings | None = None) -> Reminder | None:
    """The reminder the user was shown (its windows at their widest), or None when it is not
    due, not theirs, or done already."""
    check_kinds([kind])
    settings = (settings or Settings()).checked().widest()
    found, _count = _BUILDERS[kind](session, user, on, settings, None, customer_id=customer_id)
    for reminder in found:
        if reminder.subject_id == subject_id and (kind in ROLLING or reminder.occurrence == occurrence):
            return reminder
    return None


def mark_done(session: Session, user, on: dt.date, kind: str, customer_id: int, subject_id: int,
              occurrence: dt.date | None, *, now: dt.datetime | None = None,
              settings: Settings | None = None) -> ReminderDone:
    """Record that ``user`` did the reminder (raises ReminderError when it is not one of
    theirs now). The caller commits and logs. For the rolling checks the occurrence
    recorded is ``on``: the check was done that day."""
    reminder = find(session, user, on, kind, customer_id, subject_id, occurrence, settings)
    if reminder is None:
        raise ReminderError("not due")
    done = ReminderDone(kind=kind, customer_id=customer_id, subject_id=subject_id,
                        occurrence=on if kind in ROLLING else reminder.occurrence,
                        done_by_id=getattr(user, "id", None), done_at=now or dt.datetime.now().replace(microsecond=0))
    session.add(done)
    session.flush()
    return done
