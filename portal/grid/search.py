"""The grids' quick search box: one text matched against each record's name- and
number-like fields, pinyin (张伟 by "zhangwei" or "zw") and its customer's name.

What the text looks like decides what it is matched against, so that every condition but
the name's has an index to answer from (bench/RESULTS.md, 1,000,000 customers):

* digits (a phone or mobile typed with or without dashes and spaces): a whole mobile is
  looked up (customers' and contacts'); part of one, or of a phone, is matched anywhere;
* letters and digits (``zw``, ``zhangwei``, ``KH2026``, ``info@``): pinyin keys, e-mail
  and number by prefix;
* anything else (Chinese): the name anywhere in it, as people type part of a company name.

Prefixes are ``LIKE 'x%'`` on PostgreSQL (``varchar_pattern_ops`` indexes, migration 0005)
and a range on SQLite, whose LIKE ignores case and so uses no ordinary index. Conditions
that an index answers are joined with UNION: an OR mixing them with anything else makes
both databases read the whole table."""
from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Contact, Customer, Transaction, Visit
from portal.services.pinyin import looks_like_pinyin

_MOBILE = re.compile(r"1[3-9]\d{9}")


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starts_with(column, prefix: str):
    """``column`` begins with ``prefix`` (case-sensitive), in the form the database can
    answer from an index on the column."""
    if db.engine.dialect.name == "sqlite":
        return sa.and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))
    return column.like(f"{escape_like(prefix)}%", escape="\\")


def contains(column, text: str):
    """``column`` contains ``text``; case-insensitive only where the text has case (ILIKE
    is lower() on SQLite, which costs on every row read)."""
    pattern = f"%{escape_like(text)}%"
    if text.lower() == text.upper():
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


class _Terms:
    """``q`` and what it looks like."""

    def __init__(self, q: str):
        self.q = q
        self.pinyin = looks_like_pinyin(q)
        compact = q.replace("-", "").replace(" ", "")
        self.digits = compact if len(compact) >= 3 and compact.isdigit() else ""
        self.mobile = self.digits if _MOBILE.fullmatch(self.digits) else ""
        self.email = "@" in q and " " not in q

    def name(self, model) -> list:
        """Conditions on a name and its pinyin keys (used by the contact, transaction and visit grids)."""
        if self.pinyin and hasattr(model, "name_pinyin"):
            key = self.q.lower()
            return [starts_with(model.name_pinyin, key), starts_with(model.name_initials, key)]
        if self.digits:
            return [sa.false()]  # names hold no phone numbers
        return [contains(model.name, self.q)]

    def phones(self, model) -> list:
        if self.mobile:
            return [model.mobile == self.mobile]
        if not self.digits:
            return []
        return [model.mobile.like(f"%{self.digits}%"), model.phone.like(f"%{self.digits}%")]


def _ids(*selects):
    return sa.union(*selects) if len(selects) > 1 else selects[0]


def _customers(t: _Terms):
    """Ids of the customers a search for ``t`` finds by their own number or name."""
    return sa.select(Customer.id).where(sa.or_(starts_with(Customer.number, t.q.upper()), *t.name(Customer)))


def _customer(t: _Terms):
    if t.mobile:
        return Customer.id.in_(_ids(sa.select(Customer.id).where(Customer.mobile == t.mobile),
                                    sa.select(Contact.customer_id).where(Contact.mobile == t.mobile)))
    if t.digits:
        # Part of a phone or mobile, matched anywhere in it: no B-tree serves that.
        if len(t.digits) <= 4:
            # Common digits: reading the rows in order fills the page after a few thousand.
            return sa.or_(Customer.mobile.like(f"%{t.digits}%"), Customer.phone.like(f"%{t.digits}%"),
                          Customer.id.in_(sa.select(Customer.id).where(starts_with(Customer.number, t.digits))))
        # Rare digits: each column's index is read whole (narrower than the table).
        return Customer.id.in_(_ids(sa.select(Customer.id).where(Customer.mobile.like(f"%{t.digits}%")),
                                    sa.select(Customer.id).where(Customer.phone.like(f"%{t.digits}%")),
                                    sa.select(Customer.id).where(starts_with(Customer.number, t.digits))))
    if t.pinyin or t.email:
        key = t.q.lower()
        selects = [sa.select(Customer.id).where(starts_with(Customer.number, t.q.upper())),
                   sa.select(Customer.id).where(starts_with(Customer.email, key))]
        if t.pinyin:
            selects += [sa.select(Customer.id).where(starts_with(Customer.name_pinyin, key)),
                        sa.select(Customer.id).where(starts_with(Customer.name_initials, key)),
                        sa.select(Contact.customer_id).where(starts_with(Contact.name_pinyin, key)),
                        sa.select(Contact.customer_id).where(starts_with(Contact.name_initials, key))]
        return Customer.id.in_(_ids(*selects))
    # Chinese (or anything else): the name anywhere, the customer's and its contacts'.
    return sa.or_(contains(Customer.name, t.q),
                  Customer.id.in_(sa.select(Contact.customer_id).where(contains(Contact.name, t.q))))


def _contact(t: _Terms):
    return sa.or_(*t.name(Contact), *t.phones(Contact), Contact.email.ilike(f"{escape_like(t.q.lower())}%", escape="\\"),
                  Contact.customer_id.in_(_customers(t)))


def _transaction(t: _Terms):
    return sa.or_(Transaction.number.ilike(f"{escape_like(t.q)}%", escape="\\"), Transaction.customer_id.in_(_customers(t)))


def _visit(t: _Terms):
    contacts = sa.select(Contact.id).where(sa.or_(*t.name(Contact)))
    return sa.or_(Visit.purpose.ilike(f"%{escape_like(t.q)}%", escape="\\"), Visit.customer_id.in_(_customers(t)),
                  Visit.contact_id.in_(contacts))


SEARCHES = {Customer: _customer, Contact: _contact, Transaction: _transaction, Visit: _visit}


def quick_search(model, q: str):
    """The WHERE condition of a quick search for ``q`` among ``model``'s rows."""
    search = SEARCHES.get(model)
    if search is not None:
        return search(_Terms(q))
    return model.name.ilike(f"%{escape_like(q)}%", escape="\\") if hasattr(model, "name") else sa.false()
