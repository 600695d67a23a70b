"""Views of the code tables and the product catalogue."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.models import (
    ChannelType, Industry, OwnershipType, PriceList, Product, ProductCategory, Region, Route, SalesTeam, Source, Tag,
)

from .base import ArchiveModelView


class ProductView(ArchiveModelView):
    noun, plural = _l("Product"), _l("Products")
    model = Product


class RegionView(ArchiveModelView):
    noun, plural = _l("Region"), _l("Regions")
    model = Region
    base_order = ("sort_order", "asc")


class RouteView(ArchiveModelView):
    noun, plural = _l("Route"), _l("Routes")
    model = Route
    base_order = ("sort_order", "asc")


class IndustryView(ArchiveModelView):
    noun, plural = _l("Industry"), _l("Industries")
    model = Industry
    base_order = ("sort_order", "asc")


class SourceView(ArchiveModelView):
    noun, plural = _l("Customer source"), _l("Customer sources")
    model = Source
    base_order = ("sort_order", "asc")


class OwnershipTypeView(ArchiveModelView):
    noun, plural = _l("Ownership type"), _l("Ownership types")
    model = OwnershipType
    base_order = ("sort_order", "asc")


class ChannelTypeView(ArchiveModelView):
    noun, plural = _l("Channel type"), _l("Channel types")
    model = ChannelType
    base_order = ("sort_order", "asc")


class TagView(ArchiveModelView):
    noun, plural = _l("Tag"), _l("Tags")
    model = Tag
    base_order = ("sort_order", "asc")


class ProductCategoryView(ArchiveModelView):
    noun, plural = _l("Product category"), _l("Product categories")
    model = ProductCategory
    base_order = ("sort_order", "asc")


class PriceListView(ArchiveModelView):
    noun, plural = _l("Price list"), _l("Price lists")
    model = PriceList
    base_order = ("sort_order", "asc")


class SalesTeamView(ArchiveModelView):
    noun, plural = _l("Sales team"), _l("Sales teams")
    model = SalesTeam


CODE_TABLE_VIEWS = (
    RegionView, RouteView, IndustryView, SourceView, OwnershipTypeView, ChannelTypeView, TagView,
    ProductCategoryView, PriceListView,
)
