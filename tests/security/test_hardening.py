"""Hardening: security headers and the CSP nonce, cookies and the session lifetime, the
login rate limit, the password policy and hashes, CSRF on every post, and escaping of
hostile text on the pages that show customer data.

The app fixtures build the portal with :func:`portal.create_app`; ``hardened`` calls
:func:`portal.security.headers.install` on it as ``create_app`` does (a second call is a
no-op, so these tests hold whether or not create_app already installed it).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import flask_appbuilder
import pytest
import sqlalchemy as sa
from flask import g
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from werkzeug.security import check_password_hash

from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, Visit
from portal.security import headers, passwords
from tests.conftest import _app_on_copy, PASSWORD, ROLE_USERS, login, make_app, user

ROOT = Path(__file__).resolve().parents[2]
FAB_TEMPLATES = Path(flask_appbuilder.__file__).parent / "templates"
SCRIPT_TAG = "<script>alert(1)</script>"
IMG_TAG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def hardened(app):
    headers.install(app)
    return app


@pytest.fixture
def hclient(hardened):
    return hardened.test_client()


@pytest.fixture
def csrf_app(database, template):
    """A hardened portal with CSRF checks on, as in production."""
    for application in _app_on_copy(database, template, WTF_CSRF_ENABLED=True):
        headers.install(application)
        yield application


def csp_of(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in policy.split(";")) if d}


def nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", csp_of(response)["script-src"]).group(1)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


# -- security headers ----------------------------------------------------------------------

PAGES = ["/", "/customerview/list/", "/customerview/add", "/contactview/list/", "/visitview/list/",
         "/customerview/list/?_flt_2_name=x", "/users/userinfo/"]


def test_every_response_carries_the_security_headers(hclient):
    anonymous = ["/login/", "/", "/static/portal.css", "/static/appbuilder/js/ab.js", "/no-such-page"]
    responses = [hclient.get(path) for path in anonymous]
    login(hclient, "clerk")
    responses += [hclient.get(path) for path in PAGES]
    for response in responses:
        h = response.headers
        assert h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in h  # plain HTTP unless SESSION_COOKIE_SECURE
        csp = csp_of(response)
        assert csp["default-src"] == "'self'"
        assert csp["script-src"].startswith("'self' 'nonce-")
        assert "'unsafe-inline'" not in csp["script-src"] and "unsafe-eval" not in response.headers[
            "Content-Security-Policy"]
        assert csp["object-src"] == "'none'"
        assert csp["frame-ancestors"] == "'none'"
        assert csp["base-uri"] == "'self'"
        assert csp["form-action"] == "'self'"
        assert csp["style-src-elem"] == "'self'"


def test_every_script_on_the_pages_carries_this_requests_nonce(hclient, app):
    customer = Customer(name="杭州华信贸易有限公司", customer_type="org")
    db.session.add(customer)
    db.session.commit()
    pages = [f"/customerview/show/{customer.id}", f"/customerview/edit/{customer.id}", *PAGES]
    nonces = {nonce_of(hclient.get("/login/"))}
    login(hclient, "admin")
    for path in pages:
        response = hclient.get(path)
        assert response.status_code == 200, path
        nonce = nonce_of(response)
        scripts = [attrs for tag, attrs in tags_of(response.text) if tag == "script"]
        assert scripts, path
        assert all(attrs.get("nonce") == nonce for attrs in scripts), (path, scripts)
        nonces.add(nonce)
    assert len(nonces) == len(pages) + 1  # a fresh nonce per response


def test_pages_have_no_inline_event_handlers_or_javascript_links(hclient):
    login(hclient, "admin")
    for path in PAGES:
        for tag, attrs in tags_of(hclient.get(path).text):
            handlers = [name for name in attrs if name.startswith("on")]
            assert not handlers, (path, tag, attrs)
            assert not (attrs.get("href") or "").strip().lower().startswith("javascript:"), (path, tag, attrs)


@pytest.mark.parametrize("folder", [FAB_TEMPLATES, ROOT / "templates"], ids=["flask_appbuilder", "portal"])
def test_templates_have_no_script_a_strict_csp_would_block(folder):
    """Every inline or linked <script> in the templates has a nonce; no on*= handlers,
    no javascript: URLs (a Flask-AppBuilder upgrade that adds one fails here)."""
    problems = []
    for path in sorted(folder.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "nonce=" not in tag:
                problems.append(f"{path.name}: {tag}")
        for match in re.finditer(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text):
            problems.append(f"{path.name}: {match.group(0)}")
        if re.search(r"""(href|src|action)\s*=\s*["']\s*javascript:""", text, re.I):
            problems.append(f"{path.name}: javascript: URL")
    assert not problems, problems


