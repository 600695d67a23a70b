"""The clerk's entries: the cards, contacts and transactions the user created today (and per
day over the last :data:`DAYS` days), from ``created_by_id`` / ``created_on``, within the row
scope. Each number opens its grid filtered to the user and the day."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.analysis.registry import Chart, Column, Result, Series
from portal.models import Contact, Customer, Transaction
from portal.security import scope

from . import Figure, Grid, Panel, Section

DAYS = 14
#: (key, model, grid resource, label)
KINDS = (
    ("customers", Customer, "customer", _l("Cards")),
    ("contacts", Contact, "contact", _l("Contacts")),
    ("transactions", Transaction, "transaction", _l("Transactions")),
)


def day_grid(resource: str, user_id: int, first: dt.date, last: dt.date | None = None) -> Grid:
    """The grid of ``resource`` filtered to rows ``user_id`` created from ``first`` to ``last``."""
    last = last or first
    start = dt.datetime.combine(first, dt.time())
    end = dt.datetime.combine(last, dt.time.max)
    return Grid(resource, {"created_by": user_id, "created_on": f"{start.isoformat()}..{end.isoformat()}"})


def per_day(session, user, today: dt.date, days: int = DAYS) -> dict[str, dict[dt.date, int]]:
    """``{kind: {day: n}}``: rows of each kind ``user`` created on each of the ``days`` days up
    to ``today``, within their scope (one GROUP BY per kind)."""
    first = today - dt.timedelta(days=days - 1)
    start, end = dt.datetime.combine(first, dt.time()), dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
    found = {}
    for key, model, _resource, _label in KINDS:
        day = sa.func.date(model.created_on)
        query = (sa.select(day, sa.func.count()).select_from(model)
                 .where(model.created_by_id == user.id, model.created_on >= start, model.created_on < end)
                 .group_by(day))
        query = scope.scoped(query, model, user)
        found[key] = {_as_date(d): n for d, n in session.execute(query)}
    return found


def _as_date(value) -> dt.date:
    # SQLite's date() is text, PostgreSQL's a date.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def build(session, user, today, options) -> list[Panel]:
    found = per_day(session, user, today)
    figures = [Figure(key, label, found[key].get(today, 0), day_grid(resource, user.id, today))
               for key, _model, resource, label in KINDS]
    days = [today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    rows, links = [], []
    for day in days:
        rows.append({"day": day.isoformat()[5:], "date": day, **{key: found[key].get(day, 0) for key, *_ in KINDS}})
        links.append({key: day_grid(resource, user.id, day) for key, _m, resource, _l2 in KINDS})
    result = Result(
        columns=[Column("date", _l("Date"), "date"), *[Column(key, label, "int") for key, _m, _r, label in KINDS]],
        rows=rows, drill=links,
        chart=Chart("stacked_bar", category="day", series=tuple(Series(key) for key, *_ in KINDS)))
    first = days[0]
    return [Panel("entries", _l("My entries today"), figures=figures, result=result,
                  more=day_grid("customer", user.id, first, today), more_label=_l("My cards of the last 14 days"),
                  notes=[_l("Records you created, per day over the last %(n)s days; click a bar for that day's.",
                            n=DAYS)])]


SECTIONS = (Section("entries", _l("Today's entries"), build, needs=(("can_list", "CustomerView"),)),)
