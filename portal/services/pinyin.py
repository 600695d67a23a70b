"""Pinyin search keys: 张伟 is found by typing ``zhangwei`` or ``zw``.

Each name gets two lowercase keys without separators — the full pinyin and the initials —
stored beside the name and indexed, so a quick search is an indexed prefix match rather
than a conversion at query time. Latin words keep their letters (full key) and give their
first letter (initials); digits are kept; punctuation is dropped.

The keys are exactly what pypinyin gives: each run of Chinese is cut into words by
pypinyin's own segmenter (``pypinyin.seg.mmseg.seg``, forward maximum matching over its
phrase dictionary, strict mode) and each word read by ``lazy_pinyin`` — so 厦门 is xiamen
where 厦 alone would be sha. Stored keys must match what a new computation gives (search
relies on it), so only the speed may change, never a result. An import of 100,000 customers
names each of them, so the same result is reached with far fewer Python operations:

* every character's reading (``lazy_pinyin`` of it alone) is put into two
  ``str.translate`` tables once, at first use (~1,400 distinct readings, one ``lazy_pinyin``
  call each: ~30 ms);
* the segmenter's decisions only differ from "one character at a time" where two
  characters begin a phrase (pypinyin's own prefix set), which is found for the whole run at
  once (C-level ``map``); the segmenter's algorithm — the same steps, including what it does
  when a run ends inside a prefix — is followed only from those positions, and the
  characters between phrases are read by ``translate``;
* a phrase's reading is ``lazy_pinyin`` of it, kept in a dict (phrases repeat: 有限公司);
  short runs (person names) are kept whole, since they repeat a lot.

The fast segmentation is used only while pypinyin's segmenter is the one it was written
against (its source is fingerprinted at first use); any other version falls back to calling
pypinyin's segmenter, so a pypinyin upgrade can cost speed but never change a key.
``tests/services/test_pinyin_fast.py`` compares the two over names, every phrase of the
dictionary and random text.

pypinyin is imported on first use: its dictionaries take about 55 MB and 0.4 s to load, which
a process that has not yet named a customer (a web worker serving lists, an import's upload
and dry run) need not spend. The tables built from them then add a few MB and ~50 ms.
"""
from __future__ import annotations

import re

_RUNS = re.compile(r"([\u3400-\u9fff\uf900-\ufaff]+)")  # the Chinese runs, as separators
_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF))  # the same characters
_ALL_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")

#: sha256 of the source of ``pypinyin.seg.mmseg.Seg.cut`` whose algorithm ``_fast_reader``
#: follows (pypinyin 0.55): forward maximum matching that falls back to the longest phrase
#: seen along the prefix chain, and splits the rest into characters when the run ends inside
#: a prefix that is no phrase.
_SEG_CUT_SHA256 = "32aec0cbd8a49c91ae5055fe3b2f787ab31095011a48ee53609f75f256dbc029"
_SHORT_NAME = 4  # names this long or shorter (persons) are remembered whole …
_SHORT_NAMES_MAX = 50_000  # … this many of them at most (then forgotten all at once)
_MEMO_MAX = 20_000  # remainders of runs, and runs of single characters, remembered (_fast_reader)


def keys(name: str | None) -> tuple[str | None, str | None]:
    """(full pinyin, initials) of ``name``; (None, None) for an empty name."""
    if not name:
        return None, None
    found = _short_names.get(name)
    if found is not None:
        return found
    if _ALL_CJK.fullmatch(name):  # most names: one run of Chinese and nothing else
        full, initials = (_read or _load())(name)
        result = full[:400] or None, initials[:100] or None
    elif not name.strip():
        return None, None
    else:
        read = _read or _load()
        fulls, initials = [], []
        # Whole runs of Chinese are read together: its phrase dictionary reads 厦门 as xiamen,
        # where 厦 alone would be sha. Odd pieces of the split are the runs.
        for index, chunk in enumerate(_RUNS.split(name.lower())):
            if not chunk:
                continue
            if index & 1:
                run_full, run_initials = read(chunk)
                fulls.append(run_full)
                initials.append(run_initials)
            else:
                for word in _WORD.findall(chunk):
                    fulls.append(word)
                    initials.append(word[:1])
        result = "".join(fulls)[:400] or None, "".join(initials)[:100] or None
    if len(name) <= _SHORT_NAME:
        if len(_short_names) >= _SHORT_NAMES_MAX:
            _short_names.clear()
        _short_names[name] = result
    return result


