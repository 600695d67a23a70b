"""A small archive for the visit plan and reminder tests: a team (manager + sales), a second
salesperson outside it, and customers of each grade with hand-placed visits."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer, Region, Route, SalesTeam, Visit
from tests.conftest import user

D = dt.date


@pytest.fixture
def people(app):
    sales, sales2, manager = user(app, "sales"), user(app, "sales2"), user(app, "manager")
    team = SalesTeam(name="华东一部", manager_id=manager.id, members=[sales])
    db.session.add(team)
    db.session.commit()
    return {"sales": sales, "sales2": sales2, "manager": manager, "team": team}


def customer(name, grade, owner, *, team=None, stage="current", region=None, route=None, order=None, **extra):
    extra.setdefault("customer_type", "org")
    row = Customer(name=name, value_grade=grade, owner_id=owner.id if owner else None, team=team, stage=stage,
                   **extra)
    if region:
        row.region_id = db.session.scalar(sa.select(Region.id).where(Region.code == region))
    if route:
        row.route_id = db.session.scalar(sa.select(Route.id).where(Route.code == route))
    row.route_order = order
    db.session.add(row)
    return row


def visit(c, who, on, method="visit"):
    db.session.add(Visit(customer=c, visitor_id=who.id, visited_on=on, method=method))


@pytest.fixture
def plan_archive(people):
    """on = Wed 2025-03-12 (week Mon 03-10 – Sun 03-16):

    A1 (A, sales): visit 03-01, call 03-03, manager visit 01-20
    B1 (B, sales): sales visit 02-20, sales2 visit 03-01 (not counted), call 03-05
    C1 (C, sales): never contacted
    C2 (C, sales): visits 03-10, 03-20, 03-25, call 03-10
    D1 (D, sales): grade without rule;  F1 (A, sales, former);  X (A, sales2)
    """
    sales, sales2, manager = people["sales"], people["sales2"], people["manager"]
    c = {
        "A1": customer("甲一公司", "A", sales, region="EC", route="EC-01", order=2),
        "B1": customer("乙一公司", "B", sales, region="NC", route="NC-01", order=1),
        "C1": customer("丙一公司", "C", sales, region="EC", route="EC-01", order=1),
        "C2": customer("丙二公司", "C", sales),
        "D1": customer("丁一公司", "D", sales),
        "F1": customer("旧客户公司", "A", sales, stage="former"),
        "X": customer("他人公司", "A", sales2),
    }
    db.session.flush()
    visit(c["A1"], sales, D(2025, 3, 1))
    visit(c["A1"], sales, D(2025, 3, 3), "phone")
    visit(c["A1"], manager, D(2025, 1, 20))
    visit(c["B1"], sales, D(2025, 2, 20))
    visit(c["B1"], sales2, D(2025, 3, 1))
    visit(c["B1"], sales, D(2025, 3, 5), "phone")
    visit(c["B1"], sales, D(2025, 3, 6), "email")       # e-mails meet neither rule
    for day in (10, 20, 25):
        visit(c["C2"], sales, D(2025, 3, day))
    visit(c["C2"], sales, D(2025, 3, 10), "phone")
    visit(c["F1"], sales, D(2024, 1, 1))
    db.session.commit()
    return c
