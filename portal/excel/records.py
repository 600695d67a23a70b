"""Records read out as rows of plain values, for every export: the grid's current view, the
generated lists, the whole archive.

A view decides *which* rows (its SELECT of the model: scope, filters, search, order, limit);
this module decides *what each field becomes* — the same for every export:

* a relation is the related record's label (``label_of``: 张伟, 华东区, ``KH2026000001 某某公司``);
* a choice is its label (A级, 男); a many-to-many is its labels joined with "、";
* a sensitive field the user may not see is masked (``masking.mask``), before any labelling;
* everything else is the column's value as the database gives it (str, int, Decimal, date …).

It reads the columns the export needs, not ORM objects: a row is a tuple from the database,
the related labels are looked up once per chunk of rows (and cached while few), so 100,000
customers × 80 columns read in a second or two instead of the ten or more that loading them as
objects takes (bench/export_speed.py). Rows stream in chunks; nothing holds the whole table.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.fields import FieldSpec, FieldType
from portal.grid.lookups import label_of  # noqa: F401  (a related record as people read it)
from portal.security import masking

CHUNK = 1000
_LABEL_CACHE_LIMIT = 20_000   # related labels kept between chunks (users, code tables fit; customers may not)


def related_model(model, spec: FieldSpec) -> type:
    attribute = spec.relation if spec.type == FieldType.RELATION else spec.name
    return getattr(model, attribute).property.mapper.class_


def export_type(spec: FieldSpec, sees_sensitive: bool) -> FieldType:
    """The type a column is written as: text once masked (``138****5678`` is not a number)."""
    return FieldType.TEXT if spec.sensitive and not sees_sensitive else spec.type


def plain_rows(session: Session, statement, model, specs: Sequence[FieldSpec], *, sees_sensitive: bool,
               chunk: int = CHUNK) -> Iterator[list]:
    """The rows ``statement`` selects, one list of plain values per row, one value per spec.

    ``statement`` is a SELECT of ``model`` (``sa.select(Customer).where(…).order_by(…)``) or an
    ORM Query of it, as the view built it; its columns are replaced by the ones the specs need,
    its FROM, WHERE, ORDER BY and LIMIT are kept, so the rows and their order are the view's.
    """
    specs = list(specs)
    columns = [getattr(model, spec.name) for spec in specs if spec.type != FieldType.RELATION_MANY]
    columns.append(model.id)   # the last value of each row read: for many-to-many labels
    if hasattr(statement, "with_entities"):   # an ORM Query (FAB's lists)
        statement = statement.with_entities(*columns).statement
    else:
        statement = statement.with_only_columns(*columns, maintain_column_froms=True)
    plan = _Plan(session, model, specs, sees_sensitive)
    # Plain rows through the session's connection (its transaction, no ORM row loading: a
    # third of the read's time at 100,000 rows); a server-side cursor where there is one.
    result = session.connection().execute(statement.execution_options(stream_results=True, max_row_buffer=chunk))
    try:
        for partition in result.partitions(chunk):
            yield from plan.rows(partition)
    finally:
        result.close()


class _Plan:
    """How the values read for one export become the values written."""

    def __init__(self, session: Session, model, specs: list[FieldSpec], sees_sensitive: bool):
        self.session = session
        self.model = model
        self.width = len(specs)
        self.read_index: list[int | None] = []   # where each spec's value sits in the row read
        self.masks: list[tuple[int, FieldSpec]] = []
        self.choices: list[tuple[int, dict]] = []
        self.relations: list[tuple[int, type]] = []
        self.many: list[tuple[int, FieldSpec]] = []
        position = 0
        for index, spec in enumerate(specs):
            masked = spec.sensitive and not sees_sensitive
            if spec.type == FieldType.RELATION_MANY:
                self.read_index.append(None)
                if masked:
                    self.masks.append((index, spec))   # the user sees that there are some, not which
                self.many.append((index, spec))
                continue
            self.read_index.append(position)
            position += 1
            if masked:
                self.masks.append((index, spec))
            elif spec.type == FieldType.CHOICE:
                self.choices.append((index, {c.code: c.label for c in spec.choices}))
            elif spec.type == FieldType.RELATION:
                self.relations.append((index, related_model(model, spec)))
        self.id_index = position
        self.straight = all(i == n for n, i in enumerate(self.read_index))
        self.labels: dict[type, dict] = {}

    def rows(self, partition) -> list[list]:
        if self.straight:
            id_index = self.id_index
            ids = [row[id_index] for row in partition]
            rows = [list(row[:id_index]) for row in partition]
        else:
            ids = [row[-1] for row in partition]
            rows = [[None if i is None else row[i] for i in self.read_index] for row in partition]
        for index, spec in self.masks:
            for row in rows:
                value = row[index]
                row[index] = None if value is None else masking.mask(spec, value)
        for index, labels in self.choices:
            for row in rows:
                code = row[index]
                if code is not None:
                    row[index] = labels.get(code, str(code))
        for index, related in self.relations:
            labels = self._labels(related, {row[index] for row in rows} - {None})
            for row in rows:
                if row[index] is not None:
                    row[index] = labels.get(row[index])
        masked = {index for index, _ in self.masks}
        for index, spec in self.many:
            joined = self._many_labels(spec, ids)
            for row, pk in zip(rows, ids):
                text = joined.get(pk)
                row[index] = (masking.mask(spec, text) if index in masked else text) if text else None
        return rows

    def _labels(self, related: type, wanted: set) -> dict:
        cache = self.labels.setdefault(related, {})
        missing = wanted - cache.keys()
        if missing:
            if len(cache) + len(missing) > _LABEL_CACHE_LIMIT:
                cache.clear()
                missing = wanted
            for row in self.session.scalars(sa.select(related).where(related.id.in_(missing))):
                cache[row.id] = label_of(row)
        return cache

    def _many_labels(self, spec: FieldSpec, ids: list) -> dict:
        """id → the labels of its related records joined with "、", in the relation's order."""
        attribute = getattr(self.model, spec.name)
        related = attribute.property.mapper.class_
        order = attribute.property.order_by or (related.id,)
        query = (sa.select(self.model.id, related).join(attribute).where(self.model.id.in_(ids))
                 .order_by(self.model.id, *order))
        found: dict = {}
        for pk, row in self.session.execute(query):
            found.setdefault(pk, []).append(label_of(row))
        return {pk: "、".join(labels) for pk, labels in found.items()}