def warm() -> None:
    """Load pypinyin's dictionaries now rather than at the first name keyed. A served process
    calls it at start (wsgi.py): the first import's commit or card saved in it would otherwise
    wait for them (0.3–0.5 s, about 60 MB, shared by the processes forked after it)."""
    if _read is None:
        _load()


_read = None  # run of Chinese -> (full pinyin, initials), once _load() has built it
_short_names: dict[str, tuple[str | None, str | None]] = {}


def _load():
    """Import pypinyin and build the reader of runs of Chinese (first use only)."""
    global _read
    import hashlib
    import inspect

    from pypinyin import lazy_pinyin
    from pypinyin.seg import mmseg

    words: dict[str, tuple[str, str]] = {}

    def word_keys(word: str) -> tuple[str, str]:
        """(full, initials) of one word of the segmenter, as lazy_pinyin reads it."""
        found = words.get(word)
        if found is None:
            syllables = lazy_pinyin(word)
            found = words[word] = ("".join(syllables), "".join(s[:1] for s in syllables))
        return found

    seg = mmseg.seg
    try:
        source = inspect.getsource(type(seg).cut)
        prefixes = seg._prefix_set._set
        strict = seg._no_non_phrases is True
    except (AttributeError, OSError, TypeError):
        source, prefixes, strict = "", None, False
    if (strict and isinstance(prefixes, set) and type(seg) is mmseg.Seg
            and hashlib.sha256(source.encode()).hexdigest() == _SEG_CUT_SHA256):
        _read = _fast_reader(word_keys, prefixes, mmseg.PHRASES_DICT)
    else:
        def read(run: str) -> tuple[str, str]:  # another segmenter: ask it, word by word
            pairs = [word_keys(word) for word in seg.cut(run)]
            return "".join(p[0] for p in pairs), "".join(p[1] for p in pairs)

        _read = read
    return _read


