"""Type-ahead lists for relation cells (/api/v1/grid/customer/lookup/<field>)."""
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer
from tests.conftest import login, user

DEMO = "Demo@2026!"


def test_owner_choices_match_by_name_and_pinyin(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    by_name = clerk.get("/api/v1/grid/customer/lookup/owner", query_string={"q": "李"}).json["result"]
    assert {"id": user(demo_app, "lina").id, "label": "李娜"} in by_name
    region = clerk.get("/api/v1/grid/customer/lookup/region", query_string={"q": "华东"}).json["result"]
    assert [r["label"] for r in region] == ["华东区"]


def test_referrer_choices_stay_within_the_users_scope(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = {c.id for c in db.session.scalars(sa.select(Customer).where(
        Customer.owner_id == user(demo_app, "zhangwei").id))}
    found = sales.get("/api/v1/grid/customer/lookup/referred_by").json["result"]
    assert found and {r["id"] for r in found} <= mine
    person = db.session.scalars(sa.select(Customer).where(Customer.id.in_(mine), Customer.customer_type == "person")).first()
    if person is not None:
        hits = sales.get("/api/v1/grid/customer/lookup/referred_by", query_string={"q": person.name_initials}).json
        assert person.id in [r["id"] for r in hits["result"]]


def test_a_column_without_a_list_is_a_clear_400(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    response = clerk.get("/api/v1/grid/customer/lookup/mobile")
    assert response.status_code == 400 and "手机" in response.json["message"]
