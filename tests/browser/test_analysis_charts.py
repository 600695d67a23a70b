"""The analysis charts in headless Chromium, on the demo archive: ECharts (served by the portal)
draws each chart, clicking a bar opens the customer grid filtered to exactly the customers
behind it, and no request leaves 127.0.0.1 — any request to another host fails the test."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD

from .conftest import guard_offline, open_session

PERIOD = "from=2025-11-01&to=2026-10-31"
PAGES = [
    ("composition", "by=grade", "bar"),
    ("composition", "by=product", "bar"),
    ("composition", "by=category", "pie"),
    ("composition", "by=region", "bar"),
    ("credit", "view=class", "bar"),
    ("credit", "view=customers", "bar"),
    ("lifecycle", "view=stages", "line"),
    ("lifecycle", "view=new", "bar"),
    ("lifecycle", "view=churn", "bar"),
    ("lifecycle", "view=referrals", "tree"),
]


@pytest.fixture
def offline(browser, live):
    """A custodian's browser in which every request is recorded; one to any host other than
    127.0.0.1 is answered with an error (never sent) and makes the test fail."""
    page = guard_offline(open_session(browser, live, "custodian", PASSWORD))
    yield page
    assert not page.external, f"requests left 127.0.0.1: {page.external}"
    assert not page.js_errors, page.js_errors
    page.context.close()


def wait_chart(page):
    page.wait_for_function("() => document.getElementById('analysis-chart').dataset.rendered === '1'")
    return page.evaluate("""() => {
        const holder = document.getElementById('analysis-chart');
        const chart = echarts.getInstanceByDom(holder);
        const canvas = holder.querySelector('canvas');
        const ctx = canvas.getContext('2d');
        const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) painted++; }
        const series = chart.getOption().series;
        return {exists: !!chart, type: series[0].type, points: series.reduce((n, s) => n + (s.data || []).length, 0),
                width: canvas.width, height: canvas.height, painted: painted};
    }""")


@pytest.mark.parametrize("key,args,kind", PAGES)
def test_each_analysis_draws_its_chart_from_the_portal_alone(offline, live, key, args, kind):
    offline.goto(f"{live.url}/analysis/{key}/?{PERIOD}&{args}")
    assert offline.locator("#analysis-table tbody tr").count() > 0
    drawn = wait_chart(offline)
    assert drawn["exists"] and drawn["points"] > 0 and drawn["width"] > 0 and drawn["painted"] > 1000, drawn
    assert drawn["type"] == ("bar" if kind == "bar" else kind)
    scripts = offline.evaluate("Array.from(document.scripts).map(s => s.src).filter(Boolean)")
    assert any(s.endswith("/static/vendor/echarts/echarts.min.js") for s in scripts)


def _bar_centre(page, index: int):
    """The page coordinates of the middle of bar ``index`` of the first series."""
    return page.evaluate("""(index) => {
        const holder = document.getElementById('analysis-chart');
        const chart = echarts.getInstanceByDom(holder);
        const value = chart.getOption().series[0].data[index].value;
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [index, value / 2]);
        const box = holder.getBoundingClientRect();
        return [box.left + x, box.top + y];
    }""", index)


def _grid_count(page) -> int:
    page.wait_for_function("() => window.portalGrid && !window.portalGrid.state.loading "
                           "&& /\\d/.test(document.getElementById('grid-counter').textContent)")
    text = page.text_content("#grid-counter")
    return int(re.match(r"[\d,]+", text.strip()).group(0).replace(",", ""))


def test_clicking_a_bar_opens_the_grid_with_exactly_its_customers(offline, live):
    offline.goto(f"{live.url}/analysis/composition/?{PERIOD}&by=grade")
    wait_chart(offline)
    headers = [h.strip() for h in offline.locator("#analysis-table thead th").all_text_contents()]
    buyers_column = headers.index(offline.evaluate(
        "JSON.parse(document.getElementById('analysis-data').textContent).columns.find(c => c.key === 'buyers').label"))
    expected = int(offline.locator("#analysis-table tbody tr").nth(0).locator("td").nth(buyers_column)
                   .text_content().replace(",", ""))
    assert expected > 0
    x, y = _bar_centre(offline, 0)
    with offline.expect_navigation():
        offline.mouse.click(x, y)
    assert "/grid/customer/" in offline.url and "drill=composition.grade" in offline.url
    assert _grid_count(offline) == expected
    chip = offline.locator("#grid-drill")
    assert chip.is_visible() and offline.text_content("#grid-drill-label").strip()
    # removing the chip shows every customer again, and the address loses the drill-down
    offline.click("#grid-drill-remove")
    offline.wait_for_function(f"() => !window.portalGrid.state.loading && "
                              f"!document.getElementById('grid-counter').textContent.startsWith('{expected:,} ')")
    assert "drill=" not in offline.url and not chip.is_visible()
    assert _grid_count(offline) > expected


def test_a_product_bar_and_a_lifecycle_point_drill_down_too(offline, live):
    offline.goto(f"{live.url}/analysis/composition/?{PERIOD}&by=product")
    wait_chart(offline)
    data = offline.evaluate("JSON.parse(document.getElementById('analysis-data').textContent)")
    expected = data["rows"][0]["buyers"]
    x, y = _bar_centre_horizontal(offline, 0)
    with offline.expect_navigation():
        offline.mouse.click(x, y)
    assert "drill=composition.product" in offline.url
    assert _grid_count(offline) == expected

    offline.goto(f"{live.url}/analysis/lifecycle/?{PERIOD}&view=stages")
    wait_chart(offline)
    data = offline.evaluate("JSON.parse(document.getElementById('analysis-data').textContent)")
    last = len(data["rows"]) - 1
    x, y = offline.evaluate("""(index) => {
        const holder = document.getElementById('analysis-chart');
        const chart = echarts.getInstanceByDom(holder);
        const series = chart.getOption().series;
        const i = series.findIndex(s => s.data[index].seriesKey === 'current');
        const [x, y] = chart.convertToPixel({seriesIndex: i}, [index, series[i].data[index].value]);
        const box = holder.getBoundingClientRect();
        return [box.left + x, box.top + y];
    }""", last)
    with offline.expect_navigation():
        offline.mouse.click(x, y)
    assert "drill=lifecycle.stage_at" in offline.url
    assert _grid_count(offline) == data["rows"][last]["current"]


def _bar_centre_horizontal(page, index: int):
    return page.evaluate("""(index) => {
        const holder = document.getElementById('analysis-chart');
        const chart = echarts.getInstanceByDom(holder);
        const value = chart.getOption().series[0].data[index].value;
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [value / 2, index]);
        const box = holder.getBoundingClientRect();
        return [box.left + x, box.top + y];
    }""", index)


def test_a_salesperson_sees_and_opens_only_their_own_customers(browser, live):
    from portal.extensions import db
    from portal.models import Customer
    import sqlalchemy as sa
    from tests.conftest import user

    page = open_session(browser, live, "sales", PASSWORD)
    try:
        sales = user(live.app, "sales")
        # give the test salesperson three demo customers of grade A
        ids = db.session.scalars(sa.select(Customer.id).where(Customer.value_grade == "A").order_by(Customer.id).limit(3)).all()
        db.session.execute(sa.update(Customer).where(Customer.id.in_(ids)).values(owner_id=sales.id))
        db.session.commit()
        page.goto(f"{live.url}/analysis/composition/?by=grade&from=2015-01-01&to=2026-10-31")
        data = page.evaluate("JSON.parse(document.getElementById('analysis-data').textContent)")
        assert sum(r["customers"] for r in data["rows"]) == 3
        grade_a = next(i for i, r in enumerate(data["rows"]) if r["code"] == "A")
        page.goto(live.url + data["drill"][grade_a]["customers"])
        assert _grid_count(page) == 3
        assert not page.js_errors, page.js_errors
    finally:
        page.context.close()


def test_the_guard_itself_catches_a_request_to_another_host(offline, live):
    """The fixture's guard is what makes the other tests fail on an external request: a page
    that asks another host for anything is recorded (and the request never leaves)."""
    offline.goto(f"{live.url}/analysis/")
    offline.evaluate("fetch('https://cdn.jsdelivr.net/npm/echarts/dist/echarts.min.js').catch(() => null)")
    offline.wait_for_timeout(300)
    assert any("CSP" in url and "cdn.jsdelivr.net" in url for url in offline.external), offline.external
    offline.external.clear()
    with pytest.raises(Exception):
        offline.goto("https://cdn.jsdelivr.net/npm/echarts/")
    assert any(url.startswith("https://cdn.jsdelivr.net/") for url in offline.external), offline.external
    offline.external.clear()


def test_the_grid_takes_header_filters_from_its_address(offline, live):
    from portal.extensions import db
    from portal.models import Customer
    import sqlalchemy as sa

    grade_a = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.value_grade == "A"))
    offline.goto(f"{live.url}/grid/customer/?f.value_grade=A")
    assert _grid_count(offline) == grade_a
    assert offline.evaluate("portalGrid.state.filters") == {"value_grade": "A"}


def test_a_refused_drill_down_link_keeps_its_chip_with_the_reason_and_can_be_removed(offline, live):
    """A stale or edited drill-down address is refused by the server; the grid says why on the
    chip (not only in the status line) and its remove button brings every row back."""
    offline.goto(f"{live.url}/grid/customer/?drill=composition.grade&d.value_grade=Q")
    chip = offline.locator("#grid-drill")
    chip.wait_for(state="visible")
    label = offline.text_content("#grid-drill-label")
    assert "value_grade" in label, label
    assert "label-danger" in offline.get_attribute("#grid-drill .label", "class")
    offline.click("#grid-drill-remove")
    assert _grid_count(offline) > 0
    assert "drill=" not in offline.url and not chip.is_visible()
    assert "label-info" in offline.get_attribute("#grid-drill .label", "class")
