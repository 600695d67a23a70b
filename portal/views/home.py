"""The start page: what the archive holds and where a clerk's day begins."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_appbuilder import IndexView, expose

from portal.extensions import db
from portal.i18n import pick
from portal.security.scope import scoped
from portal.models import Customer, Transaction, Visit
from portal.models.choices import STAGE


class HomeView(IndexView):
    index_template = "portal/home.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return self.render_template(self.index_template, stats=None)
        # Everything on the start page is counted within the user's row scope.
        by_stage = dict(db.session.execute(
            scoped(sa.select(Customer.stage, sa.func.count()).group_by(Customer.stage), Customer)).all())
        stats = {
            "stages": [(code, pick(zh, en), by_stage.get(code, 0)) for code, zh, en in STAGE],
            "customers": sum(by_stage.values()),
            "transactions": db.session.scalar(scoped(sa.select(sa.func.count()).select_from(Transaction), Transaction)),
            "visits": db.session.scalar(scoped(sa.select(sa.func.count()).select_from(Visit), Visit)),
            "recent": db.session.scalars(scoped(sa.select(Customer), Customer)
                                         .order_by(Customer.changed_on.desc()).limit(8)).all(),
        }
        return self.render_template(self.index_template, stats=stats)
