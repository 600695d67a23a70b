"""The role dashboards (the portal's start page): the numbers and charts a role needs first.

A dashboard is a list of *sections*; which ones a user sees follows their portal roles
(:data:`ROLE_SECTIONS`; a user with several roles sees the sections of each, in the order
of :data:`SECTION_ORDER`), and a section is shown only when the user also holds the rights
of the pages it summarises (:attr:`Section.needs`, checked by the view): a company that
takes the today page away from a role takes its dashboard numbers away too.

Every section is a function ``build(session, user, today, options) -> list[Panel]``
(:class:`Options`: the reminder windows and visit-rule role map the configuration gives) computed in a
handful of GROUP BY queries, within ``user``'s row scope (portal/security/scope.py): a
salesperson's numbers count only their customers. Every number links to the list behind it:
a drill-down to the customer grid (:class:`~portal.analysis.drill.Link`), a grid with
``f.<field>`` filters (:class:`Grid`) or another page of the portal (:class:`Page`, an
endpoint the view turns into a URL). Charts are the analysis registry's
:class:`~portal.analysis.registry.Result` (chart + table), drawn by the analysis pages'
script, so a dashboard chart looks and drills like an analysis.

No Flask here (labels are lazy gettext strings, resolved when the page is rendered).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from portal.analysis.drill import Link
from portal.analysis.registry import Result


# --- where a number leads -------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """A page of the portal: a Flask endpoint and its query-string arguments."""

    endpoint: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grid:
    """A spreadsheet grid (``/grid/<resource>/``) with ``f.<field>`` filters."""

    resource: str
    filters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        query = [(f"f.{k}", str(v)) for k, v in self.filters.items() if v is not None]
        return f"/grid/{self.resource}/" + (f"?{urlencode(query)}" if query else "")


Target = Link | Page | Grid | None


@dataclass(frozen=True)
class Figure:
    """One number on a dashboard. ``type``: int, money or percent; ``tone``: ``warn`` for a
    number that asks for work (shown highlighted when not zero)."""

    key: str
    label: Any
    value: Any
    target: Target = None
    type: str = "int"
    tone: str | None = None
    hint: Any = ""


@dataclass
class Panel:
    """A box of a section: figures, an optional chart with its table (a registry Result
    whose drill entries may also be :class:`Page`/:class:`Grid` targets), a link to the
    full page and notes."""

    key: str
    title: Any
    figures: list[Figure] = field(default_factory=list)
    result: Result | None = None
    more: Target = None
    more_label: Any = ""
    notes: list = field(default_factory=list)
    rows: list[dict] | None = None       # a plain list (e.g. recently changed cards)


@dataclass(frozen=True)
class Options:
    """What the configuration decides for the numbers: the reminder windows
    (:class:`portal.services.reminders.Settings`, None: its defaults) and the visit-rule role
    map (None: :data:`portal.services.visit_plan.DEFAULT_ROLE_MAP`)."""

    reminder_settings: Any = None
    role_map: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    build: Callable[..., list[Panel]]
    needs: tuple[tuple[str, str], ...] = ()   # (permission, view) pairs the user must hold (all)


# --- which sections for which roles ---------------------------------------------------------

#: the sections of each portal role (seeds/roles.json); a role not listed sees the glance.
ROLE_SECTIONS: dict[str, tuple[str, ...]] = {
    "Clerk": ("quality", "entries"),
    "Salesperson": ("reminders", "visits"),
    "SalesManager": ("team", "composition"),
    "Marketing": ("segments", "campaigns"),
    "Custodian": ("overview", "quality", "classification", "activity", "access"),
    "Auditor": ("overview", "activity", "access", "classification"),
    "Admin": ("overview", "activity", "access", "classification"),
}
SECTION_ORDER = ("reminders", "visits", "team", "composition", "segments", "campaigns", "quality", "entries",
                 "overview", "classification", "activity", "access", "glance")
COMMON = ("glance",)


def section_keys(role_names, role_sections: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """The sections of users holding ``role_names``: the union of each role's, in
    :data:`SECTION_ORDER`, and the glance (stages, recently changed cards) for everyone."""
    role_sections = ROLE_SECTIONS if role_sections is None else role_sections
    wanted = set(COMMON)
    for name in role_names:
        wanted.update(role_sections.get(name, ()))
    return [key for key in SECTION_ORDER if key in wanted]


def sections() -> dict[str, Section]:
    from . import campaigns, entries, overview, quality, sales, team

    found = {}
    for module in (sales, team, campaigns, quality, entries, overview):
        for section in module.SECTIONS:
            found[section.key] = section
    return found


def build(session, user, keys, today: dt.date | None = None, options: Options | None = None, *,
          allowed: Callable[[Section], bool] = lambda s: True):
    """``[(Section, [Panel, ...]), ...]`` for the section ``keys`` the user is ``allowed``."""
    today = today or dt.date.today()
    options = options or Options()
    known = sections()
    out = []
    for key in keys:
        section = known.get(key)
        if section is None or not allowed(section):
            continue
        out.append((section, section.build(session, user, today, options)))
    return out
