"""What a field is: its labels, type, section, rules and import aliases, said once."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Any

from portal.i18n import pick

_creation_order = itertools.count()


class FieldType(str, Enum):
    """The kinds of value a field holds. Each implies its editor, parser and checks."""

    TEXT = "text"
    LONGTEXT = "longtext"
    INT = "int"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    CHOICE = "choice"            # one code out of ``choices``
    RELATION = "relation"        # many-to-one: a row of another table (code table, user, customer)
    RELATION_MANY = "relation_many"  # many-to-many (tags)
    MOBILE = "mobile"            # Chinese mobile, 11 digits starting with 1
    PHONE = "phone"              # landline or mobile, area code allowed
    EMAIL = "email"
    URL = "url"
    POSTCODE = "postcode"        # 6 digits
    ID_NUMBER = "id_number"      # 18-character resident ID (check digit verified)
    CARD_NUMBER = "card_number"  # bank card or account, 12-19 digits


# Types whose value is text that looks like a number: kept as text on import, never as float.
IDENTIFIER_TYPES = frozenset({
    FieldType.MOBILE, FieldType.PHONE, FieldType.POSTCODE, FieldType.ID_NUMBER, FieldType.CARD_NUMBER,
})
NUMBER_TYPES = frozenset({FieldType.INT, FieldType.DECIMAL, FieldType.MONEY})
# Types whose values are not JSON as they are: plain() writes them as text (dates as ISO text,
# decimals exactly); every other type's value is its own JSON form.
TEXT_IN_JSON = frozenset({FieldType.DATE, FieldType.DATETIME, FieldType.DECIMAL, FieldType.MONEY})


@dataclass(frozen=True)
class _Named:
    """Something with a stable key and a Chinese and an English label."""

    key: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        return pick(self.zh, self.en)


@dataclass(frozen=True)
class Choice(_Named):
    """One value of a choice field: ``key`` is what is stored. ``aliases`` are the other words
    clerks write for it (上门拜访 for 走访, 转账 for 银行转账), which a typed or imported value
    may use too; the label is what is shown."""

    aliases: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return self.key

    @property
    def names(self) -> tuple[str, ...]:
        """Every text that means this choice."""
        return (self.key, self.zh, self.en, *self.aliases)


class Section(_Named):
    """A fieldset of the card, in the order DOMAIN.md gives."""


@dataclass(frozen=True)
class FieldSpec:
    """The one description of a field.

    ``name`` is the attribute name on the model; it is filled in when the model is
    registered. For a foreign-key column, ``relation`` names the relationship the
    forms and lists show instead of the raw id.
    """

    zh: str
    en: str
    type: FieldType
    section: str
    name: str = ""
    required: bool = False
    sensitive: bool = False       # masked for roles without the right (security gate)
    searchable: bool = False      # quick search and list search
    listed: bool = False          # a default column of the list / grid
    readonly: bool = False        # set by the system, never typed in a form
    choices: tuple[Choice, ...] = ()
    relation: str | None = None
    not_future: bool = False      # dates: a birth date or report date cannot lie ahead
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    # The largest number the column holds (from its type, see registry.fields_of): a bigger one
    # gets the field's message instead of PostgreSQL's overflow error at the commit.
    column_limit: Decimal | None = None
    aliases: tuple[str, ...] = ()  # import headers recognised besides the labels
    help_zh: str = ""
    help_en: str = ""
    order: int = field(default_factory=lambda: next(_creation_order), compare=False)

    def __post_init__(self):
        # Choices may be written as (code, zh, en) tuples.
        object.__setattr__(self, "choices", tuple(c if isinstance(c, Choice) else Choice(*c) for c in self.choices))
        object.__setattr__(self, "aliases", tuple(self.aliases))
        object.__setattr__(self, "type", FieldType(self.type))

    @property
    def label(self) -> str:
        return pick(self.zh, self.en)

    @property
    def help(self) -> str:
        return pick(self.help_zh, self.help_en)

    @property
    def form_name(self) -> str:
        """The attribute forms and lists use: the relationship for a foreign key."""
        return self.relation or self.name

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header text an import may use for this field."""
        return (self.zh, self.en, self.name, *self.aliases)

    def choice_label(self, code: Any) -> str:
        for choice in self.choices:
            if choice.code == code:
                return choice.label
        return "" if code is None else str(code)

    def named(self, name: str) -> "FieldSpec":
        return replace(self, name=name)


def describe(zh: str, en: str, type: FieldType | str, section: str, **options: Any) -> dict:
    """``info=`` for a column or relationship: ``mapped_column(String(100), info=describe(...))``.

    ``choices`` may be given as ``(code, zh, en)`` tuples.
    """
    return {"spec": FieldSpec(zh=zh, en=en, type=type, section=section, **options)}
