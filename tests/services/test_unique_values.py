"""Unique text values compare whatever their case, through the unique index where the value
has few letters, and case-folded over the table where it has many."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer
from portal.services import unique_values


def test_the_spellings_of_a_code_are_its_letters_in_either_case():
    assert sorted(unique_values.spellings("kh-1")) == ["KH-1", "Kh-1", "kH-1", "kh-1"]
    assert unique_values.spellings("2026-001") == ["2026-001"]
    assert unique_values.spellings("客户Ａ") == ["客户ａ", "客户Ａ"]   # full-width letters have cases too
    assert len(unique_values.spellings("91310000MA1FL3KX6B")) == 128
    assert len(unique_values.spellings("abcdefgh")) == 256
    assert unique_values.spellings("abcdefghi") is None   # 512: compared case-folded instead
    assert unique_values.spellings("abcdefghi" + "x" * 1_000_000) is None


def test_holders_find_a_value_in_any_case_and_only_that_value(app, monkeypatch):
    db.session.add_all([Customer(number="KH202600001", name="甲公司", credit_code="91330100MA2ABCDEFG"),
                        Customer(number="kh202600002", name="乙公司"),
                        Customer(number="KH202600003", name="丙公司")])
    db.session.commit()
    ids = dict(db.session.execute(sa.select(Customer.number, Customer.id)).all())
    found = unique_values.holders(db.session, Customer, "number", ["kh202600001", "KH202600002", "KH202600009"])
    assert found == {"kh202600001": {ids["KH202600001"]: "KH202600001"},
                     "kh202600002": {ids["kh202600002"]: "kh202600002"}}
    # Nine letters (512 spellings): found by the case-folded comparison.
    assert unique_values.holders(db.session, Customer, "credit_code", ["91330100ma2abcdefg"]) == {
        "91330100ma2abcdefg": {ids["KH202600001"]: "91330100MA2ABCDEFG"}}
    # Past the budget of spellings, the rest are compared case-folded too.
    monkeypatch.setattr(unique_values, "SPELLING_BUDGET", 4)
    assert unique_values.holders(db.session, Customer, "number", ["kh202600001", "KH202600002"]) == {
        "kh202600001": {ids["KH202600001"]: "KH202600001"}, "kh202600002": {ids["kh202600002"]: "kh202600002"}}
    assert unique_values.other_holder(db.session, Customer, "number", "Kh202600001", ids["KH202600001"]) is None
    assert unique_values.other_holder(db.session, Customer, "number", "Kh202600001", ids["KH202600003"]) == (
        ids["KH202600001"], "KH202600001")
