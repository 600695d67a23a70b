"""Paste from Excel, fill, copy to Excel, clear, undo and redo — on the server too."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer

from .gridpage import GridPage, count, fresh

COLUMNS = ("name", "customer_type", "province", "city", "phone", "mobile")


def pk(key: str) -> int:
    return int(key[1:])


def excel_tsv(rows):
    """What Excel puts on the clipboard: tabs, CRLF after every row, quotes around a cell
    that holds a line break."""
    def cell(text):
        return f'"{text}"' if "\n" in text else text
    return "".join("\t".join(cell(c) for c in row) + "\r\n" for row in rows)


def test_pasting_50_rows_by_6_columns_from_excel_fills_exactly_that_rectangle(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    assert grid.fields()[1:7] == list(COLUMNS)
    keys = grid.keys()
    target, below = keys[10:60], keys[60]
    below_before = fresh(Customer, pk(below)).name
    rows = []
    for i in range(50):
        mobile = "1381234" if i in (7, 31) else f"139{i:08d}"
        name = "多行\n名称公司" if i == 3 else f"粘贴客户{i:02d}"
        rows.append([name, "企业", "浙江省", "杭州市", f"0571-8800{i:04d}", mobile])
    grid.click(target[0], "name")
    grid.paste(excel_tsv(rows))
    grid.wait_saved()
    assert grid.status() in ("48 saved, 2 need attention", "已保存 48 行，2 行需要处理")
    for i, key in enumerate(target):
        saved = fresh(Customer, pk(key))
        assert "\r" not in saved.name and "\r" not in (saved.mobile or "")
        assert saved.city == "杭州市" and saved.phone == f"0571-8800{i:04d}"
        if i in (7, 31):
            assert grid.state(key, "mobile") == "invalid" and grid.text(key, "mobile") == "1381234"
        else:
            assert saved.mobile == f"139{i:08d}" and saved.name == (rows[i][0] if i != 3 else "多行 名称公司")
    assert fresh(Customer, pk(below)).name == below_before  # nothing below the paste overwritten
    assert grid.keys()[60] == below


def test_pasting_past_the_last_row_creates_the_new_records_and_no_blank_one(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    before = count(Customer)
    real = [k for k in grid.keys() if k.startswith("r")]
    last = real[-1]
    rows = [[f"末尾客户{i}", "个人", "江苏省", "南京市", "", f"1370000000{i}"] for i in range(3)]
    grid.click(last, "name")
    grid.paste(excel_tsv(rows))
    grid.wait_saved()
    assert count(Customer) == before + 2  # one update, two created
    assert fresh(Customer, pk(last)).name == "末尾客户0"
    db.session.rollback()
    names = set(db.session.scalars(sa.select(Customer.name).where(Customer.name.like("末尾客户%"))))
    assert names == {"末尾客户0", "末尾客户1", "末尾客户2"}
    assert grid.keys()[-1] == "blank" and grid.keys().count("blank") == 1


def test_one_value_pasted_on_a_range_fills_it_and_ctrl_d_fills_down(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    keys = grid.keys()
    cities = [fresh(Customer, pk(k)).city for k in keys[:5]]
    grid.click(keys[0], "city")
    grid.click(keys[4], "phone", modifiers=["Shift"])
    grid.paste("丽水市\r\n")
    grid.wait_saved()
    for key in keys[:5]:
        saved = fresh(Customer, pk(key))
        assert saved.city == "丽水市"
    assert all(grid.state(k, "phone") == "invalid" for k in keys[:5])  # 丽水市 is no phone number
    grid.page.keyboard.press("Control+z")  # rows saved only in part are one undo step too
    grid.page.wait_for_function("() => window.portalGrid.state.redo.length === 1")
    assert [fresh(Customer, pk(k)).city for k in keys[:5]] == cities
    grid.page.keyboard.press("Control+y")
    grid.page.wait_for_function("() => window.portalGrid.state.undo.length === 1")
    assert {fresh(Customer, pk(k)).city for k in keys[:5]} == {"丽水市"}

    top = fresh(Customer, pk(keys[5]))
    grid.click(keys[5], "province")
    for _ in range(4):
        grid.page.keyboard.press("Shift+ArrowDown")
    grid.page.keyboard.press("Control+d")
    grid.wait_saved()
    assert {fresh(Customer, pk(k)).province for k in keys[5:10]} == {top.province}


def test_a_range_selected_with_shift_arrows_or_the_mouse_is_copied_as_excel_tsv(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    keys, fields = grid.keys(), grid.fields()
    grid.click(keys[0], "number")
    for press in ("Shift+ArrowDown", "Shift+ArrowDown", "Shift+ArrowRight", "Shift+ArrowRight"):
        grid.page.keyboard.press(press)
    grid.page.keyboard.press("Control+c")
    expected = "".join("\t".join(grid.text(k, f) for f in fields[:3]) + "\r\n" for k in keys[:3])
    assert grid.clipboard() == expected

    start, end = grid.cell(keys[3], "city").bounding_box(), grid.cell(keys[5], "phone").bounding_box()
    mouse = grid.page.mouse
    mouse.move(start["x"] + 5, start["y"] + 5)
    mouse.down()
    mouse.move(end["x"] + 5, end["y"] + 5, steps=5)
    mouse.up()
    grid.page.keyboard.press("Control+c")
    cols = fields[fields.index("city"):fields.index("phone") + 1]
    assert grid.clipboard() == "".join("\t".join(grid.text(k, f) for f in cols) + "\r\n" for k in keys[3:6])


def test_delete_clears_the_selected_cells_and_required_ones_are_flagged(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    keys = grid.keys()
    grid.click(keys[0], "city")
    grid.click(keys[1], "phone", modifiers=["Shift"])
    grid.page.keyboard.press("Delete")
    grid.wait_saved()
    for key in keys[:2]:
        saved = fresh(Customer, pk(key))
        assert saved.city is None and saved.phone is None
    name = fresh(Customer, pk(keys[2])).name
    grid.click(keys[2], "name")
    grid.page.keyboard.press("Delete")
    grid.wait_saved()
    assert grid.state(keys[2], "name") == "invalid"
    assert fresh(Customer, pk(keys[2])).name == name


def test_ctrl_z_undoes_an_edit_or_a_whole_paste_on_the_server_and_ctrl_y_redoes(clerk_page, live):
    grid = GridPage(clerk_page, live).open()
    keys = grid.keys()
    old_city = fresh(Customer, pk(keys[0])).city
    grid.type_into(keys[0], "city", "撤销测试市")
    grid.wait_saved()
    assert fresh(Customer, pk(keys[0])).city == "撤销测试市"
    grid.page.keyboard.press("Control+z")
    grid.page.wait_for_function("() => !document.getElementById('grid-status').textContent.includes('…')")
    grid.wait_saved()
    grid.page.wait_for_timeout(300)
    assert fresh(Customer, pk(keys[0])).city == old_city
    assert grid.text(keys[0], "city") == (old_city or "")
    grid.page.keyboard.press("Control+y")
    grid.wait_saved()
    grid.page.wait_for_timeout(300)
    assert fresh(Customer, pk(keys[0])).city == "撤销测试市"

    before = {k: (fresh(Customer, pk(k)).city, fresh(Customer, pk(k)).phone) for k in keys[3:6]}
    grid.click(keys[3], "city")
    grid.paste("甲市\t010-12345678\r\n乙市\t010-12345679\r\n丙市\t010-12345670\r\n")
    grid.wait_saved()
    assert fresh(Customer, pk(keys[5])).city == "丙市"
    grid.page.keyboard.press("Control+z")
    grid.page.wait_for_timeout(300)
    grid.wait_saved()
    grid.page.wait_for_timeout(300)
    assert {k: (fresh(Customer, pk(k)).city, fresh(Customer, pk(k)).phone) for k in keys[3:6]} == before
