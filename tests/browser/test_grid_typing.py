"""Typing in the grid as a clerk does all day: Enter, Tab, Esc, the cell's saving state,
invalid values, moving around, new records in the last row, read-only and masked columns."""
from __future__ import annotations

import json

from portal.models import Customer

from .conftest import DEMO_PASSWORD, open_session
from .gridpage import GridPage, count, fresh
from tests.conftest import PASSWORD


def pk(key: str) -> int:
    return int(key[1:])


def show_column(grid, field):
    grid.page.click("#grid-columns-button")
    box = grid.page.locator(f'#grid-columns-menu input[data-field="{field}"]')
    if not box.is_checked():
        box.check()
    grid.page.click("#grid-counter")  # closes the menu


def test_enter_saves_and_moves_down_tab_moves_right_shift_tab_left_esc_cancels(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    k0, k1 = grid.keys()[:2]
    grid.type_into(k0, "city", "宁波市")
    assert grid.active() == (k1, "city")
    grid.wait_saved()
    assert fresh(Customer, pk(k0)).city == "宁波市"

    fields = grid.fields()
    after_city = fields[fields.index("city") + 1]
    grid.type_into(k1, "city", "温州市", then="Tab")
    assert grid.active() == (k1, after_city)
    grid.page.keyboard.press("Shift+Tab")
    assert grid.active() == (k1, "city")
    grid.wait_saved()

    before = fresh(Customer, pk(k1)).street
    province = grid.text(k1, "province")
    grid.click(k1, "province")
    grid.page.keyboard.type("不要保存")
    grid.page.keyboard.press("Escape")
    assert grid.text(k1, "province") == province and grid.active() == (k1, "province")
    assert fresh(Customer, pk(k1)).street == before

    grid.reload()
    assert grid.text(k0, "city") == "宁波市" and grid.text(k1, "city") == "温州市"
    assert fresh(Customer, pk(k1)).city == "温州市"


def test_a_cell_shows_saving_then_saved_and_a_failed_save_is_kept_for_retry(clerk_page, live):
    page = clerk_page
    grid = GridPage(page, live).open()
    k0, k1 = grid.keys()[:2]
    held = []
    page.route("**/api/v1/grid/customer/batches", lambda route: held.append(route))
    grid.type_into(k0, "city", "嘉兴市")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert grid.state(k0, "city") == "saving"
    held[0].continue_()
    page.wait_for_function(f"""() => document.querySelector('#grid .tabulator-row[data-key="{k0}"] [tabulator-field="city"]').dataset.state === 'saved'""")
    page.unroute("**/api/v1/grid/customer/batches")
    assert fresh(Customer, pk(k0)).city == "嘉兴市"

    page.route("**/api/v1/grid/customer/batches", lambda route: route.abort())
    before = fresh(Customer, pk(k1)).city
    grid.type_into(k1, "city", "湖州市")
    page.wait_for_selector(f'#grid .tabulator-row[data-key="{k1}"] [tabulator-field="city"][data-state="failed"]')
    assert grid.text(k1, "city") == "湖州市"  # what was typed stays on screen
    assert fresh(Customer, pk(k1)).city == before
    page.unroute("**/api/v1/grid/customer/batches")
    page.click("#grid-retry")
    grid.wait_saved()
    assert fresh(Customer, pk(k1)).city == "湖州市"


def test_an_invalid_value_turns_the_cell_red_keeps_the_text_and_saves_nothing(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    show_column(grid, "birth_date")
    k0 = grid.keys()[0]
    before = fresh(Customer, pk(k0))
    mobile, birth, name = before.mobile, before.birth_date, before.name
    for field, bad in (("mobile", "1381234"), ("birth_date", "2024-02-31")):
        grid.type_into(k0, field, bad)
        grid.wait_saved()
        assert grid.state(k0, field) == "invalid", field
        assert grid.text(k0, field) == bad
        assert grid.cell(k0, field).get_attribute("title")
    grid.click(k0, "mobile")
    assert "11" in grid.page.locator("#grid-cell-message").inner_text()  # the field's own message
    grid.click(k0, "name")
    grid.page.keyboard.press("Backspace")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    assert grid.state(k0, "name") == "invalid"
    saved = fresh(Customer, pk(k0))
    assert (saved.mobile, saved.birth_date, saved.name) == (mobile, birth, name)

    grid.type_into(k0, "mobile", "13812345678")
    grid.wait_saved()
    assert grid.state(k0, "mobile") in ("saved", "")
    assert fresh(Customer, pk(k0)).mobile == "13812345678"


def test_arrows_home_end_ctrl_home_end_and_page_keys_move_the_active_cell_into_view(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    keys, fields = grid.keys(), grid.fields()
    key = grid.page.keyboard.press
    grid.click(keys[0], "number")
    key("ArrowRight")
    assert grid.active() == (keys[0], fields[1])
    key("ArrowDown")
    assert grid.active() == (keys[1], fields[1])
    key("End")
    assert grid.active() == (keys[1], fields[-1]) and grid.in_view(keys[1], fields[-1])
    key("Home")
    assert grid.active() == (keys[1], fields[0])
    key("Control+End")
    assert grid.active() == (keys[-1], fields[-1]) and grid.in_view(keys[-1], fields[-1])
    key("Control+Home")
    assert grid.active() == (keys[0], fields[0]) and grid.in_view(keys[0], fields[0])
    key("PageDown")
    row, field = grid.active()
    assert keys.index(row) > 5 and field == fields[0] and grid.in_view(row, field)
    key("PageUp")
    assert grid.active() == (keys[0], fields[0])
    key("ArrowUp")  # stays inside the grid
    assert grid.active() == (keys[0], fields[0])


def test_a_new_customer_is_typed_into_the_blank_last_row_and_an_incomplete_one_stays_a_draft(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    before = count(Customer)
    grid.click("blank", "name")
    grid.page.keyboard.type("表格新建客户")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    assert count(Customer) == before + 1
    created = fresh(Customer, grid.page.evaluate("portalGrid.table.getRows('active').map(r => r.getData()).find(d => d.name === '表格新建客户').id"))
    assert created.name == "表格新建客户" and created.number  # numbered by the pattern
    assert grid.keys()[-1] == "blank"  # a fresh blank row below

    grid.click("blank", "phone")
    grid.page.keyboard.type("0571-88123456")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    assert count(Customer) == before + 1  # no name: nothing created
    draft = grid.keys()[-2]
    assert draft.startswith("n")
    assert grid.state(draft, "name") == "invalid"
    assert "grid-draft" in grid.page.locator(f'#grid .tabulator-row[data-key="{draft}"]').get_attribute("class")

    grid.reload()
    drafts = [k for k in grid.keys() if k.startswith("n")]
    assert len(drafts) == 1 and grid.text(drafts[0], "phone") == "0571-88123456"
    grid.click(drafts[0], "name")
    grid.page.keyboard.type("补全的草稿")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    assert count(Customer) == before + 2
    assert fresh(Customer, grid.data(drafts[0])["id"]).phone == "0571-88123456"


def test_read_only_and_masked_columns_refuse_typing_and_paste_and_the_server_refuses_them(browser, live, clerk_page):
    grid = GridPage(clerk_page, live).open()
    k0 = grid.keys()[0]
    stage = grid.text(k0, "stage")
    grid.click(k0, "stage")
    grid.page.keyboard.type("旧客户")
    assert grid.page.locator("#grid .grid-editor").count() == 0
    assert grid.text(k0, "stage") == stage and grid.status()
    grid.paste("旧客户\r\n")
    grid.wait_saved()
    assert grid.text(k0, "stage") == stage and fresh(Customer, pk(k0)).stage != "former"

    sales = open_session(browser, live, "zhangwei", DEMO_PASSWORD)
    mine = GridPage(sales, live).open()
    show_column(mine, "id_number")
    key = mine.keys()[0]
    shown = mine.text(key, "id_number")
    mine.click(key, "id_number")
    sales.keyboard.type("110105194912310021")
    assert sales.locator("#grid .grid-editor").count() == 0 and mine.text(key, "id_number") == shown
    row = mine.data(key)
    answer = sales.evaluate("""body => fetch('/api/v1/grid/customer/batches', {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)}).then(r => r.json())""",
                            {"id": "refused-1", "changes": [{"key": key, "id": row["id"], "version": row["version"],
                                                             "values": {"id_number": "110105194912310021"}}]})
    assert answer["results"][0]["status"] == "refused", json.dumps(answer, ensure_ascii=False)
    assert fresh(Customer, row["id"]).id_number != "110105194912310021"
    sales.context.close()


def test_the_page_is_chinese_first_and_english_is_complete(browser, live):
    page = open_session(browser, live, "clerk", PASSWORD, locale="en-US")
    page.goto(f"{live.url}/lang/en")
    grid = GridPage(page, live).open()
    assert grid.page.locator("#grid .tabulator-col[tabulator-field='name']").inner_text().strip().startswith("Name")
    assert "Columns" in page.locator("#grid-columns-button").inner_text()
    page.goto(f"{live.url}/lang/zh_CN")
    grid.open()
    assert "客户名称" in grid.page.locator("#grid .tabulator-col[tabulator-field='name']").inner_text()
    assert "列" in page.locator("#grid-columns-button").inner_text()
    page.context.close()


def test_relation_and_choice_cells_offer_type_ahead_and_save_the_chosen_record(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    k0 = grid.keys()[0]
    grid.click(k0, "owner")
    grid.page.keyboard.press("F2")
    grid.page.keyboard.press("Control+a")
    grid.page.keyboard.type("lina")  # pinyin of 李娜
    grid.page.wait_for_selector("#grid-suggest li >> text=李娜")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    from tests.conftest import user

    assert fresh(Customer, pk(k0)).owner_id == user(live.app, "lina").id
    assert grid.text(k0, "owner") == "李娜"

    grid.click(k0, "value_grade")
    grid.page.keyboard.type("A")
    grid.page.wait_for_selector("#grid-suggest li >> text=A级")
    grid.page.keyboard.press("Enter")
    grid.wait_saved()
    assert fresh(Customer, pk(k0)).value_grade == "A" and grid.text(k0, "value_grade") == "A级"