def test_hsts_only_when_the_portal_is_served_over_https(database, template):
    url = database.copy(template)
    try:
        app = make_app(url, SESSION_COOKIE_SECURE=True)
        headers.install(app)
        response = app.test_client().get("/login/", base_url="https://portal.example.cn")
        assert response.headers["Strict-Transport-Security"] == f"max-age={365 * 24 * 3600}"
        assert "Secure" in response.headers["Set-Cookie"]
        with app.app_context():
            db.engine.dispose()
    finally:
        database.drop(url)


def test_install_is_idempotent(hardened):
    headers.install(hardened)
    headers.install(hardened)
    hooks = [f for f in hardened.after_request_funcs[None] if f is headers.security_headers]
    assert len(hooks) == 1
    response = hardened.test_client().get("/login/")
    assert len(response.headers.getlist("Content-Security-Policy")) == 1


# -- cookies and the session ---------------------------------------------------------------

def test_session_cookie_is_httponly_lax_and_not_secure_over_http(hclient, app):
    response = hclient.post("/login/", data={"username": "clerk", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires" not in cookie  # ends with the browser session
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(hours=8)


def _config_in_subprocess(env: dict, *names: str) -> dict:
    code = ("import json, config; print(json.dumps({n: str(getattr(config, n)) for n in %r}))" % (names,))
    environment = {k: v for k, v in os.environ.items() if k not in env}
    environment.update(env)
    environment.setdefault("PORTAL_INSTANCE_DIR", str(ROOT / "instance" / "test"))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cookie_security_session_hours_and_rate_limit_storage_come_from_the_environment():
    names = ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "PERMANENT_SESSION_LIFETIME",
             "REMEMBER_COOKIE_DURATION", "RATELIMIT_STORAGE_URI", "AUTH_RATE_LIMITED", "AUTH_RATE_LIMIT")
    default = _config_in_subprocess({}, *names)
    assert default == {"SESSION_COOKIE_SECURE": "False", "REMEMBER_COOKIE_SECURE": "False",
                       "PERMANENT_SESSION_LIFETIME": "8:00:00", "REMEMBER_COOKIE_DURATION": "8:00:00",
                       "RATELIMIT_STORAGE_URI": "memory://", "AUTH_RATE_LIMITED": "True",
                       "AUTH_RATE_LIMIT": "10 per minute"}
    production = _config_in_subprocess({"SESSION_COOKIE_SECURE": "1", "SESSION_HOURS": "2",
                                        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}, *names)
    assert production["SESSION_COOKIE_SECURE"] == production["REMEMBER_COOKIE_SECURE"] == "True"
    assert production["PERMANENT_SESSION_LIFETIME"] == "2:00:00"
    assert production["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_a_session_idle_longer_than_the_lifetime_is_signed_out(hclient, monkeypatch):
    from itsdangerous.timed import TimestampSigner

    login(hclient, "clerk")
    assert hclient.get("/customerview/list/").status_code == 200
    later = TimestampSigner.get_timestamp(None) + 8 * 3600 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    # The fixture's app context outlives requests here; Flask-Login caches the user in g.
    g.pop("_login_user", None)
    response = hclient.get("/customerview/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


# -- login rate limit ----------------------------------------------------------------------

def _failed_logins(client, n: int):
    return [client.post("/login/", data={"username": "clerk", "password": "wrong"}).status_code for _ in range(n)]


def test_login_is_rate_limited_with_a_clear_chinese_page(hclient):
    assert _failed_logins(hclient, 10) == [302] * 10
    response = hclient.post("/login/", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 429
    html = response.text
    assert "尝试次数过多" in html and "秒后再试" in html and "返回登录页" in html
    assert "Traceback" not in html and "Too Many Requests" not in html
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers
    # The correct password does not get through either while the limit holds.
    assert hclient.get("/customerview/list/").status_code == 302
    # Pages other than the login post are not limited.
    assert hclient.get("/login/").status_code == 200


def test_the_rate_limit_page_follows_the_users_language(hclient):
    hclient.get("/lang/en")
    _failed_logins(hclient, 10)
    response = hclient.post("/login/", data={"username": "clerk", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many attempts" in response.text and "Back to the login page" in response.text


def test_unknown_forbidden_and_wrong_method_addresses_get_a_page_in_the_users_language(client):
    login(client, "sales")
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert "页面不存在" in missing.text and "您可查看的档案范围" in missing.text and "Not Found" not in missing.text
    assert 'id="error-title"' in missing.text and "navbar" in missing.text     # in the portal's layout
    card = client.get("/customerview/show/999999999")                         # FAB's own abort(404)
    assert card.status_code == 404 and "页面不存在" in card.text
    wrong = client.post("/today/")
    assert wrong.status_code == 405 and "此地址不接受这种请求" in wrong.text and "GET" in wrong.headers["Allow"]
    client.get("/lang/en")
    english = client.get("/no-such-page/")
    assert english.status_code == 404 and "Page not found" in english.text and "页面不存在" not in english.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json and api.get_json()["message"]
    icon = client.get("/favicon.ico")                   # asked for by every browser
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    assert 'rel="icon"' in client.get("/").text


def test_a_page_the_role_may_not_open_and_a_bad_address_say_so_in_the_users_language(app):
    sales = login(app.test_client(), "sales")
    refused = sales.get("/analysis/credit/")          # the view's own abort(403)
    assert refused.status_code == 403
    assert "您无权打开此页面" in refused.text and "联系您的主管或系统管理员" in refused.text
    assert "Forbidden" not in refused.text
    fab = login(app.test_client(), "manager").get("/classification/proposals")   # Flask-AppBuilder's abort(403)
    assert fab.status_code == 403 and "您无权打开此页面" in fab.text and "Forbidden" not in fab.text
    admin = login(app.test_client(), "admin")
    bad = admin.get("/classification/proposals?run=abc")   # abort(400) with the view's own message
    assert bad.status_code == 400 and "无法处理此请求" in bad.text and "运行" in bad.text
    assert "Bad Request" not in bad.text


def test_the_rate_limit_uses_the_configured_storage(app):
    limiter = app.appbuilder.sm.limiter
    assert app.config["AUTH_RATE_LIMITED"] is True
    assert type(limiter._storage).__name__ == "MemoryStorage"


# Redis runs beside the portal in production and on the test machines (.ci/run starts it).
TEST_REDIS = os.environ.get("RATELIMIT_TEST_REDIS", "redis://127.0.0.1:6379/15")


def test_the_rate_limit_counts_in_redis_when_configured(database, template):
    url = database.copy(template)
    try:
        app = make_app(url, RATELIMIT_STORAGE_URI=TEST_REDIS,
                       RATELIMIT_KEY_PREFIX=f"portal-test-{os.getpid()}-{id(url)}")
        headers.install(app)
        assert type(app.appbuilder.sm.limiter._storage).__name__ == "RedisStorage"
        client = app.test_client()
        assert _failed_logins(client, 11)[-1] == 429
        # Another worker (another app on the same Redis) sees the same count.
        other = make_app(url, RATELIMIT_STORAGE_URI=TEST_REDIS,
                         RATELIMIT_KEY_PREFIX=app.config["RATELIMIT_KEY_PREFIX"])
        assert _failed_logins(other.test_client(), 1) == [429]
        with app.app_context():
            db.engine.dispose()
    finally:
        database.drop(url)


# -- passwords -----------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["Test-Passw0rd!", "abcdefGH12", "abcdef-gh12", "客户档案管理abcd1234", "ABCDEF 1234"])
def test_strong_passwords_pass_the_policy(password):
    passwords.check(password, "clerk")


@pytest.mark.parametrize("password", [
    "Demo@2026",           # 9 characters
    "abcdefghijkl",       # one kind
    "abcdefgh1234",       # two kinds
    "ABCDEFGH-+_!",       # two kinds
    "Ab1!",               # too short
    "",
])
def test_weak_passwords_are_refused_with_a_chinese_message(app, password):
    with app.test_request_context():
        with pytest.raises(PasswordComplexityValidationError) as refused:
            passwords.check(password, "clerk")
    assert str(refused.value) == "密码至少需要 10 个字符，并且至少包含以下四类中的 3 类：小写字母、大写字母、数字、符号。"


def test_a_password_containing_the_user_name_is_refused(app):
    with app.test_request_context():
        with pytest.raises(PasswordComplexityValidationError, match="密码不能包含用户名"):
            passwords.check("My-ZhangWei-2026", "zhangwei")
    passwords.check("My-Li-Pass-2026", "li")  # names under 3 characters are not looked for


def _user_form(username: str, password: str, role_id: int) -> dict:
    return {"first_name": "伟", "last_name": "王", "username": username, "active": "y",
            "email": f"{username}@example.cn", "roles": [str(role_id)], "password": password, "conf_password": password}


def test_adding_a_user_applies_the_policy_and_stores_an_scrypt_hash(hclient, app):
    login(hclient, "admin")
    clerk_role = app.appbuilder.sm.find_role("Clerk")
    for weak, message in (("Demo@2026", "至少需要 10 个字符"), ("Wangwei-2026!", "不能包含用户名")):
        response = hclient.post("/users/add", data=_user_form("wangwei", weak, clerk_role.id))
        assert response.status_code == 200 and message in response.text
        assert app.appbuilder.sm.find_user("wangwei") is None
    response = hclient.post("/users/add", data=_user_form("wangwei", "Archive-2026-ok", clerk_role.id))
    assert response.status_code == 302
    stored = user(app, "wangwei").password
    assert stored.startswith("scrypt:") and "Archive-2026-ok" not in stored
    assert check_password_hash(stored, "Archive-2026-ok")


def test_resetting_a_password_applies_the_policy(hclient, app):
    clerk = user(app, "clerk")
    before = clerk.password
    login(hclient, "admin")
    url = f"/resetpassword/form?pk={clerk.id}"
    for weak, message in (("short1A!", "至少需要 10 个字符"), ("Clerk-2026-xyz", "不能包含用户名")):
        response = hclient.post(url, data={"password": weak, "conf_password": weak})
        assert response.status_code == 200 and message in response.text
        db.session.expire_all()
        assert user(app, "clerk").password == before
    assert hclient.post(url, data={"password": "Archive-2026-ok", "conf_password": "Archive-2026-ok"}).status_code == 302
    db.session.expire_all()
    stored = user(app, "clerk").password
    assert stored != before and stored.startswith("scrypt:") and check_password_hash(stored, "Archive-2026-ok")


def test_changing_ones_own_password_applies_the_policy(hclient, app):
    login(hclient, "clerk")
    response = hclient.post("/resetmypassword/form", data={"password": "my-CLERK-2026", "conf_password": "my-CLERK-2026"})
    assert response.status_code == 200 and "密码不能包含用户名" in response.text
    response = hclient.post("/resetmypassword/form", data={"password": "Archive-2026-ok", "conf_password": "Archive-2026-ok"})
    assert response.status_code == 302


def test_stored_passwords_are_scrypt_hashes_never_the_password(app):
    for username in ROLE_USERS:
        stored = user(app, username).password
        assert stored.startswith("scrypt:") and PASSWORD not in stored
        assert check_password_hash(stored, PASSWORD)
    assert app.config["FAB_PASSWORD_HASH_METHOD"] == "scrypt"


# -- CSRF ----------------------------------------------------------------------------------

def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def _login_with_token(client, username: str):
    token = _token(client.get("/login/").text)
    response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_login_form_carries_a_token_and_a_post_without_it_is_refused(csrf_app):
    client = csrf_app.test_client()
    html = client.get("/login/").text
    assert _token(html)
    response = client.post("/login/", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 400 and "表单未被接受" in response.text
    assert client.get("/customerview/list/").status_code == 302  # not signed in
    _login_with_token(client, "clerk")
    assert client.get("/customerview/list/").status_code == 200


def test_adding_a_customer_without_a_token_is_refused_and_saves_nothing(csrf_app):
    from tests.views.test_crud import editable_specs, form_value
    from portal.views.archive import CustomerView

    client = _login_with_token(csrf_app.test_client(), "clerk")
    data = {s.form_name: v for s in editable_specs(CustomerView) if (v := form_value(Customer, s)) is not None}
    data["number"] = ""
    before = _count(Customer)
    response = client.post("/customerview/add", data=data)
    assert response.status_code == 400 and "没有保存任何内容" in response.text
    response = client.post("/customerview/add", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    db.session.expire_all()
    assert _count(Customer) == before
    # The same post with the page's token is saved (the refusal above was the token's).
    token = _token(client.get("/customerview/add").text)
    assert client.post("/customerview/add", data={**data, "csrf_token": token}).status_code == 302
    assert _count(Customer) == before + 1


def test_deletes_and_actions_need_a_token_too(csrf_app):
    customer = Customer(name="杭州华信贸易有限公司", customer_type="org")
    db.session.add(customer)
    db.session.flush()
    contact = Contact(customer_id=customer.id, name="李娜")
    db.session.add(contact)
    db.session.commit()
    pk, contact_pk = customer.id, contact.id
    client = _login_with_token(csrf_app.test_client(), "admin")
    assert client.post(f"/customerview/delete/{pk}").status_code == 400
    assert client.post(f"/contactview/delete/{contact_pk}").status_code == 400
    client.get(f"/customerview/delete/{pk}")  # FAB refuses mutations on GET when CSRF is on
    client.get(f"/contactview/delete/{contact_pk}")
    assert client.post("/customerview/action_post", data={"action": "verify", "rowid": [str(pk)]}).status_code == 400
    db.session.expire_all()
    kept = db.session.get(Customer, pk)
    assert kept is not None and kept.verified_on is None
    assert db.session.get(Contact, contact_pk) is not None
    # The list page's hidden forms carry the token FAB's scripts submit; with it, a delete goes through.
    token = _token(client.get("/contactview/list/").text)
    assert client.post(f"/contactview/delete/{contact_pk}", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, contact_pk) is None


def test_the_rest_api_keeps_flask_appbuilders_csrf_exemption(csrf_app):
    """FAB exempts its REST APIs from CSRFProtect (they take JSON only, which a cross-site
    form cannot send); install() keeps that for the APIs registered before it."""
    client = _login_with_token(csrf_app.test_client(), "clerk")
    response = client.post("/api/v1/customer/", json={"number": "KHTEST00001", "name": "杭州华信贸易有限公司",
                                                         "customer_type": "org"})
    assert response.status_code == 201, response.text
    # A form-encoded post (what a cross-site form sends) is not accepted as data.
    before = _count(Customer)
    response = client.post("/api/v1/customer/", data={"name": "x", "customer_type": "org"})
    assert response.status_code == 400
    db.session.expire_all()
    assert _count(Customer) == before


# -- XSS -----------------------------------------------------------------------------------

@pytest.fixture
def hostile(app):
    customer = Customer(name=SCRIPT_TAG, customer_type="org", city=IMG_TAG, street=SCRIPT_TAG,
                        hobbies=IMG_TAG)
    db.session.add(customer)
    db.session.flush()
    db.session.add(Contact(customer_id=customer.id, name=IMG_TAG, note=SCRIPT_TAG))
    db.session.add(Visit(customer_id=customer.id, visited_on=dt.date(2026, 1, 5), method="visit", purpose=IMG_TAG,
                         content=SCRIPT_TAG))
    db.session.commit()
    return customer


def _assert_escaped(html: str, *payloads: str, where: str):
    for payload in payloads:
        assert payload not in html, f"{where}: {payload} unescaped"
    assert "<img src=x" not in html and "<script>alert" not in html, where
    assert any(escape(p, quote=False) in html or escape(p) in html for p in payloads), f"{where}: payload not shown"


def test_hostile_text_is_escaped_on_every_page_that_shows_it(hclient, hostile):
    hclient.post("/login/", data={"username": SCRIPT_TAG, "password": "x"})  # into the access log
    login(hclient, "admin")
    contact = db.session.scalars(sa.select(Contact).where(Contact.customer_id == hostile.id)).one()
    visit = db.session.scalars(sa.select(Visit).where(Visit.customer_id == hostile.id)).one()
    pages = {
        "customer list": "/customerview/list/",
        "card": f"/customerview/show/{hostile.id}",
        "edit form": f"/customerview/edit/{hostile.id}",
        "home": "/",
        "search by name": "/customerview/list/?_flt_2_name=script",
        "search by city": "/customerview/list/?_flt_2_city=onerror",
        "contact list": "/contactview/list/",
        "contact": f"/contactview/show/{contact.id}",
        "contact edit": f"/contactview/edit/{contact.id}",
        "visit list": "/visitview/list/",
        "visit": f"/visitview/show/{visit.id}",
        "visit edit": f"/visitview/edit/{visit.id}",
        "visit search": "/visitview/list/?_flt_2_purpose=img",
        # The change history (the card's History tab is on the card above) and the access log.
        "change history": "/changelogview/list/",
        "access log": "/accesslogview/list/",
    }
    for where, path in pages.items():
        response = hclient.get(path)
        assert response.status_code == 200, where
        _assert_escaped(response.text, SCRIPT_TAG, IMG_TAG, where=where)
    # The searches found the record (the payload is in the table, escaped, not only in the filter).
    assert hclient.get("/customerview/list/?_flt_2_name=script").text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 1
    history = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.customer_id == hostile.id)).first()
    assert history is not None  # the card's History tab and the change list had the payload
    card = hclient.get(f"/customerview/show/{hostile.id}").text
    assert card.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the card and its History tab
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hclient.get("/accesslogview/list/").text
    home = hclient.get("/").text
    recent = home[home.index('id="recent-cards"'):]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in recent
    # No element the browser would build from the payload.
    for where, path in pages.items():
        for tag, attrs in tags_of(hclient.get(path).text):
            assert not (tag == "img" and attrs.get("src") == "x"), where
            assert "onerror" not in attrs, where
