"""The start page: the dashboard of the user's roles (portal/services/dashboard/) — the
numbers and charts each role needs first, every number linking to the list behind it — or,
before login, what the portal is.

The sections follow the user's roles; a section is shown only when the user holds the
rights of the pages it summarises (its ``needs``). The numbers are computed by the services
within the user's row scope; this view only turns their targets into URLs and renders them.
Charts are drawn by the analysis pages' script (static/analysis/analysis.js, through
static/dashboard/dashboard.js) with the portal's own ECharts: nothing is loaded from the
internet.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from flask import current_app, url_for
from flask_appbuilder import IndexView, expose
from markupsafe import Markup
from werkzeug.routing import BuildError

from portal.analysis.drill import Link
from portal.analysis.registry import result_json
from portal.extensions import db
from portal.security import access_log
from portal.security.permissions import current_user, has
from portal.services import dashboard
from portal.services.dashboard import Grid, Options, Page

from .analyses import display


class _Url:
    """A resolved target: what the registry's result_json and the table read (``.url``)."""

    def __init__(self, url: str):
        self.url = url


def href(target) -> str | None:
    """The URL of a dashboard target (None: no link, or a page that does not exist)."""
    if target is None:
        return None
    if isinstance(target, (Link, Grid, _Url)):
        return target.url
    if isinstance(target, Page):
        try:
            return url_for(target.endpoint, **{k: v for k, v in target.args.items() if v is not None})
        except BuildError:
            return None
    raise TypeError(f"not a dashboard target: {target!r}")


def _resolved(entry):
    if entry is None:
        return None
    if isinstance(entry, dict):
        return {k: _resolved(v) for k, v in entry.items()}
    url = href(entry)
    return _Url(url) if url else None


def options() -> Options:
    from .today import default_settings
    from .visits_plan import role_map

    return Options(reminder_settings=default_settings(), role_map=role_map())


def allowed(user):
    return lambda section: all(has(user, permission, view) for permission, view in section.needs)


def figure_text(figure) -> str:
    if figure.value is None:
        return "—"
    if figure.type == "percent":
        return f"{display(figure.value, 'decimal')}%"
    return display(figure.value, figure.type)


class HomeView(IndexView):
    index_template = "portal/home.html"

    @expose("/")
    def index(self):
        user = current_user()
        if user is None:
            return self.render_template(self.index_template, built=None)
        keys = dashboard.section_keys([role.name for role in user.roles])
        built = dashboard.build(db.session, user, keys, dt.date.today(), options(), allowed=allowed(user))
        charts = {}
        for _section, panels in built:
            for panel in panels:
                if panel.result is not None:
                    panel.result = replace(panel.result, drill=[_resolved(d) for d in (panel.result.drill or [])])
                    if panel.result.chart is not None and panel.result.rows:
                        charts[panel.key] = Markup(json.dumps(result_json(panel.result), ensure_ascii=False)
                                                   .replace("<", "\\u003c"))
        access_log.record("list", "Dashboard", row_count=sum(len(p) for _s, p in built),
                          detail={"via": "dashboard", "sections": [s.key for s, _p in built]})
        return self.render_template(self.index_template, built=built, charts=charts, href=href,
                                    figure_text=figure_text, display=display, today=dt.date.today(),
                                    debug=current_app.debug)
