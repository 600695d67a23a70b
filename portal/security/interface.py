"""Flask-AppBuilder's data interface with the row scope applied to every query.

FAB's views and REST APIs read through ``SQLAInterface``: lists, counts, single records for
show/edit/delete, related tabs and the choices of related-record dropdowns (its related
interfaces are built from ``self.__class__``). Limiting the queries here limits them all.
"""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from . import access_log, scope


class ScopedInterface(SQLAInterface):
    def _scoped(self, query):
        return scope.scoped(query, self.obj)

    def apply_all(self, query, *args, **kwargs):
        return super().apply_all(self._scoped(query), *args, **kwargs)

    def query_count(self, query, *args, **kwargs):
        return super().query_count(self._scoped(query), *args, **kwargs)

    def apply_order_by(self, query, order_column, order_direction, **kwargs):
        # A list sorted by a relation column (业务员, 客户 …): FAB would ORDER BY the relationship
        # itself, which SQL cannot do (a server error on the list and its export). Sort by the
        # foreign key, as the grid does: the rows of one related record come together.
        if order_column and self.is_relation_many_to_one(order_column):
            key = self.get_relation_fk(order_column)
            order_column = self.obj.__mapper__.get_property_by_column(key).key
        return super().apply_order_by(query, order_column, order_direction, **kwargs)

    def get(self, id, filters=None, *args, **kwargs):
        item = super().get(id, filters, *args, **kwargs)
        if item is None and scope.condition_for(self.obj) is not None:
            unscoped = self.session.get(self.obj, self._pk_value(id))
            if unscoped is not None:
                # The record exists but lies outside the user's scope: answer as if it did
                # not (404), and keep a trace of the attempt.
                access_log.record("not_found", self.obj.__name__, id)
        return item

    @staticmethod
    def _pk_value(id):
        try:
            return int(id)
        except (TypeError, ValueError):
            return id
