"""The long ABC working lists (cross-sell, top customers) are paged in SQL: a page is a slice
of the whole sorted list with the whole list's total, the page and /data carry the page and
a pager keeping the filters, every other analysis is unchanged; bad page numbers are a 400."""
import datetime as dt
import re

from portal.analysis import registry
from portal.extensions import db
from portal.models import ProductCategory
from portal.security import scope
from portal.services.classification import lists
from portal.services.classification.common import Period
from portal.views import classification as pages
from tests.conftest import login

from .helpers import customer, product, sale

YEAR = Period.of(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
MANY = pages.LIST_PAGE_SIZE + 20


def _archive():
    """MANY one-line buyers in 2025 with distinct values, and a few trading again in 2026."""
    ink = ProductCategory(code="INK", name="耗材")
    db.session.add(ink)
    db.session.flush()
    black = product("K", category=ink)
    people = []
    for n in range(MANY):
        who = customer(f"客户{n:03d}")
        sale(who, "2025-06-01", (black, 1, f"{1000 + n}.00"))
        people.append(who)
    sale(people[-1], "2026-02-01", (black, 1, "5.00"))
    db.session.commit()
    return people


def test_cross_sell_pages_are_slices_of_the_whole_list_with_its_total(app):
    _archive()
    whole = lists.cross_sell(db.session, YEAR, 2)
    assert len(whole) == MANY
    got = []
    for offset in range(0, MANY + 40, 40):
        rows, total = lists.cross_sell_page(db.session, YEAR, 2, limit=40, offset=offset)
        assert total == MANY
        got += rows
    assert got == whole
    assert lists.cross_sell_page(db.session, YEAR, 2, limit=40, offset=10_000) == ([], MANY)
    assert list(lists.iter_cross_sell(db.session, YEAR, 2, batch=7)) == whole


def test_top_customers_page_and_count(app):
    _archive()
    today = dt.date(2026, 3, 1)
    whole = lists.top_customers(db.session, 2025, today)
    assert len(whole) == lists.count_top_customers(db.session, 2025) == 6      # 5% of 120 (no ties)
    assert lists.top_customers(db.session, 2025, today, limit=3, offset=2) == whole[2:5]


def test_the_analysis_returns_one_page_with_the_total_and_streams_every_row(app):
    _archive()
    analysis = registry.get("abc_lists")
    filters, result = analysis.run({"list": "cross_sell", "year": "2025", "page": "2"}, scope.ALL)
    assert filters.page.number == 2
    assert result.page.total == MANY and result.page.pages == 2 and len(result.rows) == MANY - pages.LIST_PAGE_SIZE
    assert len(result.drill) == len(result.rows)
    count, rows = registry.export_rows(result)
    rows = list(rows)
    assert count == len(rows) == MANY
    assert [r["customer_id"] for r in rows[pages.LIST_PAGE_SIZE:]] == [r["customer_id"] for r in result.rows]
    # Asked for no page (commands, tests): every row, no stream.
    _, unpaged = analysis.run({"list": "cross_sell", "year": "2025"}, scope.ALL)
    whole = analysis.compute(registry.Filters(params={**filters.params}, uses=analysis.uses), scope.ALL)
    assert whole.page is None and len(whole.rows) == MANY and registry.export_rows(whole)[0] == MANY
    assert unpaged.page.number == 1 and len(unpaged.rows) == pages.LIST_PAGE_SIZE


def test_unpaged_analyses_take_no_page_parameter(app):
    with_page = {"page": "2"}
    try:
        registry.get("abc").run(with_page, scope.ALL)
    except registry.FilterError:
        pass
    else:
        raise AssertionError("an analysis without page_size accepted ?page=")


def test_the_data_and_the_page_carry_the_page_and_a_pager_keeping_the_filters(client):
    _archive()
    login(client, "custodian")
    data = client.get("/analysis/abc_lists/data?list=cross_sell&year=2025&page=2").get_json()
    assert data["page"] == {"number": 2, "size": pages.LIST_PAGE_SIZE, "total": MANY, "pages": 2}
    assert len(data["rows"]) == MANY - pages.LIST_PAGE_SIZE
    assert client.get("/analysis/abc/data").get_json()["page"] is None
    page = client.get("/analysis/abc_lists/?list=cross_sell&year=2025")
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-row="', page.text)) == pages.LIST_PAGE_SIZE
    assert 'id="analysis-pager"' in page.text
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(\?[^"]*page=2[^"]*)"', page.text)]
    assert links and all("list=cross_sell" in link and "year=2025" in link for link in links)
    second = client.get(f"/analysis/abc_lists/{links[0]}")
    assert len(re.findall(r'<tr data-row="', second.text)) == MANY - pages.LIST_PAGE_SIZE


def test_bad_page_numbers_are_a_400_with_a_message(client):
    login(client, "custodian")
    for bad in ("0", "x", "-3", "1e3"):
        response = client.get(f"/analysis/abc_lists/data?list=cross_sell&page={bad}")
        assert response.status_code == 400 and response.get_json()["message"]


def test_a_top_customers_page_comes_with_the_total_of_the_whole_list(app):
    _archive()
    today = dt.date(2026, 3, 1)
    whole = lists.top_customers(db.session, 2025, today)
    assert lists.top_customers_page(db.session, 2025, today, limit=4, offset=0) == (whole[:4], len(whole))
    assert lists.top_customers_page(db.session, 2025, today, limit=4, offset=4) == (whole[4:], len(whole))
    assert lists.top_customers_page(db.session, 2025, today, limit=4, offset=400) == ([], len(whole))
