"""The fast reading of names (portal/services/pinyin.py) gives exactly pypinyin's keys: its
segmenter cutting each run of Chinese into words, each word read by lazy_pinyin — stored keys
must equal a fresh computation, or search would miss them."""
import random
import re

from pypinyin import lazy_pinyin
from pypinyin.seg import mmseg

from portal.services import pinyin


def reference(name):
    """The keys as computed before the fast reader: pypinyin's segmenter, word by word."""
    if not name or not name.strip():
        return None, None
    full, initials = [], []
    for chunk in re.split(r"([\u3400-\u9fff\uf900-\ufaff]+)", name.lower()):
        if re.match(r"[\u3400-\u9fff\uf900-\ufaff]", chunk):
            syllables = [s for word in mmseg.seg.cut(chunk) for s in lazy_pinyin(word)]
        else:
            syllables = re.findall(r"[a-z0-9]+", chunk)
        full += syllables
        initials += [s[:1] for s in syllables]
    return "".join(full)[:400] or None, "".join(initials)[:100] or None


def texts():
    phrases = sorted(mmseg.PHRASES_DICT)
    rnd = random.Random(5)
    yield from phrases  # every phrase of the dictionary alone
    for _ in range(10_000):  # phrases run together, cut in the middle, with Latin between
        words = [rnd.choice(phrases) for _ in range(rnd.randint(1, 5))]
        if rnd.random() < 0.3:
            words[0] = words[0][1:]
        if rnd.random() < 0.3:
            words[-1] = words[-1][:-1]
        if rnd.random() < 0.2:
            words.insert(rnd.randrange(len(words) + 1), rnd.choice([" Ab1 ", "3M", "（", "·", " "]))
        yield "".join(words)
    for _ in range(10_000):  # any characters of the ranges, rare ones included
        yield "".join(chr(rnd.choice([rnd.randint(0x4E00, 0x9FFF), rnd.randint(0x3400, 0x4DBF),
                                      rnd.randint(0xF900, 0xFAFF)])) for _ in range(rnd.randint(1, 12)))
    yield from ["厦门", "厦门大学", "重庆重工", "银行行长", "长沙长安", "杭州天合贸易有限公司", "李敏", "单田芳"]


def test_the_fast_reader_is_in_use():
    pinyin.keys("张伟")
    assert pinyin._read.__name__ == "read" and pinyin._read.__qualname__.startswith("_fast_reader")


def test_every_phrase_and_random_text_reads_as_pypinyin_reads_it():
    cases = list(texts())
    expected = [reference(t) for t in cases]
    # The second round reads the same texts again, now partly from what the reader remembered.
    for _ in range(2):
        mismatches = [(t, got, want) for t, got, want in zip(cases, map(pinyin.keys, cases), expected) if got != want]
        assert mismatches == []


def test_another_pypinyin_segmenter_is_asked_instead(monkeypatch):
    # A pypinyin whose segmenter is not the one the fast reader follows: its own cut is used.
    monkeypatch.setattr(pinyin, "_SEG_CUT_SHA256", "another version")
    monkeypatch.setattr(pinyin, "_read", None)
    monkeypatch.setattr(pinyin, "_short_names", {})
    cases = ["厦门大学", "杭州天合贸易有限公司", "Li Na 李娜", "银行行长"]
    assert [pinyin.keys(t) for t in cases] == [reference(t) for t in cases]
    assert not pinyin._read.__qualname__.startswith("_fast_reader")
