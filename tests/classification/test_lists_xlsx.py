"""The .xlsx of a paged analysis holds every row, not the page (needs portal/views/analyses.py
to write registry.export_rows(result))."""
import io

import openpyxl

from portal.views import classification as pages
from tests.conftest import login

from .test_lists_paging import MANY, _archive


def test_the_cross_sell_xlsx_holds_every_row_whatever_the_page(client):
    _archive()
    login(client, "custodian")
    response = client.get("/analysis/abc_lists/xlsx?list=cross_sell&year=2025&page=2")
    assert response.status_code == 200, response.text[:300]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) - 1 == MANY > pages.LIST_PAGE_SIZE
    assert rows[1][1] == "客户119" and rows[-1][1] == "客户000"      # largest value first, all of them
