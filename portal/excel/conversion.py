"""The dry run's first half: the sheet's rows read and each cell put through its column's
converter (the registry's clean(), relations looked up), chunk by chunk — in this process, or
for a big sheet in a second one (portal/excel/forked.py) while this one judges the converted
rows against the archive and stages them. Both halves are bound by Python (the GIL): reading
and converting are about 6 of a 100,000-row dry run's 9 seconds on one core.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from portal.fields import FieldInvalid
from portal.services.unique_values import folded  # a match key's part compares as a unique value does


class Conversion:
    """A plan's converters applied to chunks of ``(row number, cells)``: each row becomes
    ``{"row", "cells", "values", "errors", "key", "lookup"}`` (values as plain Python, a message
    per invalid cell in the user's language, the match key folded for comparison)."""

    def __init__(self, plan):
        self.plan = plan
        self.converting = [(c.index, c.target.key, c.convert) for c in plan.columns if not c.convert.within_customer]
        # Columns read once the row's customer is known (a visit's contact: cells.Converter.within).
        self.within = [(c.index, c.target.key, c.convert) for c in plan.columns if c.convert.within_customer]
        self.key_fields = plan.key.fields if plan.key is not None else None

    def prime(self, chunk: Iterable[tuple[int, list]]) -> None:
        """Look up, for the relation columns, the rows the chunk's texts name (the database)."""
        chunk = list(chunk)
        for column in self.plan.columns:
            column.convert.prime(cells[column.index] if column.index < len(cells) else None for _, cells in chunk)

    def convert(self, chunk: Iterable[tuple[int, list]]) -> list[dict]:
        """The chunk's rows converted (no database: after :meth:`prime`)."""
        return [self._row(row_no, cells) for row_no, cells in chunk]

    def _row(self, row_no: int, cells: list) -> dict:
        values, errors = {}, {}
        width = len(cells)
        for index, key, convert in self.converting:   # the inner loop of a dry run: 1.6 M cells
            raw = cells[index] if index < width else None
            if raw is None or (raw.__class__ is str and not raw.strip()):
                continue
            try:
                value = convert(raw)
            except FieldInvalid as exc:
                errors[key] = str(exc.message)
                continue
            if value is not None:
                values[key] = value
        for index, key, convert in self.within:
            raw = cells[index] if index < width else None
            if raw is None or (raw.__class__ is str and not raw.strip()) or "customer_id" in errors:
                continue   # a customer not found says so itself
            try:
                value = convert.within(raw, values.get("customer_id"))
            except FieldInvalid as exc:
                errors[key] = str(exc.message)
                continue
            if value is not None:
                values[key] = value
        key = lookup = None
        if self.key_fields is not None:
            lookup = tuple(values.get(f) for f in self.key_fields)
            key = tuple(folded(p) for p in lookup) if all(p is not None for p in lookup) else None
        return {"row": row_no, "cells": cells, "values": values, "errors": errors, "key": key, "lookup": lookup}


def chunks(rows: Iterable[tuple[int, list]], size: int) -> Iterator[list[tuple[int, list]]]:
    chunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
