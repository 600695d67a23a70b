"""The clerk's data quality (档案审查): cards missing what the archive needs, third-party cards
not yet verified, and cards due for their periodic check — counted in one query over the
customers in the user's scope, each number drilling to exactly those cards in the grid.

Which fields count (:func:`checked_fields`): every field of the card the field registry marks
``required``, and the key fields of :data:`KEY_FIELDS` a card is of little use without (a
phone or a mobile to reach the customer, the address, the region and route planning needs,
the salesperson who looks after it, where it came from). A text field holding only spaces
counts as missing.

Duplicates: the portal has no duplicate-finding service yet (portal/services has none), so
the dashboard shows no duplicate count rather than a guess.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.analysis import drill
from portal.analysis.registry import Chart, Column, Result, Series
from portal.fields import FieldType, fields_of
from portal.models import Customer, Source
from portal.security import scope
from portal.services import reminders

from . import Figure, Grid, Page, Panel, Section

#: key fields besides the registry's required ones; a tuple of names means "all empty"
KEY_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("phone_or_mobile", ("phone", "mobile")),
    ("province", ("province",)),
    ("city", ("city",)),
    ("street", ("street",)),
    ("region_id", ("region_id",)),
    ("owner_id", ("owner_id",)),
    ("source_id", ("source_id",)),
)
TEXT_TYPES = {t for t in FieldType} - {FieldType.INT, FieldType.DECIMAL, FieldType.MONEY, FieldType.DATE,
                                        FieldType.DATETIME, FieldType.BOOL, FieldType.RELATION,
                                        FieldType.RELATION_MANY}


@dataclass(frozen=True)
class Checked:
    key: str
    columns: tuple[str, ...]
    required: bool

    @property
    def label(self) -> str:
        if self.key == "phone_or_mobile":
            return str(_l("Phone or mobile"))
        return str(fields_of(Customer)[self.columns[0]].label)


def checked_fields() -> list[Checked]:
    """The registry's required fields of the card, then the key fields (no field twice)."""
    specs = fields_of(Customer)
    found = [Checked(name, (name,), True) for name, spec in specs.items()
             if spec.required and not spec.readonly and spec.type != FieldType.RELATION_MANY
             and hasattr(Customer, name)]
    seen = {c.key for c in found}
    found += [Checked(key, columns, False) for key, columns in KEY_FIELDS if key not in seen]
    return found


def _empty(name: str):
    column = getattr(Customer, name)
    spec = fields_of(Customer).get(name)
    if spec is not None and spec.type in TEXT_TYPES:
        return sa.or_(column.is_(None), sa.func.trim(column) == "")
    return column.is_(None)


def missing_condition(checked: Checked):
    """The cards missing ``checked`` (every one of its columns empty)."""
    return sa.and_(*(_empty(name) for name in checked.columns))


def third_party_unverified():
    """Cards from a third-party source (Source.third_party) without a verification stamp."""
    return sa.and_(Customer.verified_on.is_(None),
                   Customer.source_id.in_(sa.select(Source.id).where(Source.third_party.is_(True))))


def _count(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def counts(session, user) -> dict:
    """``{"cards": n, "unverified": n, "missing": {key: n}}`` for the cards in ``user``'s scope
    (:data:`portal.security.scope.ALL`: every card) — one query."""
    fields = checked_fields()
    query = sa.select(sa.func.count(), _count(third_party_unverified()),
                      *(_count(missing_condition(c)) for c in fields)).select_from(Customer)
    if user is not scope.ALL:
        condition = scope.customer_condition(user)
        if condition is not None:
            query = query.where(condition)
    row = session.execute(query).one()
    return {"cards": int(row[0] or 0), "unverified": int(row[1] or 0),
            "missing": {c.key: int(v or 0) for c, v in zip(fields, row[2:])}}


# --- drill-downs ----------------------------------------------------------------------------

def _field_keys() -> tuple[str, ...]:
    return tuple(c.key for c in checked_fields())


def _missing_label(params):
    key = params.get("field", "")
    found = next((c for c in checked_fields() if c.key == key), None)
    return _l("Cards missing %(field)s", field=found.label if found else key)


@drill.define("dashboard.missing", label=_missing_label)
def _drill_missing(params):
    key = drill.require(params, "field", choices=_field_keys())
    return missing_condition(next(c for c in checked_fields() if c.key == key))


@drill.define("dashboard.unverified", label=_l("Third-party cards not verified"))
def _drill_unverified(params):
    return third_party_unverified()


# --- the section ----------------------------------------------------------------------------

def build(session, user, today, options) -> list[Panel]:
    found = counts(session, user)
    fields = checked_fields()
    settings = options.reminder_settings
    stale = reminders.for_user(session, user, today, settings, kinds=("stale_card",), limit=0).counts["stale_card"]
    months = (settings or reminders.Settings()).stale_months
    figures = [
        Figure("cards", _l("Cards"), found["cards"], Grid("customer")),
        Figure("unverified", _l("Third-party cards not verified"), found["unverified"],
               drill.link("dashboard.unverified"), tone="warn",
               hint=_l("From a source marked third party, with no verification stamp.")),
        Figure("stale", _l("Cards to re-check"), stale, Page("TodayView.page", {"kind": "stale_card"}), tone="warn",
               hint=_l("Not checked for %(n)s months (the periodic name and address check).", n=months)),
        Figure("incomplete", _l("Fields missing"), sum(found["missing"].values()), tone="warn",
               hint=_l("Empty required or key fields, over all cards.")),
    ]
    rows, links = [], []
    for c in fields:
        n = found["missing"][c.key]
        rows.append({"field": c.label, "required": str(_l("Required")) if c.required else str(_l("Key field")),
                     "missing": n,
                     "share": round(100 * n / found["cards"], 1) if found["cards"] else None})
        links.append(drill.link("dashboard.missing", field=c.key))
    result = Result(
        columns=[Column("field", _l("Field")), Column("required", _l("Kind")),
                 Column("missing", _l("Cards missing it"), "int"), Column("share", _l("Share of cards %"), "decimal")],
        rows=rows, drill=links, chart=Chart("bar", category="field", series=(Series("missing"),), horizontal=True))
    return [Panel("quality", _l("Data quality"), figures=figures, result=result,
                  notes=[_l("Click a bar or a number to open those cards in the grid and complete them.")])]


SECTIONS = (Section("quality", _l("Data quality"), build, needs=(("can_list", "CustomerView"),)),)
