"""Views of the code tables and the product catalogue."""
from __future__ import annotations

from portal.models import (
    ChannelType, Industry, OwnershipType, PriceList, Product, ProductCategory, Region, Route, SalesTeam, Source, Tag,
)

from .base import ArchiveModelView


class ProductView(ArchiveModelView):
    model = Product


class RegionView(ArchiveModelView):
    model = Region
    base_order = ("sort_order", "asc")


class RouteView(ArchiveModelView):
    model = Route
    base_order = ("sort_order", "asc")


class IndustryView(ArchiveModelView):
    model = Industry
    base_order = ("sort_order", "asc")


class SourceView(ArchiveModelView):
    model = Source
    base_order = ("sort_order", "asc")


class OwnershipTypeView(ArchiveModelView):
    model = OwnershipType
    base_order = ("sort_order", "asc")


class ChannelTypeView(ArchiveModelView):
    model = ChannelType
    base_order = ("sort_order", "asc")


class TagView(ArchiveModelView):
    model = Tag
    base_order = ("sort_order", "asc")


class ProductCategoryView(ArchiveModelView):
    model = ProductCategory
    base_order = ("sort_order", "asc")


class PriceListView(ArchiveModelView):
    model = PriceList
    base_order = ("sort_order", "asc")


class SalesTeamView(ArchiveModelView):
    model = SalesTeam


CODE_TABLE_VIEWS = (
    RegionView, RouteView, IndustryView, SourceView, OwnershipTypeView, ChannelTypeView, TagView,
    ProductCategoryView, PriceListView,
)
