"""Every role × every route of the app's URL map: allowed exactly when seeds/roles.json
grants the route's permission. Generated from the URL map, so a new route is tested the
moment it exists — and a route with no permission at all must be listed as public here."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AfterSales, CompetitorPresence, Contact, Customer, Product, Promotion, PromotionTarget, PurchaseProject,
    SalesTeam, Transaction, TransactionLine, Visit,
)
from portal.seeds.roles import load_roles, role_grants
from tests.conftest import ROLE_USERS, login, user

# Routes anyone may open: logging in and out, the start page, switching language, FAB's
# "back" helper, static files and the API's own schema.
PUBLIC = {
    "static", "appbuilder.static", "favicon", "AuthDBView.login", "AuthDBView.logout", "LocaleView.index",
    "HomeView.index", "UtilView.back", "OpenApi.get", "SwaggerView.show", "MenuApi.get_menu_data",
    "SecurityApi.login", "SecurityApi.refresh",  # the REST API's own login (JWT)
}
# FAB's action endpoints check the named action's permission inside the view (no decorator);
# the customer actions are tested by role in tests/views/test_customer_card.py.
ACTION_ENDPOINTS = (".action", ".action_post")
MISSING = "999999"  # the pk used for requests that would change data: the check comes first


def permission_of(app, endpoint: str):
    """(permission, view name) the endpoint requires, or None when it requires none. A
    permission the view does not declare (e.g. can_add on a read-only view) is refused to
    everybody, Admin included."""
    function = app.view_functions[endpoint]
    name = getattr(function, "_permission_name", None)
    view = getattr(function, "__self__", None)
    if name is None or view is None:
        return None
    mapped = (view.method_permission_name or {}).get(function.__name__)
    permission = f"can_{mapped or name}"
    return permission, view.class_permission_name


def build_records(app):
    sales, manager = user(app, "sales"), user(app, "manager")
    team = SalesTeam(name="测试一部", manager_id=manager.id, members=[sales])
    customer = Customer(name="矩阵测试公司", customer_type="org", owner_id=sales.id, team=team)
    product = Product(code="P-1", name="墨盒", replenish_cycle_days=60)
    txn = Transaction(customer=customer, trade_date=dt.date(2025, 1, 2),
                      lines=[TransactionLine(product=product, quantity=Decimal(1), unit_price=Decimal(10))])
    contact = Contact(customer=customer, name="王经理")
    promotion = Promotion(name="春季促销", promotion_type="mail", starts_at=dt.datetime(2025, 3, 1))
    db.session.add_all([
        team, customer, product, txn, contact, promotion,
        AfterSales(customer=customer, kind="service", occurred_on=dt.date(2025, 2, 1), content="维修"),
        Visit(customer=customer, visited_on=dt.date(2025, 2, 2), method="visit"),
        PromotionTarget(promotion=promotion, customer=customer),
        PurchaseProject(customer=customer, name="换机项目"),
        CompetitorPresence(customer=customer, competitor="某对手"),
    ])
    db.session.commit()


def fill(rule, app) -> str | None:
    """The rule's URL with its arguments filled in (None when it cannot be requested)."""
    values = {}
    for arg in rule.arguments:
        if arg == "pk":
            view = getattr(app.view_functions[rule.endpoint], "__self__", None)
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            if model is None or _mutates(rule):
                values[arg] = MISSING
            else:
                values[arg] = db.session.scalar(sa.select(model.id).order_by(model.id).limit(1)) or MISSING
        elif arg == "locale":
            values[arg] = "en"
        elif arg == "name":
            values[arg] = "verify"
        elif arg == "filename":
            values[arg] = "x"
        else:
            values[arg] = "x"
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:
        return None


def _mutates(rule) -> bool:
    method = rule.endpoint.rsplit(".", 1)[-1]
    return bool(set(rule.methods) & {"POST", "PUT", "PATCH", "DELETE"}) and "GET" not in rule.methods or method in (
        "delete", "action", "action_post", "reassign", "muldelete")


def request(client, rule, url):
    methods = set(rule.methods) - {"HEAD", "OPTIONS"}
    if "GET" in methods and not rule.endpoint.endswith((".delete", ".action")):
        return client.get(url)
    if "DELETE" in methods:
        return client.delete(url)
    if "PUT" in methods:
        return client.put(url, json={})
    if "PATCH" in methods:
        return client.patch(url, json={})
    return client.post(url, data={})


def denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


@pytest.fixture
def matrix_app(app):
    build_records(app)
    return app


def test_every_endpoint_is_protected_or_listed_as_public(app):
    unprotected = sorted(r.endpoint for r in app.url_map.iter_rules()
                         if permission_of(app, r.endpoint) is None and r.endpoint not in PUBLIC
                         and not r.endpoint.endswith(ACTION_ENDPOINTS))
    assert not unprotected, f"routes with no permission check, not listed as public: {unprotected}"


@pytest.mark.parametrize("username", [u for u in ROLE_USERS if u != "sales2"])
def test_each_role_reaches_exactly_what_its_role_grants(matrix_app, username):
    app = matrix_app
    data = load_roles()
    role = ROLE_USERS[username]
    grants = None if role == "Admin" else role_grants(data, role)
    client = login(app.test_client(), username)
    wrong, errors = [], []
    for rule in app.url_map.iter_rules():
        needed = permission_of(app, rule.endpoint)
        if needed is None or rule.endpoint in ("AuthDBView.logout",):
            continue
        url = fill(rule, app)
        if url is None:
            continue
        permission, view = needed
        declared = permission in (app.view_functions[rule.endpoint].__self__.base_permissions or [])
        expected = declared and (grants is None or permission in grants.get(view, set()))
        response = request(client, rule, url)
        if response.status_code >= 500:
            errors.append((rule.endpoint, url, response.status_code))
        elif denied(response) == expected:
            wrong.append((rule.endpoint, url, response.status_code, "expected " + ("allow" if expected else "deny")))
        db.session.rollback()
    assert not errors, f"{username}: server errors {errors}"
    assert not wrong, f"{username}: {len(wrong)} routes disagree with roles.json: {wrong[:15]}"


def test_the_matrix_covers_the_archive_routes(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    for endpoint in ("CustomerView.show", "CustomerView.edit", "CustomerView.reassign", "CustomerApi.get",
                     "CustomerApi.put", "ContactApi.get_list", "AccessLogView.list", "ChangeLogView.list"):
        assert endpoint in endpoints
