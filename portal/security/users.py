"""How a user's name is shown.

Flask-AppBuilder prints ``first_name last_name`` everywhere (lists, dropdowns, the navbar),
which turns 张伟 (last name 张, first name 伟) into "伟 张". FAB has no hook for the name
order, so its User gets a name method that follows the script: Chinese names family name
first with no space, Latin names as FAB does.
"""
from __future__ import annotations

import re

from flask_appbuilder.security.sqla.models import User

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def full_name(first_name: str | None, last_name: str | None) -> str:
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def install() -> None:
    User.get_full_name = lambda self: full_name(self.first_name, self.last_name)
