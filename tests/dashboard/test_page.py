"""The start page per role: which sections show, the numbers in scope, and that every number
links to a list that holds exactly that many rows (grid links checked against the grid's own
count) or to a page the user may open."""
from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qsl, urlparse

import pytest

from portal.extensions import db
from tests.conftest import login

from . import data

FIGURE = re.compile(r'<div class="dashboard-figure[^"]*"\s+data-figure="([^"]+)"[^>]*>\s*'
                    r'(?:<a class="dashboard-number" href="([^"]+)">([^<]+)</a>|<span class="dashboard-number">([^<]+)</span>)')
SECTION = re.compile(r'<section class="dashboard-section" id="section-([a-z_]+)"')

EXPECTED = {
    "admin": ["overview", "classification", "activity", "access", "glance"],
    "custodian": ["quality", "overview", "classification", "activity", "access", "glance"],
    "clerk": ["quality", "entries", "glance"],
    "sales": ["reminders", "visits", "glance"],
    "sales2": ["reminders", "visits", "glance"],
    "manager": ["team", "composition", "glance"],
    "marketing": ["segments", "campaigns", "glance"],
    "auditor": ["overview", "classification", "activity", "access", "glance"],
}


@pytest.fixture
def archive(app):
    return data.build(app, dt.date.today())


def page_of(app, username):
    client = app.test_client()
    login(client, username)
    response = client.get("/")
    assert response.status_code == 200
    return client, response.text


def sections(text):
    return SECTION.findall(text)


def section_html(text, key):
    start = text.index(f'id="section-{key}"')
    end = text.find('<section class="dashboard-section"', start + 1)
    return text[start:end if end > 0 else len(text)]


def numbers(text, key):
    """{figure key: (href, number text)} of one section."""
    found = {}
    for figure, url, linked, plain in FIGURE.findall(section_html(text, key)):
        found[figure] = (html.unescape(url) if url else None, (linked or plain).strip())
    return found


def as_int(text):
    return int(text.replace(",", ""))


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_role_sees_its_sections(archive, app, username):
    _client, text = page_of(app, username)
    assert sections(text) == EXPECTED[username]


def test_before_login_the_page_says_what_the_portal_is(app):
    response = app.test_client().get("/")
    assert response.status_code == 200
    assert 'id="dashboard"' not in response.text and "/login/" in response.text


def test_salespeople_see_their_own_numbers(archive, app):
    _c, own = page_of(app, "sales")
    _c, other = page_of(app, "sales2")
    mine, theirs = numbers(own, "glance"), numbers(other, "glance")
    assert sum(as_int(mine[k][1]) for k in ("potential", "current", "former")) == 2
    assert sum(as_int(theirs[k][1]) for k in ("potential", "current", "former")) == 3
    assert as_int(numbers(own, "reminders")["birthday"][1]) == 1
    assert as_int(numbers(other, "reminders")["birthday"][1]) == 0
    assert as_int(numbers(own, "visits")["never"][1]) == 1
    assert as_int(numbers(other, "visits")["never"][1]) == 0
    assert "甲测试公司" in section_html(own, "glance") and "甲测试公司" not in section_html(other, "glance")


def test_a_section_needs_the_rights_of_its_pages(archive, app):
    """Without the today page's right the salesperson's reminders are not shown."""
    sm = app.appbuilder.sm
    role = sm.find_role("Salesperson")
    pv = sm.find_permission_view_menu("can_list", "TodayView")
    sm.del_permission_role(role, pv)
    db.session.commit()
    _c, text = page_of(app, "sales")
    assert sections(text) == ["visits", "glance"]


def _check_links(client, text, key):
    """Every figure of section ``key`` with a link: the page opens (200); a grid link's
    count (the grid API, same filters, the user's scope) equals the number shown."""
    checked = 0
    for figure, (url, shown) in numbers(text, key).items():
        if url is None:
            continue
        parsed = urlparse(url)
        assert client.get(url).status_code == 200, (key, figure, url)
        if parsed.path.startswith("/grid/"):
            resource = parsed.path.split("/")[2]
            answer = client.get(f"/api/v1/grid/{resource}/count", query_string=parse_qsl(parsed.query))
            assert answer.status_code == 200, (key, figure, url, answer.text)
            assert answer.json["total"] == as_int(shown), (key, figure, url)
        checked += 1
    return checked


@pytest.mark.parametrize("username,keys", [
    ("clerk", ["quality", "entries", "glance"]),
    ("custodian", ["overview", "classification", "activity", "access"]),
    ("sales", ["reminders", "visits", "glance"]),
    ("manager", ["team", "composition"]),
    ("marketing", ["segments", "campaigns"]),
])
def test_every_number_links_to_its_list(archive, app, username, keys):
    client, text = page_of(app, username)
    for key in keys:
        assert _check_links(client, text, key) > 0, key


def test_table_drills_open_the_grid_with_that_many_customers(archive, app):
    client, text = page_of(app, "clerk")
    table = section_html(text, "quality")
    rows = re.findall(r'<tr data-row="\d+">(.*?)</tr>', table, re.S)
    checked = 0
    for row in rows:
        # columns: field (linked), kind, cards missing it (linked), share % (linked)
        anchors = re.findall(r'<a href="([^"]+)" class="dashboard-drill">([^<]+)</a>', row)
        for url, shown in anchors[1:2]:
            url = html.unescape(url)
            assert url.startswith("/grid/customer/?drill=dashboard.missing")
            answer = client.get("/api/v1/grid/customer/count", query_string=parse_qsl(urlparse(url).query))
            assert answer.json["total"] == as_int(shown), url
            checked += 1
    assert checked >= 6


def test_clerk_entries_today_on_the_page(archive, app):
    _c, text = page_of(app, "clerk")
    found = numbers(text, "entries")
    assert {k: as_int(v[1]) for k, v in found.items()} == {"customers": 2, "contacts": 1, "transactions": 1}
    assert as_int(numbers(text, "quality")["unverified"][1]) == 1


def test_campaign_figures_on_the_marketing_page(archive, app):
    _c, text = page_of(app, "marketing")
    found = numbers(text, "campaigns")
    assert found["cost"][1] == "1,011.00" and found["per_response"][1] == "505.50" and found["responded"][1] == "2"


def test_charts_are_embedded_with_the_portals_echarts(archive, app):
    _c, text = page_of(app, "custodian")
    assert text.count('class="dashboard-chart analysis-chart"') >= 3
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
    assert all(s.startswith("/static/") for s in scripts), scripts
    assert "/static/vendor/echarts/echarts.min.js" in scripts and "/static/dashboard/dashboard.js" in scripts
    assert 'data-chart-script="/static/analysis/analysis.js"' in text


def test_the_dashboard_read_is_logged(archive, app):
    from portal.models import AccessLog

    page_of(app, "sales")
    entry = db.session.scalars(db.select(AccessLog).where(AccessLog.object_type == "Dashboard")).all()
    assert entry and entry[-1].action == "list"
