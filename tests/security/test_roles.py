"""Each role opens what its work needs and nothing else (seeds/roles.json)."""
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer
from portal.seeds import roles
from tests.conftest import ROLE_USERS, login

ALLOWED, DENIED = True, False

# (page, {username: may open it?})
PAGES = {
    "/customerview/list/": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=1, auditor=1),
    "/customerview/add": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=0, auditor=0),
    "/contactview/add": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=0, auditor=0),
    "/visitview/add": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=0, auditor=0),
    "/transactionview/add": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=0, auditor=0),
    "/promotionview/add": dict(custodian=1, clerk=0, sales=0, manager=0, marketing=1, auditor=0),
    "/promotionview/list/": dict(custodian=1, clerk=1, sales=0, manager=1, marketing=1, auditor=1),
    "/regionview/add": dict(custodian=1, clerk=0, sales=0, manager=0, marketing=0, auditor=0),
    "/regionview/list/": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=1, auditor=1),
    "/tagview/add": dict(custodian=1, clerk=1, sales=0, manager=0, marketing=1, auditor=0),
    "/salesteamview/add": dict(custodian=1, clerk=0, sales=0, manager=1, marketing=0, auditor=0),
    "/lifecycleeventview/list/": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=1, auditor=1),
    "/users/list/": dict(custodian=0, clerk=0, sales=0, manager=0, marketing=0, auditor=1),
    "/users/add": dict(custodian=0, clerk=0, sales=0, manager=0, marketing=0, auditor=0),
    "/roles/list/": dict(custodian=0, clerk=0, sales=0, manager=0, marketing=0, auditor=1),
    "/users/userinfo/": dict(custodian=1, clerk=1, sales=1, manager=1, marketing=1, auditor=1),
}
CASES = [(page, username, bool(allowed)) for page, who in PAGES.items() for username, allowed in who.items()]


def opens(client, url) -> bool:
    response = client.get(url)
    assert response.status_code in (200, 302, 403), (url, response.status_code)
    return response.status_code == 200


@pytest.mark.parametrize("username", ["custodian", "clerk", "sales", "manager", "marketing", "auditor"])
def test_role_can_open_exactly_its_pages(client, username):
    login(client, username)
    wrong = [(page, who[username]) for page, who in PAGES.items() if opens(client, page) != bool(who[username])]
    assert not wrong, f"{username}: (page, expected) mismatches {wrong}"


def test_admin_opens_everything(client):
    login(client, "admin")
    for page in PAGES:
        assert opens(client, page), page


@pytest.mark.parametrize("username, may_delete", [("clerk", False), ("sales", False), ("custodian", True)])
def test_only_the_custodian_deletes_a_customer(client, username, may_delete):
    db.session.add(Customer(name="待删除", customer_type="org"))
    db.session.commit()
    pk = db.session.scalar(sa.select(Customer.id))
    login(client, username)
    client.post(f"/customerview/delete/{pk}")
    db.session.expire_all()
    assert (db.session.get(Customer, pk) is None) == may_delete


def test_roles_file_is_applied_idempotently(app):
    names = roles.apply_roles(app.appbuilder)
    first = {n: sorted(str(p) for p in app.appbuilder.sm.find_role(n).permissions) for n in names}
    roles.apply_roles(app.appbuilder)
    second = {n: sorted(str(p) for p in app.appbuilder.sm.find_role(n).permissions) for n in names}
    assert first == second
    assert set(names) == {r for r in ROLE_USERS.values() if r != "Admin"}


def test_menus_follow_what_a_role_may_list(client):
    login(client, "marketing")
    html = client.get("/").text
    assert "/promotionview/list/" in html and "/regionview/list/" in html
    assert "/users/list/" not in html
