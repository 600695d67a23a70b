"""The grids the portal offers: the model each one shows, the form view whose permissions
make it writable (``can_edit``) and extendable (``can_add``), what it is called, where its
records' cards are, and which columns stay on screen while scrolling sideways."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.models import Contact, Customer, Transaction, Visit


@dataclass(frozen=True)
class GridResource:
    name: str          # the URL segment: /api/v1/grid/<name>/…
    model: type
    view: str          # the ModelView standing for the same records
    plural: object     # lazy, translated
    frozen: tuple[str, ...] = ()

    @property
    def card_url(self) -> str:
        """The card's address with a literal ``{id}`` for the client to fill in."""
        return f"/{self.view.lower()}/show/{{id}}"

    @property
    def edit_url(self) -> str:
        return f"/{self.view.lower()}/edit/{{id}}"


RESOURCES = {r.name: r for r in (
    GridResource("customer", Customer, "CustomerView", _l("Customers"), frozen=("number", "name")),
    GridResource("contact", Contact, "ContactView", _l("Contacts"), frozen=("name",)),
    GridResource("transaction", Transaction, "TransactionView", _l("Transactions"), frozen=("number",)),
    GridResource("visit", Visit, "VisitView", _l("Visits and calls"), frozen=("customer",)),
)}


def resource_named(name: str) -> GridResource | None:
    return RESOURCES.get(name)
