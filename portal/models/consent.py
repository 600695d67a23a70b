"""Consent to be contacted (联系许可): per channel — direct mail, SMS, e-mail — whether the
customer or contact opted out, since when, and where that came from.

Customers and contacts carry the same three fields per channel; they are described here once
and declared on each model with :func:`opt_out_columns`, so the card's "联系许可" section,
the grid, import and export pick them up from the registry like any other field. A campaign
list (portal/services/mailing.py) leaves out whoever opted out of its channel.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from portal.fields import Section, describe

CONSENT = Section("consent", "联系许可", "Consent")

# Where an opt-out came from.
OPT_OUT_SOURCE = (
    ("call", "本人来电", "Own call"),
    ("reply", "回执", "Reply card"),
    ("returned", "退信", "Returned mail"),
    ("website", "网站", "Website"),
    ("other", "其他", "Other"),
)

# channel → (zh, en, import header aliases of the flag)
CHANNELS = {
    "mail": ("直邮", "direct mail", ("拒收信函", "不寄直邮", "退订直邮", "Mail opt-out", "No mail")),
    "sms": ("短信", "SMS", ("退订短信", "短信退订", "拒绝短信", "SMS opt-out")),
    "email": ("电子邮件", "e-mail", ("退订邮件", "邮件退订", "拒收邮件", "Email opt-out", "Unsubscribed")),
}


def opt_out_columns(channel: str):
    """The flag, date and source columns of ``channel``'s opt-out, in that order:
    ``mail_opt_out, mail_opt_out_on, mail_opt_out_source = opt_out_columns("mail")``."""
    zh, en, aliases = CHANNELS[channel]
    return (
        mapped_column(
            sa.Boolean, nullable=False, default=False, server_default=sa.false(),
            info=describe(f"拒收{zh}", f"No {en}", "bool", "consent", aliases=aliases,
                          help_zh=f"本人要求不再接收{zh}；请同时填写日期和来源",
                          help_en=f"They asked to receive no more {en}; give the date and the source"),
        ),
        mapped_column(
            sa.Date,
            info=describe(f"拒收{zh}日期", f"No {en} since", "date", "consent", not_future=True,
                          aliases=(f"{zh}退订日期",)),
        ),
        mapped_column(
            sa.String(16),
            info=describe(f"拒收{zh}来源", f"No {en}: source", "choice", "consent", choices=OPT_OUT_SOURCE,
                          aliases=(f"{zh}退订来源",)),
        ),
    )


def opt_out_flag(model, channel: str):
    """The opt-out column of ``model`` (Customer or Contact) for ``channel``."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return getattr(model, f"{channel}_opt_out")
