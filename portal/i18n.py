"""Which language the current request speaks, for labels that live outside gettext
(the field registry keeps zh and en labels side by side)."""
from __future__ import annotations

from flask import current_app, has_app_context, has_request_context


def current_language() -> str:
    """'zh' or 'en' for the current request, or the one a background job carries over from
    the request that started it (flask_babel.force_locale); the configured default otherwise."""
    locale = None
    if has_app_context():
        from flask_babel import get_locale

        try:
            locale = get_locale()
        except Exception:  # babel not initialised on this app (plain scripts)
            locale = None
    if locale is None:
        default = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN") if has_app_context() else "zh_CN"
        return "en" if str(default).startswith("en") else "zh"
    return "en" if locale.language == "en" else "zh"


def pick(zh: str, en: str) -> str:
    """The zh or en text, whichever the current request speaks."""
    return en if current_language() == "en" else zh


SENTENCE_ENDS = ("。", "！", "？", ".", "!", "?")


def joined(items, *, sentences: bool = False) -> str:
    """Items joined as the current language writes a list: 、 or ", "; sentences with ； or "; "
    (nothing or a space after one that ends with its own full stop)."""
    if not sentences:
        return pick("、", ", ").join(items)
    items, text = list(items), ""
    for i, item in enumerate(items):
        text += item
        if i < len(items) - 1:   # a sentence that ends itself takes no ；: "…无效。手机：…", not "。；"
            text += pick("", " ") if item.rstrip().endswith(SENTENCE_ENDS) else pick("；", "; ")
    return text
