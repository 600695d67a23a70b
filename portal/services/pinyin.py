"""Pinyin search keys: 张伟 is found by typing ``zhangwei`` or ``zw``.

Each name gets two lowercase keys without separators — the full pinyin and the initials —
stored beside the name and indexed, so a quick search is an indexed prefix match rather
than a conversion at query time. Latin words keep their letters (full key) and give their
first letter (initials); digits are kept; punctuation is dropped.

pypinyin is imported on first use: its dictionaries take about 55 MB and 0.4 s to load, which
a process that has not yet named a customer (a web worker serving lists, an import's upload
and dry run) need not spend.
"""
from __future__ import annotations

import functools
import re

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+")


def keys(name: str | None) -> tuple[str | None, str | None]:
    """(full pinyin, initials) of ``name``; (None, None) for an empty name."""
    if not name or not name.strip():
        return None, None
    full, initials = [], []
    # Whole runs of Chinese go to pypinyin together: its phrase dictionary reads 厦门 as
    # xiamen, where 厦 alone would be sha.
    for chunk in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", name.lower()):
        if not chunk:
            continue
        if _CJK.match(chunk):
            for syllable in _syllables(chunk):
                full.append(syllable)
                initials.append(syllable[:1])
        else:
            for word in _WORD.findall(chunk):
                full.append(word)
                initials.append(word[:1])
    return "".join(full)[:400] or None, "".join(initials)[:100] or None


def _syllables(run: str) -> list[str]:
    """The pinyin of a run of Chinese, word by word as pypinyin's own segmenter cuts it, each
    word's reading cached: names repeat words (有限公司, 贸易, 科技), so an import of 100,000
    names costs a few microseconds each instead of 35."""
    return [syllable for word in _pypinyin()[1].cut(run) for syllable in _word_syllables(word)]


@functools.lru_cache(maxsize=100_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(_pypinyin()[0](word))


@functools.cache
def _pypinyin():
    """(lazy_pinyin, pypinyin's word segmenter), imported once, when first needed."""
    from pypinyin import lazy_pinyin
    from pypinyin.seg.mmseg import seg

    return lazy_pinyin, seg


def looks_like_pinyin(text: str) -> bool:
    """Only ASCII letters (and digits): worth matching against the pinyin keys."""
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", text or ""))


def fill_keys(session) -> None:
    """Flush hook: new or renamed customers and contacts get fresh keys."""
    from portal.models import Contact, Customer

    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, (Customer, Contact)):
            full, initials = keys(obj.name)
            if (obj.name_pinyin, obj.name_initials) != (full, initials):
                obj.name_pinyin, obj.name_initials = full, initials
