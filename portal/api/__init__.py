"""JSON endpoints under /api/v1, behind FAB permissions and the security gate."""
from __future__ import annotations

from .archive import ContactApi, CustomerApi
from .grid import GridApi
from .imports import ImportApi
from .refusals import answer_token_refusals

APIS = (CustomerApi, ContactApi, GridApi, ImportApi)


def register_apis(appbuilder) -> None:
    for api in APIS:
        appbuilder.add_api(api)
    answer_token_refusals(appbuilder.sm.jwt_manager)
