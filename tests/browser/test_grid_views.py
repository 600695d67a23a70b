"""Sorting and filtering on the server, layouts and saved views, the card behind a row,
someone else's change, a salesperson's scope, and the other grids."""
from __future__ import annotations

import io

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer
from tests.conftest import PASSWORD, login, user

from .conftest import DEMO_PASSWORD, open_session
from .gridpage import GridPage, count, fresh


def pk(key: str) -> int:
    return int(key[1:])


def header(grid, field):
    return grid.page.locator(f"#grid .tabulator-col[tabulator-field='{field}'] .tabulator-col-title")


def test_header_clicks_sort_all_rows_on_the_server_and_shift_click_adds_a_key(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    grid.reload_and_wait(lambda: header(grid, "number").click())
    first = db.session.scalars(sa.select(Customer.id).order_by(Customer.number.asc(), Customer.id).limit(5)).all()
    assert [pk(k) for k in grid.keys()[:5]] == list(first)
    grid.reload_and_wait(lambda: header(grid, "number").click())
    last = db.session.scalars(sa.select(Customer.id).order_by(Customer.number.desc(), Customer.id.desc()).limit(5)).all()
    assert [pk(k) for k in grid.keys()[:5]] == list(last)  # the last customers of all pages, not of this one
    grid.reload_and_wait(lambda: header(grid, "value_grade").click())
    grid.reload_and_wait(lambda: header(grid, "province").click(modifiers=["Shift"]))
    assert [s["field"] for s in grid.page.evaluate("portalGrid.state.sort")] == ["value_grade", "province"]
    expected = db.session.scalars(sa.select(Customer.id).order_by(
        Customer.value_grade.asc(), Customer.province.asc(), Customer.id.asc()).limit(20)).all()
    assert [pk(k) for k in grid.keys()[:20]] == list(expected)


def test_column_filters_run_on_the_server_and_the_counter_shows_shown_of_all(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    total = count(Customer)
    assert grid.counter().replace(",", "") == str(total)
    city = grid.page.locator("#grid .tabulator-col[tabulator-field='city'] .tabulator-header-filter input")
    grid.reload_and_wait(lambda: (city.fill("杭州"), city.press("Enter")))
    hangzhou = count(Customer, Customer.city.like("%杭州%"))
    assert grid.counter() in (f"{hangzhou:,} / {total:,}", f"{hangzhou:,} of {total:,}")
    assert all("杭州" in grid.text(k, "city") for k in grid.keys() if k.startswith("r"))
    grid.reload_and_wait(lambda: (city.fill(""), city.press("Enter")))

    grade = grid.page.locator("#grid .tabulator-col[tabulator-field='value_grade'] .tabulator-header-filter input")
    grade.click()
    for label in ("A级", "B级"):
        grid.page.locator(".tabulator-edit-list .tabulator-edit-list-item", has_text=label).click()
    grid.page.click("#grid-counter")  # leaving the list applies it
    grid.page.wait_for_function("() => portalGrid.state.filters.value_grade === 'A|B' && !portalGrid.state.loading")
    grid.page.wait_for_timeout(300)
    ab = count(Customer, Customer.value_grade.in_(["A", "B"]))
    assert grid.counter() in (f"{ab:,} / {total:,}", f"{ab:,} of {total:,}")


def test_columns_hide_show_reorder_resize_persist_per_user_and_views_are_shared(browser, live, clerk_page):
    page = clerk_page
    grid = GridPage(page, live).open()
    page.click("#grid-columns-button")
    page.locator('#grid-columns-menu input[data-field="phone"]').uncheck()
    page.click("#grid-counter")
    assert "phone" not in grid.fields()
    assert page.locator('#grid-columns-menu input[data-field="number"]').is_disabled()  # frozen stay

    handle = page.locator("#grid .tabulator-col[tabulator-field='city'] + .tabulator-col-resize-handle").first
    box = handle.bounding_box()
    width = page.evaluate("portalGrid.table.getColumn('city').getWidth()")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    wider = page.evaluate("portalGrid.table.getColumn('city').getWidth()")
    assert wider > width + 40

    page.evaluate("portalGrid.table.moveColumn('mobile', 'customer_type', false)")  # as a header drag does
    order = grid.fields()
    assert order.index("mobile") < order.index("customer_type")
    assert page.locator("#grid .tabulator-col.tabulator-frozen[tabulator-field='number']").count() == 1
    page.wait_for_timeout(1200)  # the layout is saved shortly after the last change

    grid.reload()
    order = grid.fields()
    assert "phone" not in order and order.index("mobile") < order.index("customer_type")
    assert abs(page.evaluate("portalGrid.table.getColumn('city').getWidth()") - wider) <= 2

    page.click("#grid-views-button")
    page.click("#grid-save-view-item")
    page.fill("#grid-view-name", "浙江 A 级")
    page.check("#grid-view-shared")
    page.click("#grid-view-save")
    page.wait_for_selector("#grid-views-menu .grid-view-item >> text=浙江 A 级", state="attached")

    other = open_session(browser, live, "custodian", PASSWORD)
    theirs = GridPage(other, live).open()
    assert "phone" in theirs.fields()  # my layout is mine
    other.click("#grid-views-button")
    item = other.locator("#grid-views-menu .grid-view-item a", has_text="浙江 A 级")
    theirs.reload_and_wait(item.click)
    assert "phone" not in theirs.fields()
    other.context.close()


def test_an_edited_row_that_no_longer_fits_the_sort_stays_in_place_marked_until_refresh(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    grid.reload_and_wait(lambda: header(grid, "city").click())
    keys = grid.keys()
    grid.type_into(keys[0], "city", "自治区最后的市")
    grid.wait_saved()
    assert grid.keys()[0] == keys[0]
    assert "grid-row-moved" in grid.page.locator(f'#grid .tabulator-row[data-key="{keys[0]}"]').get_attribute("class")
    grid.reload_and_wait(lambda: grid.page.click("#grid-refresh"))
    assert grid.keys()[0] != keys[0]


def test_opening_a_row_shows_the_card_and_changes_made_there_appear_in_the_grid(clerk_page, live):
    page = clerk_page
    grid = GridPage(page, live).open()
    key = grid.keys()[0]
    with page.context.expect_page() as opened:
        page.locator(f'#grid .tabulator-row[data-key="{key}"] a.grid-open').click()
    card = opened.value
    card.wait_for_load_state()
    assert f"/customerview/show/{pk(key)}" in card.url
    assert card.locator("text=基本信息").count() >= 1  # the card's sections
    card.goto(f"{live.url}/customerview/edit/{pk(key)}")
    card.fill("#city", "从卡片改的市")
    card.click("[type=submit]")
    card.wait_for_load_state()
    page.bring_to_front()
    page.wait_for_function(
        f"""() => document.querySelector('#grid .tabulator-row[data-key="{key}"] [tabulator-field="city"]').textContent.includes('从卡片改的市')""")
    card.close()


def test_another_clerks_change_is_shown_and_the_clerk_chooses_nothing_is_overwritten(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    k0, k1 = grid.keys()[:2]
    other = login(live.app.test_client(), "custodian")
    for key, city in ((k0, "他们的城市甲"), (k1, "他们的城市乙")):
        row = fresh(Customer, pk(key))
        assert other.patch(f"/api/v1/grid/customer/rows/{row.id}",
                           json={"field": "city", "value": city, "version": row.version}).status_code == 200

    grid.type_into(k0, "city", "我的城市甲")
    grid.page.wait_for_selector("#grid-conflict:not([hidden])")
    dialog = grid.page.locator("#grid-conflict")
    assert "他们的城市甲" in dialog.inner_text() and "我的城市甲" in dialog.inner_text()
    assert user(live.app, "custodian").get_full_name() in dialog.inner_text()
    assert fresh(Customer, pk(k0)).city == "他们的城市甲"
    grid.page.click("#grid-conflict-theirs")
    assert grid.text(k0, "city") == "他们的城市甲" and fresh(Customer, pk(k0)).city == "他们的城市甲"

    grid.type_into(k1, "city", "我的城市乙")
    grid.page.wait_for_selector("#grid-conflict:not([hidden])")
    grid.page.click("#grid-conflict-mine")
    grid.wait_saved()
    assert fresh(Customer, pk(k1)).city == "我的城市乙"


def test_a_salesperson_sees_counts_searches_and_exports_only_their_customers(browser, live):
    page = open_session(browser, live, "zhangwei", DEMO_PASSWORD)
    grid = GridPage(page, live).open()
    me = user(live.app, "zhangwei")
    mine = count(Customer, Customer.owner_id == me.id)
    assert grid.counter().replace(",", "") == str(mine)
    assert all(fresh(Customer, pk(k)).owner_id == me.id for k in grid.keys() if k.startswith("r"))
    other = db.session.scalars(sa.select(Customer).where(Customer.owner_id != me.id)).first()
    grid.reload_and_wait(lambda: page.fill("#grid-search", other.number))
    assert [k for k in grid.keys() if k.startswith("r")] == []
    grid.reload_and_wait(lambda: page.fill("#grid-search", ""))

    page.click("#grid-export-button")
    with page.expect_download() as download:
        page.click("#grid-export-xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "客户编号" and len(rows) - 1 == mine
    numbers = {r[0] for r in rows[1:]}
    assert other.number not in numbers
    page.context.close()


def test_contacts_transactions_and_visits_open_as_grids_within_the_users_scope(browser, live):
    page = open_session(browser, live, "zhangwei", DEMO_PASSWORD)
    for resource in ("contact", "transaction", "visit"):
        grid = GridPage(page, live, resource).open()
        assert [k for k in grid.keys() if k.startswith("r")], resource
    page.goto(f"{live.url}/")  # the menu opens the grid
    assert page.locator("a[href='/grid/customer/']").count() >= 1
    page.context.close()
