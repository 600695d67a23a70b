"""The grids' quick search box: one text matched against each record's name- and
number-like fields, pinyin (张伟 by "zhangwei" or "zw") and its customer's name.

Numbers, e-mail addresses and pinyin keys match by prefix, so their indexes serve the
search; names match anywhere in the text, as people type part of a company's name."""
from __future__ import annotations

import sqlalchemy as sa

from portal.models import Contact, Customer, Transaction, Visit
from portal.services.pinyin import looks_like_pinyin


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Terms:
    """``q`` as the LIKE patterns and digits the conditions below use."""

    def __init__(self, q: str):
        self.like = f"%{escape_like(q)}%"
        self.prefix = f"{escape_like(q.lower())}%"
        self.number_prefix = f"{escape_like(q)}%"
        self.pinyin = looks_like_pinyin(q)
        digits = "".join(ch for ch in q if ch.isdigit())
        # A phone number typed with or without dashes and spaces.
        self.digits = digits if len(digits) >= 3 and len(digits) == len(q.replace("-", "").replace(" ", "")) else ""

    def name(self, model) -> list:
        conditions = [model.name.ilike(self.like, escape="\\")]
        if self.pinyin and hasattr(model, "name_pinyin"):
            conditions += [model.name_pinyin.like(self.prefix, escape="\\"),
                           model.name_initials.like(self.prefix, escape="\\")]
        return conditions

    def phones(self, model) -> list:
        if not self.digits:
            return []
        return [model.mobile.like(f"%{self.digits}%"), model.phone.like(f"%{self.digits}%")]


def _customers(t: _Terms):
    """Ids of the customers a search for ``t`` finds by their own number or name."""
    return sa.select(Customer.id).where(sa.or_(Customer.number.ilike(t.number_prefix, escape="\\"), *t.name(Customer)))


def _customer(t: _Terms):
    contacts = sa.select(Contact.customer_id).where(sa.or_(*t.name(Contact)))
    return sa.or_(Customer.number.ilike(t.number_prefix, escape="\\"), *t.name(Customer),
                  Customer.email.ilike(t.prefix, escape="\\"), *t.phones(Customer), Customer.id.in_(contacts))


def _contact(t: _Terms):
    return sa.or_(*t.name(Contact), *t.phones(Contact), Contact.email.ilike(t.prefix, escape="\\"),
                  Contact.customer_id.in_(_customers(t)))


def _transaction(t: _Terms):
    return sa.or_(Transaction.number.ilike(t.number_prefix, escape="\\"), Transaction.customer_id.in_(_customers(t)))


def _visit(t: _Terms):
    contacts = sa.select(Contact.id).where(sa.or_(*t.name(Contact)))
    return sa.or_(Visit.purpose.ilike(t.like, escape="\\"), Visit.customer_id.in_(_customers(t)),
                  Visit.contact_id.in_(contacts))


SEARCHES = {Customer: _customer, Contact: _contact, Transaction: _transaction, Visit: _visit}


def quick_search(model, q: str):
    """The WHERE condition of a quick search for ``q`` among ``model``'s rows."""
    search = SEARCHES.get(model)
    if search is not None:
        return search(_Terms(q))
    return model.name.ilike(f"%{escape_like(q)}%", escape="\\") if hasattr(model, "name") else sa.false()
