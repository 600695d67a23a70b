"""The role dashboards in headless Chromium, on the demo archive: every chart on the start
page is drawn by the portal's own ECharts (through the analysis pages' script), clicking a
bar opens the list behind it, and no request leaves 127.0.0.1 — any request to another host
(or one the Content-Security-Policy refused) fails the test."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD

from .conftest import DEMO_PASSWORD, open_session

# (user, password, sections expected, least charts drawn)
USERS = [
    ("custodian", PASSWORD, {"quality", "overview", "classification", "activity", "access", "glance"}, 4),
    ("clerk", PASSWORD, {"quality", "entries", "glance"}, 2),
    ("zhangwei", DEMO_PASSWORD, {"reminders", "visits", "glance"}, 1),
    ("zhouqiang", DEMO_PASSWORD, {"team", "composition", "glance"}, 1),
    ("marketing", PASSWORD, {"segments", "campaigns", "glance"}, 1),
    ("auditor", PASSWORD, {"overview", "classification", "activity", "access", "glance"}, 3),
]


def guarded(browser, live, username, password):
    """A browser session in which every request is recorded; one to any host other than
    127.0.0.1 is refused (never sent) and recorded."""
    page = open_session(browser, live, username, password)
    external = []

    def guard(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            external.append(url)
            route.abort()

    page.context.route("**/*", guard)
    page.context.on("request", lambda r: None if r.url.startswith(("data:", "blob:"))
                    or urlparse(r.url).hostname in ("127.0.0.1", None) else external.append(r.url))
    page.on("console", lambda m: external.append(f"CSP: {m.text}") if "Content Security Policy" in m.text else None)
    page.external = external
    return page


def drawn_charts(page):
    page.wait_for_function("() => document.getElementById('dashboard').dataset.chartsDrawn !== undefined")
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.dashboard-chart'))
        .every(h => h.dataset.rendered === '1')""")
    return page.evaluate("""() => Array.from(document.querySelectorAll('.dashboard-chart')).map(holder => {
        const chart = echarts.getInstanceByDom(holder);
        const canvas = holder.querySelector('canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) painted++; }
        const series = chart.getOption().series;
        return {panel: holder.dataset.panel, type: series[0].type, painted: painted,
                points: series.reduce((n, s) => n + (s.data || []).length, 0)};
    })""")


@pytest.mark.parametrize("username,password,expected,least", USERS)
def test_every_dashboard_chart_is_drawn_offline(browser, live, username, password, expected, least):
    page = guarded(browser, live, username, password)
    page.goto(f"{live.url}/")
    shown = set(page.get_attribute("#dashboard", "data-sections").split())
    assert shown == expected
    charts = drawn_charts(page)
    assert len(charts) >= least, charts
    for chart in charts:
        assert chart["points"] > 0 and chart["painted"] > 500, chart
    scripts = page.evaluate("Array.from(document.scripts).map(s => s.src).filter(Boolean)")
    assert any(s.endswith("/static/vendor/echarts/echarts.min.js") for s in scripts)
    assert not page.external, f"requests left 127.0.0.1: {page.external}"
    assert not page.js_errors, page.js_errors
    page.context.close()


def _grid_count(page) -> int:
    page.wait_for_function("() => window.portalGrid && !window.portalGrid.state.loading "
                           "&& /\\d/.test(document.getElementById('grid-counter').textContent)")
    return int(re.match(r"[\d,]+", page.text_content("#grid-counter").strip()).group(0).replace(",", ""))


def test_clicking_a_bar_opens_the_cards_behind_it(browser, live):
    """The custodian's growth chart (cards added per month): the highest bar opens the grid
    of exactly the cards entered that month."""
    page = guarded(browser, live, "custodian", PASSWORD)
    page.goto(f"{live.url}/")
    drawn_charts(page)
    page.locator("#chart-overview").scroll_into_view_if_needed()
    index, value, x, y = page.evaluate("""() => {
        const holder = document.getElementById('chart-overview');
        const chart = echarts.getInstanceByDom(holder);
        const data = chart.getOption().series[0].data.map(d => d.value);
        const i = data.indexOf(Math.max.apply(null, data));
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [i, data[i] / 2]);
        const box = holder.getBoundingClientRect();
        return [i, data[i], box.left + x, box.top + y];
    }""")
    assert value > 0
    with page.expect_navigation():
        page.mouse.click(x, y)
    assert "/grid/customer/" in page.url and "f.created_on=" in page.url
    assert _grid_count(page) == value
    assert not page.external, f"requests left 127.0.0.1: {page.external}"
    assert not page.js_errors, page.js_errors
    page.context.close()
