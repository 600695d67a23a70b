"""The start page: what the archive holds and where a clerk's day begins."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_appbuilder import IndexView, expose

from portal.extensions import db
from portal.i18n import pick
from portal.models import Customer, Transaction, Visit
from portal.models.choices import STAGE


class HomeView(IndexView):
    index_template = "portal/home.html"

    @expose("/")
    def index(self):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated:
            return self.render_template(self.index_template, stats=None)
        by_stage = dict(db.session.execute(sa.select(Customer.stage, sa.func.count()).group_by(Customer.stage)).all())
        stats = {
            "stages": [(code, pick(zh, en), by_stage.get(code, 0)) for code, zh, en in STAGE],
            "customers": sum(by_stage.values()),
            "transactions": db.session.scalar(sa.select(sa.func.count()).select_from(Transaction)),
            "visits": db.session.scalar(sa.select(sa.func.count()).select_from(Visit)),
            "recent": db.session.scalars(sa.select(Customer).order_by(Customer.changed_on.desc()).limit(8)).all(),
        }
        return self.render_template(self.index_template, stats=stats)