def _fast_reader(word_keys, prefixes: set, phrases: dict):
    """pypinyin's segmentation (``Seg.cut`` of 0.55, strict mode) and reading of a run, with
    the characters between phrases read by two translate tables."""
    from pypinyin.constants import PINYIN_DICT, RE_HANS

    # Each character's reading, as lazy_pinyin gives it alone: characters with the same
    # first dictionary reading read the same (the NORMAL style only strips the tone), so
    # one call per distinct reading; a character that is itself a phrase, or that
    # pypinyin does not count as Chinese, is asked on its own. Characters without a
    # reading are absent: translate keeps them, as lazy_pinyin does.
    full_table: dict[int, str] = {}
    initials_table: dict[int, str] = {}
    by_reading: dict[str, tuple[str, str]] = {}
    for low, high in _RANGES:
        for code in range(low, high + 1):
            reading = PINYIN_DICT.get(code)
            char = chr(code)
            if reading is None and char not in phrases:
                continue
            if reading is not None and char not in phrases and RE_HANS.match(char):
                key = reading.split(",")[0]
                pair = by_reading.get(key)
                if pair is None:
                    pair = by_reading[key] = word_keys(char)
            else:
                pair = word_keys(char)
            full_table[code], initials_table[code] = pair

    # What follows a point where the segmenter stands is read as if it were a run of its
    # own (Seg.cut keeps no other state than the text that remains), so the readings of
    # such remainders are kept: names end alike (…贸易有限公司, …科技有限公司). So are the
    # readings of the characters read one by one before the first phrase (杭州天合…).
    tails: dict[str, tuple[str, str]] = {}
    pieces: dict[str, tuple[str, str]] = {}

    def read_piece(piece: str) -> tuple[str, str]:
        """Characters each read alone (the tables)."""
        if len(pieces) >= _MEMO_MAX:
            pieces.clear()
        pair = pieces[piece] = piece.translate(full_table), piece.translate(initials_table)
        return pair

    def chain(run: str, i: int, n: int) -> tuple[int, bool]:
        """Seg.cut standing at i, where run[i:i + 2] begins a phrase: it follows the prefix
        chain run[i:j] until it leaves the prefix set or the run ends, and remembers the
        longest phrase on the way. (Where that phrase ends, or 0; whether the run ended.)"""
        last = i + 1 if run[i] in phrases else 0
        j = i + 2
        while True:
            if run[i:j] in phrases:
                last = j
            if j == n:
                return last, True
            j += 1
            if run[i:j] not in prefixes:
                return last, False

    def read(run: str) -> tuple[str, str]:
        n = len(run)
        i = done = 0  # the segmenter stands at i; run[:done] is read into ``head``
        head = None
        while True:
            # Where run[i:i + 2] begins no phrase, the segmenter's prefix chain from i is at
            # most one character long: it emits run[i] alone and stands at i + 1.
            while i < n - 1 and run[i:i + 2] not in prefixes:
                i += 1
            if i >= n - 1:
                break  # no phrase from here on: the rest character by character
            if i:
                tail = tails.get(run[i:])
                if tail is None:
                    return read_from(run, i, done, head)
                if done < i:
                    pair = pieces.get(run[done:i]) or read_piece(run[done:i])
                    tail = pair[0] + tail[0], pair[1] + tail[1]
                return tail if head is None else (head[0] + tail[0], head[1] + tail[1])
            last, ended = chain(run, 0, n)
            if last > 1:  # a phrase: its own reading
                head = word_keys(run[:last])
                done = i = last
            elif ended and not last:
                break  # the run is a prefix that is no phrase: character by character
            else:
                i = 1  # one character (or a one-character phrase), read by the tables
        if done == n:
            return head
        pair = pieces.get(run[done:]) or read_piece(run[done:])
        return pair if head is None else (head[0] + pair[0], head[1] + pair[1])

    def read_from(run: str, i: int, done: int, head) -> tuple[str, str]:
        """The rest of read(): the segmenter stands at i, where run[i:i + 2] begins a phrase
        and what follows is not known yet; ``head`` is the reading of run[:done]."""
        n = len(run)
        full, initials = ([head[0]], [head[1]]) if head else ([], [])
        tail = None
        remember = []  # (remainder, where its reading starts in full)
        while i < n - 1:
            if run[i:i + 2] not in prefixes:
                i += 1
                continue
            rest = run[i:]  # i > 0 here
            tail = tails.get(rest)
            if tail is not None:
                break
            if done < i:
                pair = pieces.get(run[done:i]) or read_piece(run[done:i])
                full.append(pair[0])
                initials.append(pair[1])
                done = i
            remember.append((rest, len(full)))
            last, ended = chain(run, i, n)
            if last - i > 1:  # a phrase: its own reading
                phrase_full, phrase_initials = word_keys(run[i:last])
                full.append(phrase_full)
                initials.append(phrase_initials)
                done = i = last
            elif ended and not last:
                break  # the run ends inside a prefix that is no phrase: the rest char by char
            else:
                i += 1  # one character (or a one-character phrase), read by the tables
        end = n if tail is None else i
        if done < end:
            pair = pieces.get(run[done:end]) or read_piece(run[done:end])
            full.append(pair[0])
            initials.append(pair[1])
        if tail is not None:
            full.append(tail[0])
            initials.append(tail[1])
        if len(tails) >= _MEMO_MAX:
            tails.clear()
        for rest, start in remember:
            tails[rest] = "".join(full[start:]), "".join(initials[start:])
        return "".join(full), "".join(initials)

    return read


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
