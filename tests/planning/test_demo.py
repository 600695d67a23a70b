"""The demo archive gives the plans and the today page something to show."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer, Visit
from portal.seeds.demo import DEMO_PASSWORD, DEMO_TODAY
from portal.services import reminders, visit_plan
from tests.conftest import login


def test_the_demo_salespeople_have_visits_due_and_reminders(demo_app):
    owner_id = db.session.scalar(sa.select(Visit.visitor_id).join(Customer, Customer.id == Visit.customer_id)
                                 .where(Visit.visitor_id == Customer.owner_id).limit(1))
    salesperson = db.session.get(demo_app.appbuilder.sm.user_model, owner_id)
    plan = visit_plan.due(db.session, salesperson, DEMO_TODAY)
    assert plan.rows and any(r.visit and r.visit.last for r in plan.rows)
    counts = reminders.counts_for(db.session, salesperson, DEMO_TODAY, reminders.Settings(birthday_days=30))
    assert sum(counts.values()) > 0
    client = login(demo_app.test_client(), salesperson.username, password=DEMO_PASSWORD)
    assert client.get(f"/today/?on={DEMO_TODAY.isoformat()}").status_code == 200

