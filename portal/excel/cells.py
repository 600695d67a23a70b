"""What a cell of an uploaded sheet becomes in a field: the registry's clean() for plain
fields (identifiers read as text first), the id of the row a relation names, and for choice
and code-table columns what the clerk chose to do with values not in the list (reject them,
leave the field empty, or add them to the code table). A many-to-many cell (标签 ``VIP、待核实``)
names several rows: each name is found as a relation's text is, and the same choice applies to
the names not in the list.

Relations are resolved in bulk: small code tables and users are read once; customers and
other big tables are looked up for the distinct texts of the file, in chunks, within the
user's row scope — never one query per cell.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.fields.spec import IDENTIFIER_TYPES, NUMBER_TYPES
from portal.fields.validation import in_unit
from portal.models import Contact, Customer, Transaction
from portal.models.base import CodeTable
from portal.grid.lookups import label_of, related_model
from portal.i18n import pick
from portal.security import scope

from .bulk import among
from .headers import header_unit
from .mapping import Target, normalise
from .reader import ERROR_STARTS, EXCEL_ERRORS, ROUNDED, IdentifierRounded, cell_text, formula_error, identifier_text

REJECT, EMPTY, ADD = "reject", "empty", "add"
POLICIES = (REJECT, EMPTY, ADD)
NEW_CODE = "new:"          # the staged value of a code-table row the commit will add
BIG_TABLES = (Customer, Contact, Transaction)
CHUNK = 500
_MEMO_LIMIT = 20_000
# A column whose cells hardly repeat (names, numbers, phones, e-mails) is not memoised: after
# this many distinct cells, fewer repeats than distinct cells and the memo is dropped.
_MEMO_TRIAL = 2_000
_MISSING = object()
# Columns whose number cells are read as their text (a customer, order or credit code number).
_TEXT_TYPES = (FieldType.TEXT, FieldType.LONGTEXT, FieldType.CHOICE)
_EXACT = 10 ** 15   # Excel keeps 15 significant digits: a number cell past them has been rounded
# What a spreadsheet leaves off a province's or a region's name.
_SHORT = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")       # distinct values remembered per column (dates, provinces, grades …)
# What separates the names in a many-to-many cell: commas, the enumeration comma (、, as the
# export joins them), semicolons, bars and slashes, half- or full-width, and line breaks — not
# spaces, which a name may hold (``VIP 客户``).
SEPARATORS = re.compile(r"[,，、;；|｜/／\r\n]+")
_SEPARATED = re.compile(f"({SEPARATORS.pattern})")   # split keeping the separators


def split_names(text: str) -> list[str]:
    """The names a many-to-many cell lists: trimmed, empty ones dropped, each once (the
    first spelling, in the cell's order; names differing only in case are one)."""
    names: dict[str, str] = {}
    for part in SEPARATORS.split(text or ""):
        part = part.strip()
        if part:
            names.setdefault(part.casefold(), part)
    return list(names.values())


def can_add(model, spec: FieldSpec) -> bool:
    """Values not in the list may be added for code tables a name alone describes."""
    if spec.type not in (FieldType.RELATION, FieldType.RELATION_MANY):
        return False
    related = related_model(model, spec)
    if not issubclass(related, CodeTable):
        return False
    required = [c for c in related.__table__.c
                if not c.nullable and not c.primary_key and c.default is None and c.server_default is None
                and c.name not in ("code", "name")]
    return not required


def policies(model, spec: FieldSpec) -> tuple[str, ...] | None:
    if spec.type == FieldType.CHOICE:
        return (REJECT, EMPTY)
    if spec.type in (FieldType.RELATION, FieldType.RELATION_MANY):
        return POLICIES if can_add(model, spec) else (REJECT, EMPTY)
    return None


_NO_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_FULL_BRACKETS = str.maketrans("()", "（）")


def _loose(text: str) -> str:
    """A name as compared when it is not found as written: width, case and spaces aside
    (杭州某某(集团) is 杭州某某（集团）, typed with the other keyboard; kh-1 is KH-1)."""
    return _NO_SPACE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _spellings(text: str) -> set[str]:
    """How the archive may write a name a cell writes as ``text``: as the cell does, and
    without spaces with half- or full-width brackets, in upper or lower case."""
    plain = _NO_SPACE.sub("", unicodedata.normalize("NFKC", text))
    found = {text}
    for form in (plain, plain.translate(_FULL_BRACKETS)):
        found.update((form, form.upper(), form.lower()))
    return found


def _names(row) -> set[str]:
    """Every text that names ``row``, case-folded: its label, name, English name, code, number,
    username, a user's full name in either order (the grid's ids_labelled asks the database
    the same one label at a time; a sheet has thousands)."""
    names = {label_of(row), str(row)}
    for column in ("name", "name_en", "code", "number", "username"):
        value = getattr(row, column, None)
        if value:
            names.add(str(value))
    if hasattr(row, "first_name"):
        names.add(f"{row.last_name or ''}{row.first_name or ''}")
        names.add(f"{row.first_name or ''} {row.last_name or ''}".strip())
    return {n.strip().casefold() for n in names if n and n.strip()}


class Relation:
    """Text → id of the rows one relation column may point at."""

    def __init__(self, session: Session, model, spec: FieldSpec, user):
        self.session, self.spec, self.user = session, spec, user
        self.related = related_model(model, spec)
        self.ids: dict[str, set[int]] = defaultdict(set)
        self.loose: dict[str, set[int]] = defaultdict(set)   # see _loose
        self.labels: dict[int, str] = {}
        self.big = self.related in BIG_TABLES
        # A row that belongs to a customer (a contact) → its customer: a visit's 张三 is the
        # contact of the visit's customer, not a namesake at another card.
        self.customers: dict[int, int] | None = {} if "customer_id" in self.related.__table__.c else None
        self.sounding: dict[str, set[int]] = defaultdict(set)   # name_pinyin → rows: see alike()
        self.sounded: set[str] = set()
        if not self.big:
            self._add_rows(self.session.scalars(self._candidates()).all())

    def _candidates(self):
        query = scope.scoped(sa.select(self.related), self.related, scope.ALL if self.user is None else self.user)
        if hasattr(self.related, "active"):
            query = query.where(self.related.active.is_(True))
        return query

    def _add_rows(self, rows) -> None:
        for row in rows:
            self.labels[row.id] = label_of(row)
            if self.customers is not None:
                self.customers[row.id] = row.customer_id
            for name in _names(row):
                self.ids[name].add(row.id)
                self.loose[_loose(name)].add(row.id)

    def prime(self, texts: Iterable[str]) -> None:
        """Look up the rows the texts of a big table name (number, or name; a "number name"
        label by its number)."""
        if not self.big:
            return
        texts = {t.strip() for t in texts if t and t.strip()}
        words = sorted({w for t in texts for w in (*_spellings(t), t.split(" ", 1)[0])})
        columns = [getattr(self.related, c) for c in ("number", "name") if hasattr(self.related, c)]
        for start in range(0, len(words), CHUNK):
            part = words[start:start + CHUNK]
            query = self._candidates().where(sa.or_(*(among(self.session, c, part) for c in columns)))
            self._add_rows(self.session.scalars(query).all())
        if hasattr(self.related, "name_pinyin"):
            self._prime_alike(t for t in texts if _CJK.search(t) and not self.named(t))

    def _prime_alike(self, texts: Iterable[str]) -> None:
        """Read the rows whose name sounds as a text that names none (甲工司, the wrong
        character of the same pinyin, for 甲公司): offered in the cell's message, never taken."""
        from portal.services.pinyin import keys

        sounds = sorted({key for t in texts if (key := keys(t)[0])} - self.sounded)
        self.sounded.update(sounds)
        for start in range(0, len(sounds), CHUNK):
            part = sounds[start:start + CHUNK]
            for row in self.session.scalars(self._candidates().where(
                    among(self.session, self.related.name_pinyin, part))):
                self.labels[row.id] = label_of(row)
                if self.customers is not None:
                    self.customers[row.id] = row.customer_id
                self.sounding[row.name_pinyin].add(row.id)

    def alike(self, text: str, customer: int | None = None) -> list[str]:
        """The labels of the rows (of ``customer``) whose name sounds as ``text`` does, a few."""
        if not self.sounding or not _CJK.search(text):
            return []
        from portal.services.pinyin import keys

        ids = self.sounding.get(keys(text.strip())[0] or "", ())
        if customer is not None:
            ids = [pk for pk in ids if self.customers.get(pk) == customer]
        return sorted(self.labels[pk] for pk in ids)[:3]

    def named(self, text: str) -> set[int]:
        """The rows ``text`` names (within the user's reach)."""
        folded = text.strip().casefold()
        return self.ids.get(folded) or self.ids.get(folded.split(" ", 1)[0]) or self.loose.get(_loose(folded)) \
            or set()

    def find(self, text: str) -> int | None:
        """The one row ``text`` names, or None (no row, or several)."""
        found = self.named(text)
        return next(iter(found)) if len(found) == 1 else None

    def which(self):
        """What tells namesakes apart, for the message when a text names several rows."""
        columns = self.related.__table__.c
        if "number" in columns:
            return _l("the number")
        if "username" in columns:
            return _l("the user name")
        if "code" in columns:
            return _l("the code")
        return None

    def label(self, pk) -> str:
        return self.labels.get(pk, "")


class Many(Relation):
    """Text → ids of the rows a many-to-many column names, and those rows' labels in the
    order the card lists them (the relationship's ``order_by``: Tag.sort_order)."""

    def __init__(self, session: Session, model, spec: FieldSpec, user):
        self.order: dict[int, tuple] = {}
        self.normalised: dict[str, set[int]] = defaultdict(set)
        self.joined = False   # some name holds a separator ("B2B/B2C"): cells are read greedily
        attribute = getattr(model, spec.name).property
        self.order_by = tuple(c.key for c in attribute.order_by or ())
        super().__init__(session, model, spec, user)

    def _add_rows(self, rows) -> None:
        super()._add_rows(rows)
        for row in rows:
            self._know(row)
            for name in _names(row):
                self.joined = self.joined or SEPARATORS.search(name) is not None
                if normalise(name):
                    self.normalised[normalise(name)].add(row.id)

    def _know(self, row) -> None:
        self.labels[row.id] = label_of(row)
        self.order[row.id] = (*(getattr(row, name, None) or 0 for name in self.order_by), row.id)

    def remember(self, ids: Iterable[int]) -> None:
        """Read the labels of rows the texts did not bring (a record's current tags, inactive
        ones too), without making them choosable."""
        missing = sorted(set(ids) - self.labels.keys())
        for start in range(0, len(missing), CHUNK):
            part = missing[start:start + CHUNK]
            for row in self.session.scalars(sa.select(self.related).where(self.related.id.in_(part))):
                self._know(row)

    def prime(self, texts: Iterable[str]) -> None:
        if self.big:
            super().prime(name for text in texts for name in split_names(text))

    def find(self, text: str) -> int | None:
        """The one row ``text`` names exactly (case, width, spacing and punctuation aside), or None."""
        folded = text.strip().casefold()
        found = self.ids.get(folded) or self.normalised.get(normalise(folded)) or set()
        return next(iter(found)) if len(found) == 1 else None

    def names_in(self, text: str) -> list[tuple[str, int | None]]:
        """(name, id or None) of each name the cell lists, each row once. When a name of the
        list holds a separator itself, the longest run of parts naming a row is taken."""
        if not self.joined:
            found = [(name, self.find(name)) for name in split_names(text)]
        else:
            found = self._greedy(text)
        seen, unique = set(), []
        for name, pk in found:
            mark = pk if pk is not None else name.casefold()
            if mark not in seen:
                seen.add(mark)
                unique.append((name, pk))
        return unique

    def _greedy(self, text: str) -> list[tuple[str, int | None]]:
        pieces = _SEPARATED.split(text)       # name, separator, name …
        parts = pieces[0::2]
        found, i = [], 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                name = "".join(pieces[2 * i:2 * j - 1]).strip()
                pk = self.find(name) if name else None
                if pk is not None or j == i + 1:
                    if name:
                        found.append((name, pk))
                    i = j
                    break
        return found

    def ordered(self, ids: Iterable[int]) -> list[int]:
        return sorted(ids, key=lambda pk: self.order.get(pk, (pk,)))

    def labels_of(self, value) -> list[str]:
        """The labels of a staged value (ids, and names to add), as the card lists them."""
        value = list(value or ())
        known = [v for v in value if not isinstance(v, str)]
        added = [v[len(NEW_CODE):] for v in value if isinstance(v, str) and v.startswith(NEW_CODE)]
        return [self.label(pk) or str(pk) for pk in self.ordered(known)] + added


class Converter:
    """Turns the cells of one mapped column into the field's value (plain Python), raising
    FieldInvalid with the field's message. ``policy`` applies to values not in the list."""

    def __init__(self, session: Session, target: Target, policy: str = REJECT, user=None, header: str = ""):
        self.target, self.spec, self.policy = target, target.spec, policy or REJECT
        # A number column headed with its unit (注册资本(万元)) counts in it.
        unit = header_unit(header) if self.spec is not None and self.spec.type in NUMBER_TYPES else None
        self.unit = unit[1] if unit is not None and unit[1] != 1 else None
        self.memo: dict[Any, Any] | None = {}
        self.repeats = 0
        self.shown: dict[tuple, str] = {}
        self.today = dt.date.today()   # one date for the whole file (clean() would ask per cell)
        self.relation = self.many = None
        if self.spec is not None and self.spec.type == FieldType.RELATION:
            self.relation = Relation(session, target.model, self.spec, user)
        elif self.spec is not None and self.spec.type == FieldType.RELATION_MANY:
            self.many = Many(session, target.model, self.spec, user)
        # On a sheet of records that belong to a customer (visits), a related record that
        # belongs to one too (the contact met) is looked for among the row's customer's:
        # see within().
        self.within_customer = self.relation is not None and self.relation.customers is not None \
            and "customer_id" in target.model.__table__.c
        self.identifier = self.spec is not None and self.spec.type in IDENTIFIER_TYPES
        # Number cells read as text, a name or a number a relation names too (an identifier's
        # own reading refuses a rounded number the same way).
        self.kept_as_text = self.spec is None or not (self.identifier or self.spec.type in NUMBER_TYPES)
        if self.spec is not None and self.spec.type == FieldType.CHOICE:
            self.choices = {}
            for choice in self.spec.choices:
                for text in choice.names:
                    self.choices.setdefault(text.casefold(), choice.code)
                    self.choices.setdefault(normalise(text), choice.code)
                short = _SHORT.sub("", choice.zh)
                if len(short) >= 2:  # 浙江 for 浙江省, 广西 for 广西壮族自治区
                    self.choices.setdefault(short, choice.code)

    def prime(self, raws: Iterable) -> None:
        if self.relation is not None:
            self.relation.prime(cell_text(r) for r in raws if r not in (None, ""))
        elif self.many is not None:
            self.many.prime(cell_text(r) for r in raws if r not in (None, ""))

    def __call__(self, raw):
        # Cells of one column repeat (provinces, grades, dates, cities): each distinct one is
        # converted once. Errors are not remembered: each row gets its own exception.
        memo = self.memo
        if memo is None:
            return self._convert(raw)
        value = memo.get(raw, _MISSING)
        if value is not _MISSING:
            self.repeats += 1
            return value
        value = self._convert(raw)
        size = len(memo)
        if size < _MEMO_LIMIT:
            memo[raw] = value
            if size == _MEMO_TRIAL and self.repeats < size and self.relation is None and self.many is None:
                # Mostly distinct: the memo would only hold memory. (A relation's keeps what
                # each text named when first seen, as later chunks may name more rows.)
                self.memo = None
        return value

    def _convert(self, raw):
        spec = self.spec
        kind = raw.__class__
        if kind is str:
            if raw[:1] in ERROR_STARTS and raw.strip() in EXCEL_ERRORS:   # #N/A: a formula that failed
                raise FieldInvalid(formula_error(raw.strip()))
        elif kind is float or kind is int:
            # A number cell where text is kept: its plain digits, refused past 15 digits
            # (Excel has rounded 202603021234567890 to 2.02603021234568E+17).
            if self.kept_as_text and abs(raw) >= _EXACT:
                raise FieldInvalid(ROUNDED)
        if spec is None:  # a custom field: the cell's text
            text = cell_text(raw)
            if len(text) > 1000:
                raise FieldInvalid(_l("At most %(n)d characters.", n=1000))
            return text or None
        if self.relation is not None:
            return self._related(raw)
        if self.many is not None:
            return self._related_many(raw)
        if self.identifier and raw not in (None, ""):
            try:
                raw = identifier_text(raw)
            except IdentifierRounded as exc:
                raise FieldInvalid(exc.message)
        elif kind is float or kind is int or kind is bool:
            if spec.type in _TEXT_TYPES:
                raw = cell_text(raw)
            elif self.unit is not None:
                raw = in_unit(raw, self.unit)
        elif self.unit is not None and raw not in (None, ""):
            raw = in_unit(raw, self.unit)
        if spec.type == FieldType.CHOICE and isinstance(raw, str) and raw.strip():
            code = self.choices.get(raw.strip().casefold()) or self.choices.get(normalise(raw))
            if code is not None:
                return code
            if self.policy == EMPTY:
                return None
        return clean(spec, raw, today=self.today)

    def _related(self, raw, customer=None):
        text = cell_text(raw)
        if not text:
            if self.spec.required:
                raise FieldInvalid(_l("This field is required."))
            return None
        named = self.relation.named(text)
        found = named if customer is None else {pk for pk in named if self.relation.customers.get(pk) == customer}
        if len(found) == 1:
            return next(iter(found))
        if len(found) > 1:
            # Namesakes (two customers called 乙公司): which one is not guessed.
            which = self.relation.which()
            if which is None:
                raise FieldInvalid(_l("%(label)s: %(n)d entries are named %(text)s.", label=self.spec.label,
                                      n=len(found), text=text))
            raise FieldInvalid(_l("%(label)s: %(n)d entries are named %(text)s; write %(which)s of the one meant.",
                                  label=self.spec.label, n=len(found), text=text, which=which))
        if self.policy == EMPTY and not self.spec.required:
            return None
        if self.policy == ADD:
            return NEW_CODE + text[:100]
        if named:   # found, but at another customer
            raise FieldInvalid(_l("%(label)s: %(text)s is not one of this customer's.", label=self.spec.label,
                                  text=text))
        alike = self.relation.alike(text, customer)
        if alike:
            names = pick("、", ", ").join(pick(f"“{n}”", f'"{n}"') for n in alike)
            raise FieldInvalid(_l("%(label)s: no entry named %(text)s in the list; did you mean %(names)s?",
                                  label=self.spec.label, text=text, names=names))
        raise FieldInvalid(_l("%(label)s: no entry named %(text)s in the list.", label=self.spec.label, text=text))

    def within(self, raw, customer: int | None):
        """The related record a cell names among those of ``customer`` (the row's), not
        remembered per text: the same name means another record at another customer. Without
        a customer (its cell is empty), as any other relation's."""
        if customer is None:
            return self(raw)
        if raw.__class__ is str and raw[:1] in ERROR_STARTS and raw.strip() in EXCEL_ERRORS:
            raise FieldInvalid(formula_error(raw.strip()))
        return self._related(raw, customer)

    def _related_many(self, raw) -> tuple | None:
        """The ids a many-to-many cell names, sorted, then the names to add (``new:名称``), as a
        tuple: the memo hands the same value to every row with the same cell, and a tuple
        cannot be changed by one of them (the staged JSON holds it as a list). None when the
        cell names nothing (or only names left out): the record keeps what it has."""
        found, added, unknown = set(), [], []
        for name, pk in self.many.names_in(cell_text(raw)):
            if pk is not None:
                found.add(pk)
            elif self.policy == ADD:
                added.append(NEW_CODE + name[:100])
            elif self.policy != EMPTY:
                unknown.append(name)
        if unknown:
            raise FieldInvalid(_l("%(label)s: no entries named %(names)s in the list.", label=self.spec.label,
                                  names=pick("、", ", ").join(unknown)))
        return (*sorted(found), *dict.fromkeys(added)) or None

    def display(self, value) -> str:
        """How a value converted here is shown in the preview (each distinct value once: an
        update's diff shows the old and the new text of every changed cell)."""
        key = (type(value), value)
        try:
            text = self.shown.get(key)
        except TypeError:  # unhashable (a list): not remembered
            return self._display(value)
        if text is None:
            text = self._display(value)
            if len(self.shown) < _MEMO_LIMIT:
                self.shown[key] = text
        return text

    def _display(self, value) -> str:
        if value is None:
            return ""
        if self.many is not None:
            known = "、".join(self.many.labels_of(v for v in value if not isinstance(v, str)))
            added = [str(_l("%(name)s (new)", name=v[len(NEW_CODE):])) for v in value
                     if isinstance(v, str) and v.startswith(NEW_CODE)]
            return "、".join(t for t in (known, *added) if t)
        if self.relation is not None:
            if isinstance(value, str) and value.startswith(NEW_CODE):
                return str(_l("%(name)s (new)", name=value[len(NEW_CODE):]))
            return self.relation.label(value)
        if self.spec is not None and self.spec.type == FieldType.CHOICE:
            return self.spec.choice_label(value)
        if isinstance(value, bool):
            return str(_l("Yes")) if value else str(_l("No"))
        return cell_text(value)
