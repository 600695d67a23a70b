"""How users are named on pages."""
from tests.conftest import login, user


def test_chinese_names_are_shown_family_name_first():
    from portal.security.users import full_name

    assert full_name("伟", "张") == "张伟"
    assert full_name("Wei", "Zhang") == "Wei Zhang"
    assert full_name("晓燕", "") == "晓燕"


def test_owner_names_read_family_name_first_on_lists_and_in_the_navbar(demo_app):
    client = demo_app.test_client()
    login(client, "admin")
    zhang = user(demo_app, "zhangwei")
    html = client.get(f"/customerview/list/?_flt_0_owner={zhang.id}").text
    assert "张伟" in html and "伟 张" not in html
