"""JSON endpoints under /api/v1, behind FAB permissions and the security gate."""
from __future__ import annotations

from .archive import ContactApi, CustomerApi
from .grid import GridApi

APIS = (CustomerApi, ContactApi, GridApi)


def register_apis(appbuilder) -> None:
    for api in APIS:
        appbuilder.add_api(api)
