"""Driving the grid page like a clerk: cells by row key and field, the active cell, waits
for loads and saves. Row keys are "r<id>" for stored records, "n<k>" for drafts and
"blank" for the empty last row (see portal/static/grid/grid.js)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db


class GridPage:
    def __init__(self, page, live, resource: str = "customer"):
        self.page, self.live, self.resource = page, live, resource

    # -- navigation ------------------------------------------------------------------------
    def open(self):
        self.page.goto(f"{self.live.url}/grid/{self.resource}/")
        self.wait_loaded()
        return self

    def loads(self) -> int:
        return int(self.page.evaluate("document.getElementById('grid-page').dataset.loads || 0"))

    def wait_loaded(self, after: int | None = None):
        """Until rows are on screen (and, with ``after``, a load later than that one)."""
        if after is None:
            self.page.wait_for_function("() => document.getElementById('grid-page').dataset.loads > 0")
        else:
            self.page.wait_for_function(f"() => document.getElementById('grid-page').dataset.loads > {after}")
        self.page.wait_for_function("() => window.portalGrid && !window.portalGrid.state.loading")

    def reload(self):
        """Reload the page (a new page: its load counter starts again)."""
        self.page.reload()
        self.wait_loaded()

    def reload_and_wait(self, action):
        before = self.loads()
        action()
        self.wait_loaded(after=before)

    def wait_saved(self):
        """Until no save is under way and no cell says "saving"."""
        self.page.wait_for_function(
            "() => window.portalGrid.state.pending === 0 && !document.querySelector('#grid .cell-saving')")

    # -- cells -----------------------------------------------------------------------------
    def cell(self, key: str, field: str):
        return self.page.locator(f'#grid .tabulator-row[data-key="{key}"] .tabulator-cell[tabulator-field="{field}"]')

    def keys(self) -> list[str]:
        return self.page.evaluate("portalGrid.table.getRows('active').map(r => r.getData()._key)")

    def fields(self) -> list[str]:
        return self.page.evaluate(
            "portalGrid.table.getColumns().filter(c => c.getField() !== '_rowhead' && c.isVisible())"
            ".map(c => c.getField())")

    def data(self, key: str) -> dict:
        return self.page.evaluate("k => portalGrid.table.getRow(k).getData()", key)

    def text(self, key: str, field: str) -> str:
        return self.cell(key, field).inner_text().strip()

    def state(self, key: str, field: str) -> str:
        return self.cell(key, field).get_attribute("data-state") or ""

    def active(self) -> tuple[str, str]:
        found = self.page.evaluate(
            "(() => { const s = portalGrid.state, r = portalGrid.table.getRows('active')[s.active.r];"
            " const c = portalGrid.table.getColumns().filter(c => c.getField() !== '_rowhead' && c.isVisible())[s.active.c];"
            " return [r.getData()._key, c.getField()]; })()")
        return tuple(found)

    def click(self, key: str, field: str, **options):
        self.cell(key, field).click(**options)

    def type_into(self, key: str, field: str, text: str, then: str = "Enter"):
        self.click(key, field)
        self.page.keyboard.type(text)
        self.page.keyboard.press(then)

    def in_view(self, key: str, field: str) -> bool:
        """Whether the cell is inside the grid's scrolled viewport (not under frozen columns)."""
        return self.page.evaluate(
            """([k, f]) => {
              const cell = document.querySelector(`#grid .tabulator-row[data-key="${k}"] .tabulator-cell[tabulator-field="${f}"]`);
              const holder = document.querySelector('#grid .tabulator-tableholder');
              if (!cell) return false;
              const a = cell.getBoundingClientRect(), b = holder.getBoundingClientRect();
              return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 && a.left >= b.left - 1 && a.right <= b.right + 1;
            }""", [key, field])

    def status(self) -> str:
        return self.page.locator("#grid-status").inner_text().strip()

    def counter(self) -> str:
        self.page.wait_for_function("() => !document.getElementById('grid-counter').textContent.includes('…')")
        return self.page.locator("#grid-counter").inner_text().strip()

    # -- clipboard -------------------------------------------------------------------------
    def paste(self, text: str):
        """Put ``text`` on the system clipboard and press Ctrl+V in the grid, as after
        copying in Excel."""
        self.page.evaluate("t => navigator.clipboard.writeText(t)", text)
        self.page.keyboard.press("Control+V")

    def clipboard(self) -> str:
        return self.page.evaluate("navigator.clipboard.readText()")


def fresh(model, pk):
    """The record as the database holds it now (the server thread committed it)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, pk)


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
