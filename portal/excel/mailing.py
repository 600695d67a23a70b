"""A campaign list leaves the portal as an .xlsx for mail merge (Word, WPS) or as sheets of
address labels to print (A4, 3 × 8 labels of 70 × 37 mm, as Avery/Zweckform 3474 and the
common Chinese 24-up label sheets).

The columns are the channel's and no more (personal information leaves only as far as the
campaign needs it): a letter needs the address, a message the mobile, an e-mail the address.
Headers of archive fields are the registry's labels; the address block is one cell of
several lines (Word's mail merge keeps the line breaks).

The label sheet is print-ready HTML rather than PDF: the browser lays out Chinese text with
the fonts of the machine it prints on, where a PDF would have to embed a CJK font (the server
has none unless one is installed, and a subset still costs a megabyte per file); CSS
``@page`` and millimetre sizes put the labels where the sheet has them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from flask_babel import lazy_gettext as _l

from portal.fields import FieldType, fields_of
from portal.models import Contact, Customer
from portal.services.mailing import Addressee

from .export import ExportColumn, write_table

LABELS_PER_ROW, LABEL_ROWS = 3, 8
LABELS_PER_PAGE = LABELS_PER_ROW * LABEL_ROWS
MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ListColumn:
    label: object                       # str or lazy string
    type: FieldType
    value: Callable[[Addressee], object]
    width: int | None = None
    # The archive fields the column is made of, as (model, field name): a role's export
    # limits (portal/excel/limits.py) withhold the column unless it may take all of them.
    sources: tuple[tuple[type, str], ...] = ()


_ADDRESS = tuple((Customer, n) for n in ("postcode", "province", "city", "district", "street"))
_COMPANY = ((Customer, "name"),)
_ADDRESSEE = ((Contact, "name"), (Customer, "name"))
_TITLE = ((Contact, "position"), (Contact, "gender"), (Customer, "gender"))
BLOCK = (*_ADDRESS, *_COMPANY, *_ADDRESSEE, *_TITLE)   # what an address block (and a label) shows


def _field(name: str, value: Callable[[Addressee], object], width: int | None = None,
           also: tuple[tuple[type, str], ...] = ()) -> ListColumn:
    spec = fields_of(Customer)[name]
    return ListColumn(spec.label, spec.type, value, width, ((Customer, name), *also))


def _common_tail() -> list[ListColumn]:
    return [
        ListColumn(_l("Company"), FieldType.TEXT, lambda a: a.company, 30, _COMPANY),
        ListColumn(_l("Addressee"), FieldType.TEXT, lambda a: a.name, 12, _ADDRESSEE),
        ListColumn(_l("Title"), FieldType.TEXT, lambda a: a.title, 10, _TITLE),
    ]


def list_columns(channel: str) -> list[ListColumn]:
    """The columns of ``channel``'s list, in order."""
    customer = [_field("number", lambda a: a.customer_number), _field("name", lambda a: a.customer_name)]
    if channel == "sms":
        return [_field("mobile", lambda a: a.mobile, also=((Contact, "mobile"),)), *_common_tail(), *customer]
    if channel == "email":
        return [_field("email", lambda a: a.email, also=((Contact, "email"),)), *_common_tail(), *customer]
    return [
        _field("postcode", lambda a: a.postcode),
        _field("province", lambda a: a.province),
        _field("city", lambda a: a.city),
        _field("district", lambda a: a.district),
        _field("street", lambda a: a.street_only, 36),
        *_common_tail(),
        ListColumn(_l("Address block"), FieldType.LONGTEXT, lambda a: a.address_block, 44, BLOCK),
        *customer,
    ]


def _allowed(rules, sources) -> bool:
    return rules is None or all(rules.allows(model, fields_of(model)[name]) for model, name in sources)


def allowed_columns(channel: str, rules=None) -> tuple[list[ListColumn], list[ListColumn]]:
    """(the columns ``rules`` — a user's ExportRules — let go out, those withheld)."""
    kept, withheld = [], []
    for column in list_columns(channel):
        (kept if _allowed(rules, column.sources) else withheld).append(column)
    return kept, withheld


def labels_allowed(rules=None) -> bool:
    """Whether ``rules`` let the address blocks out, which is what a label prints."""
    return _allowed(rules, BLOCK)


def write_list(stream, addressees: Iterable[Addressee], channel: str, *, sheet_name: str,
               columns: list[ListColumn] | None = None) -> int:
    """Write the list as .xlsx to the binary ``stream`` (``columns``: the channel's, or those
    the user may take); returns the number of rows."""
    columns = list_columns(channel) if columns is None else columns
    return write_table(
        stream, fmt="xlsx", sheet_name=sheet_name,
        columns=[ExportColumn(label=str(c.label), type=c.type, width=c.width) for c in columns],
        rows=([c.value(a) or None for c in columns] for a in addressees),   # "" → an empty cell
    )


def label_pages(addressees: list[Addressee], skip: int = 0) -> list[list[Addressee | None]]:
    """The addressees in pages of 24 labels; ``skip`` labels of the first sheet are left
    blank (None), for a sheet already partly used."""
    skip = max(0, min(int(skip), LABELS_PER_PAGE - 1))
    slots: list[Addressee | None] = [None] * skip + list(addressees)
    return [slots[i:i + LABELS_PER_PAGE] for i in range(0, len(slots), LABELS_PER_PAGE)]
