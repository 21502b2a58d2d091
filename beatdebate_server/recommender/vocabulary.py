"""Words of a query: normalising text, and the phrases that name genres, moods, activities.

Terms:
- *normal form*: lowercase ASCII (accents stripped: "Björk" → "bjork"), every character
  other than letters, digits and ``&`` turned into a space, apostrophes dropped.
- *key*: a normal form with the spaces removed as well, and ``&`` spelled "and"; two
  spellings of one artist name ("Mk.gee", "mk gee", "MKGEE") share a key.
- *phrase*: one to three words of normal form that stand for a vocabulary word of the
  catalog (``model.GENRES``, ``MOODS``, ``ACTIVITIES``), e.g. "hip hop", "gym", "mellow".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from beatdebate_server.catalog.model import ACTIVITIES, GENRES, MOODS

Category = Literal["genres", "moods", "activities"]

_NON_WORD = re.compile(r"[^a-z0-9&\s]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The normal form of ``text`` (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    ascii_text = ascii_text.replace("'", "").replace("\u2019", "")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", ascii_text)).strip()


def name_key(text: str) -> str:
    """The matching key of a name: normal form without spaces, ``&`` as "and", no leading "the"."""
    words = normalize(text).replace("&", " and ").split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return "".join(words)


# Synonyms in normal form → the catalog's word. Vocabulary words map to themselves.
_GENRE_SYNONYMS: dict[str, str] = {
    "hiphop": "hip hop", "hip hop": "hip hop", "rap": "hip hop", "trap": "hip hop",
    "rnb": "r&b", "r&b": "r&b", "r & b": "r&b", "r and b": "r&b", "r n b": "r&b",
    "electronica": "electronic", "edm": "electronic", "electro": "electronic",
    "dubstep": "electronic", "drum and bass": "electronic", "dnb": "electronic",
    "trance": "electronic", "idm": "electronic", "synth": "electronic",
    "alt": "alternative", "deep house": "house", "heavy metal": "metal",
    "orchestral": "classical", "reggaeton": "latin", "salsa": "latin",
    "avant garde": "experimental", "jazzy": "jazz", "soulful": "soul", "funky": "funk",
    "folky": "folk", "bluesy": "blues", "punky": "punk", "rocky": "rock",
    "singer songwriter": "folk", "acoustic": "folk", "bluegrass": "country",
}
_MOOD_SYNONYMS: dict[str, str] = {
    "cheerful": "happy", "joyful": "happy", "joyous": "happy", "feel good": "happy",
    "feelgood": "happy", "sadness": "sad", "depressing": "sad", "heartbreak": "sad",
    "heartbroken": "sad", "crying": "sad", "cry": "sad", "breakup": "sad", "break up": "sad",
    "heartache": "sad", "mellow": "calm", "peaceful": "calm",
    "soothing": "calm", "gentle": "calm", "quiet": "calm", "soft": "calm",
    "energy": "energetic", "high energy": "energetic", "hype": "energetic",
    "pumped": "energetic", "intense": "energetic", "moody": "dark", "gloomy": "dark",
    "brooding": "dark", "melancholy": "melancholic", "wistful": "melancholic",
    "bittersweet": "melancholic", "ethereal": "dreamy", "hazy": "dreamy",
    "angry": "aggressive", "love songs": "romantic", "love song": "romantic",
    "chilled": "chill", "chillout": "chill", "chill out": "chill", "laid back": "chill",
    "laidback": "chill", "lofi": "chill", "lo fi": "chill", "low key": "chill",
    "lowkey": "chill", "inspiring": "uplifting", "hopeful": "uplifting",
    "euphoric": "uplifting", "low energy": "calm", "up beat": "upbeat",
    "happy go lucky": "happy",
}
_ACTIVITY_SYNONYMS: dict[str, str] = {
    "study": "studying", "studies": "studying", "homework": "studying",
    "work out": "workout", "working out": "workout", "workouts": "workout", "gym": "workout",
    "exercise": "workout", "exercising": "workout", "lifting": "workout",
    "training": "workout", "sleeping": "sleep", "bedtime": "sleep", "asleep": "sleep",
    "partying": "party", "parties": "party", "dancing": "party", "dance": "party",
    "focusing": "focus", "concentrate": "focus", "concentration": "focus",
    "coding": "focus", "programming": "focus", "work": "focus", "working": "focus",
    "drive": "driving", "road trip": "driving", "commute": "driving",
    "commuting": "driving", "relax": "relaxing", "relaxation": "relaxing",
    "unwind": "relaxing", "unwinding": "relaxing", "winding down": "relaxing",
    "chilling": "relaxing", "run": "running", "jogging": "running", "jog": "running",
    "cardio": "running",
}


def _phrase_table() -> dict[tuple[str, ...], tuple[Category, str]]:
    table: dict[tuple[str, ...], tuple[Category, str]] = {}
    sources: tuple[tuple[Category, tuple[str, ...], dict[str, str]], ...] = (
        ("genres", GENRES, _GENRE_SYNONYMS),
        ("moods", MOODS, _MOOD_SYNONYMS),
        ("activities", ACTIVITIES, _ACTIVITY_SYNONYMS),
    )
    for category, words, synonyms in sources:
        for word in words:
            table[tuple(normalize(word).split())] = (category, word)
        for phrase, word in synonyms.items():
            table[tuple(normalize(phrase).split())] = (category, word)
    return table


# Built once at import from constants: read-only afterwards.
PHRASES: dict[tuple[str, ...], tuple[Category, str]] = _phrase_table()
_LONGEST = max(len(p) for p in PHRASES)
VOCABULARY_WORDS: frozenset[str] = frozenset(w for p in PHRASES for w in p)


def find_phrases(words: list[str], *, taken: set[int]) -> list[tuple[int, int, Category, str]]:
    """Vocabulary phrases in ``words``, longest first, skipping positions in ``taken``.

    Returns ``(start, end, category, word)`` in query order and adds their positions to
    ``taken``.
    """
    found: list[tuple[int, int, Category, str]] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            span = range(i, i + size)
            if any(j in taken for j in span):
                continue
            hit = PHRASES.get(tuple(words[i:i + size]))
            if hit is not None:
                found.append((i, i + size, hit[0], hit[1]))
                taken.update(span)
                i += size - 1
                break
        i += 1
    return found
