"""Large tables: a page without its COUNT (count=0) and the count on its own (…/count)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AccessLog, Customer
from tests.conftest import login, user

from .helpers import DEMO


def count_statements(client, url, **args):
    statements = []

    def record(conn, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url, query_string=args)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return response, [s for s in statements if "count(" in s.lower()]


def test_count_zero_does_not_count(demo_app):
    client = login(demo_app.test_client(), "clerk")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    response, counts = count_statements(client, "/api/v1/grid/customer/rows", size=50, count=0)
    page = response.json
    assert response.status_code == 200 and not counts
    assert page["total"] is None and page["last_page"] is None and page["has_more"] is True and len(page["rows"]) == 50
    last = -(-total // 50)
    tail = client.get("/api/v1/grid/customer/rows", query_string={"size": 50, "page": last, "count": 0}).json
    assert tail["has_more"] is False and len(tail["rows"]) == total - 50 * (last - 1)
    response, counts = count_statements(client, "/api/v1/grid/customer/rows", size=50)
    assert counts and response.json["total"] == total and response.json["has_more"] is True


def test_the_count_comes_on_its_own_with_the_same_filters_and_scope(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    hz = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.city.like("%杭州%")))
    logged = db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog))
    answer = clerk.get("/api/v1/grid/customer/count", query_string={"f.city": "杭州"}).json
    assert answer == {"total": hz, "estimate": None}  # filtered: no estimate
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == logged  # the rows read is logged
    everything = clerk.get("/api/v1/grid/customer/count").json
    assert everything["total"] == db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE customer"))
        db.session.commit()
        assert clerk.get("/api/v1/grid/customer/count").json["estimate"] == everything["total"]
    else:
        assert everything["estimate"] is None
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = db.session.scalar(sa.select(sa.func.count()).select_from(Customer)
                             .where(Customer.owner_id == user(demo_app, "zhangwei").id))
    assert sales.get("/api/v1/grid/customer/count").json == {"total": mine, "estimate": None}
    assert clerk.get("/api/v1/grid/customer/count", query_string={"f.birth_date": "x"}).status_code == 400
