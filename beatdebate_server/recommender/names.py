"""Recognising artist names in a query: exact keys first, then fuzzy (rapidfuzz) matches.

Terms:
- *key*: ``vocabulary.name_key`` of a name; "Mk.gee", "mk gee" and "mkgee" share one.
- *span*: the words a query pattern points at ("songs by <span>", "music like <span>").
  Only a span is matched fuzzily; elsewhere in a query an artist must match exactly.
- *alias*: a distinctive word of a multi-word name ("kendrick" for Kendrick Lamar, "bach"),
  used only when it is a whole span or the whole query.

False positives are the risk: genre and mood words ("house", "soul") and filler words are
never matched as an artist outside an explicit "by <artist>" pattern, and short keys
(under five characters) only ever match exactly.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from .vocabulary import VOCABULARY_WORDS, name_key, normalize

# Words that carry no artist on their own; an n-gram made only of these (and vocabulary
# words) is never looked up as an artist.
FILLER_WORDS: frozenset[str] = frozenset("""
a an the some any me my i im you your we us our it its is are be been am was for to of by
from with and or but not no please pls music songs song tracks track stuff play playing
give show want wanna like more something anything new good best top great really very just
that this these those them they get find recommend recommendation recommendations listen
hear listening tunes tune beats beat vibes vibe hits hit artists artist bands band
similar sounds sound sounding on in at while when what can could would let put queue up out
about all other others another next one ones few bit little same also too so then now ok
okay yes yeah hey hi thanks thank cool nice lets make love fan fans if style vein
kind sort type genre genres mood moods playlist mix list album albums record records
something some kinda lot lots much many do does did have has had going go keep time
""".split())

_FUZZY_MIN_KEY = 5
MAX_NAME_WORDS = 6  # longer runs of words are not tried as one name: bounds work on long queries


def _cutoff(key: str) -> float:
    """Stricter for shorter keys: one wrong letter in five is too much, in ten is a typo."""
    return 90.0 if len(key) <= 6 else 85.0


class ArtistNames:
    """Every artist name of a catalog, indexed for exact and fuzzy lookup. Read-only after init."""

    def __init__(self, names: Iterable[str]) -> None:
        by_key: dict[str, str] = {}
        for name in sorted(set(names)):  # sorted: the same winner for a shared key on every run
            key = name_key(name)
            if key:
                by_key.setdefault(key, name)
        self._by_key = by_key
        # Keys by length, so a fuzzy lookup scans only the lengths that could reach its cutoff.
        self._keys = sorted(by_key, key=lambda k: (len(k), k))
        self._lengths = [len(k) for k in self._keys]
        self._aliases = _aliases(by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def exact(self, words: list[str]) -> str | None:
        """The artist whose key equals these (normal-form) words' key, or None."""
        return self._by_key.get(_words_key(words))

    def resolve_span(self, words: list[str]) -> tuple[str, int, int] | None:
        """The artist a pattern's span names, as ``(artist, start, end)`` word positions.

        ``words`` are in normal form. Exact keys (and aliases) first, on every sub-span,
        earliest then longest; a sub-span of only vocabulary and filler words, a key under
        four letters, or an alias must be the whole span ("songs by Low" finds Low; "music
        like X for studying" never finds an artist called For). Then fuzzy, at most twice:
        on the words up to the first filler or vocabulary word ("radiohed" of "radiohed
        for studying"), and on the whole span.
        """
        start, end = _trim(words[:MAX_NAME_WORDS + 2])
        for first in range(start, end):
            for stop in range(end, first, -1):
                part = words[first:stop]
                whole = (first, stop) == (start, end)
                if not whole and (_is_filler(part) or len(_words_key(part)) < 4):
                    continue
                hit = self.exact(part)
                if hit is None and whole and len(part) == 1:
                    hit = self._aliases.get(part[0])  # "songs by kendrick", never mid-span
                if hit is not None:
                    return hit, first, stop
        while start < end and _is_filler(words[start:start + 1]):
            start += 1  # never swallow a leading mood or genre ("sad radiohed")
        cut = next((i for i in range(start + 1, end) if _is_filler(words[i:i + 1])), end)
        for stop in dict.fromkeys((cut, min(end, start + MAX_NAME_WORDS))):
            if stop > start:
                hit = self.fuzzy(words[start:stop])
                if hit is not None:
                    return hit, start, stop
        return None

    def alias(self, word: str) -> str | None:
        """The artist a distinctive word of its name stands for ("kendrick"), or None."""
        return self._aliases.get(word)

    def fuzzy(self, words: list[str]) -> str | None:
        """The closest artist by ``fuzz.ratio`` on keys, if close enough; None for short keys."""
        key = _words_key(words)
        if len(key) < _FUZZY_MIN_KEY:
            return None
        cutoff = _cutoff(key)
        # ratio <= 200 * shorter / (len1 + len2): lengths outside these bounds cannot reach it.
        ratio = cutoff / (200 - cutoff)
        low = bisect_left(self._lengths, math.ceil(len(key) * ratio))
        high = bisect_right(self._lengths, math.floor(len(key) / ratio))
        if low >= high:
            return None
        found = process.extractOne(key, self._keys[low:high], scorer=fuzz.ratio,
                                   score_cutoff=cutoff)
        return None if found is None else self._by_key[found[0]]

    def scan(self, words: list[str], *, taken: set[int]) -> list[tuple[int, int, str]]:
        """Exact artist names anywhere in ``words``, longest first, skipping ``taken`` positions.

        Returns ``(start, end, artist)`` in query order and marks the positions as taken.
        An n-gram of only filler and vocabulary words, or a one-word key under four
        letters, is not looked up: "rock music" never becomes an artist named Rock.
        """
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            for size in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                gram = words[i:i + size]
                if any(j in taken for j in range(i, i + size)):
                    continue
                if all(w in FILLER_WORDS or w in VOCABULARY_WORDS for w in gram):
                    continue
                if size == 1 and len(gram[0]) < 4:
                    continue
                hit = self.exact(gram)
                if hit is not None:
                    found.append((i, i + size, hit))
                    taken.update(range(i, i + size))
                    i += size - 1
                    break
            i += 1
        return found


def _is_filler(words: list[str]) -> bool:
    return all(w in FILLER_WORDS or w in VOCABULARY_WORDS for w in words)


def _words_key(words: list[str]) -> str:
    """``name_key`` of words already in normal form, without normalising them again."""
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return "".join("and" if w == "&" else w.replace("&", "and") for w in words)


def _trim(words: list[str]) -> tuple[int, int]:
    """The span without filler words at its ends ("some", "please", "songs"), keeping a leading "the"."""
    start, end = 0, len(words)
    while start < end and words[start] in FILLER_WORDS and words[start] != "the":
        start += 1
    while end > start and words[end - 1] in FILLER_WORDS:
        end -= 1
    return start, end


def _aliases(names: Iterable[str]) -> dict[str, str]:
    """Distinctive words of multi-word names: four letters or more, in one name only."""
    owners: dict[str, set[str]] = {}
    for name in names:
        words = normalize(name).split()
        if len(words) < 2:
            continue
        for word in set(words):
            if len(word) >= 4 and word not in FILLER_WORDS and word not in VOCABULARY_WORDS:
                owners.setdefault(word, set()).add(name)
    return {word: next(iter(who)) for word, who in owners.items() if len(who) == 1}
