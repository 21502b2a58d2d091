"""Query understanding: text in, :class:`Intent` out. Pure: no catalog scan, no state.

Terms:
- *first query*: a query that names its own subject. Its kind is, by precedence,
  ``artist_similarity`` (an artist after "like", "similar to", "sounds like"…),
  ``by_artist`` (an artist), ``contextual`` (an activity), ``discovery`` ("underground",
  "surprise me"), ``genre_mood`` (genres or moods; also anything unrecognised, with no
  entities, which the engine answers with popular tracks and a notice).
- *follow-up*: a query about the session's earlier pages: ``more_from_artist`` ("more from
  Mk.gee", "more by this artist"), ``more_like_these`` ("more like these", "like these but
  calmer", "something calmer"), ``more_tracks`` ("more", "next", "keep going").
- *modifier*: a comparative that bends a follow-up ("calmer", "darker"), or a discovery
  flavour ("underground" ordering by least popular, "surprise" a stable shuffled order).
"""

from __future__ import annotations

import re

from .model import Intent, Kind, Modifier
from .names import FILLER_WORDS, ArtistNames
from .vocabulary import VOCABULARY_WORDS, find_phrases, normalize

# Politeness around a follow-up: "ok, can you show me more please" is "more".
_LEAD = re.compile(
    r"^(?:(?:ok|okay|cool|nice|great|thanks|thank you|yes|yeah|yep|and|now|please|pls|"
    r"alright|awesome|perfect|good|hmm|so|then|oh|hey|wow|love it|love these|lovely|sure)\s+)*"
    r"(?:(?:can|could|would|will) (?:you|u) (?:please )?|(?:can|could|may) i (?:get|have|hear) |"
    r"i (?:want|need|would like|d like)(?: to hear)? |id like(?: to hear)? |"
    r"i wanna hear |lets hear |let me hear |"
    r"(?:give|show|play|get|find|send|load|recommend|suggest|fetch)(?: me| us)? )*")
_TRAIL = re.compile(r"(?:\s+(?:please|pls|thanks|thank you|for me|then|now|too|still))+$")

_MORE_TRACKS_WORDS = frozenset("""
more another batch page round set next keep going continue go on carry load again moar
tracks track songs song music stuff ones one results recommendations recs picks options
suggestions of the same that this it some few a couple even lots them coming em bunch
different other others selection ten five list
""".split())
_MORE_TRACKS_TRIGGERS = frozenset("more another next continue keep again carry load moar go".split())

_LIKE_THESE = re.compile(
    r"\b(?:like|similar to|similar|sounding like|sounds? like|in the vein of|in the style of|"
    r"along the lines of|close to|the vibe of|vibe of|the same vein as|resembling)\s+"
    r"(?:these|those|this|that|them|it|the last (?:ones?|batch|few|songs|tracks|page|picks)|"
    r"what (?:you|u) (?:just )?(?:played|showed|gave|sent|picked|found|suggested))\b")
_SAME_VIBE = re.compile(
    r"\b(?:same (?:vibes?|vein|style|feel|feeling|sound|energy|mood)|(?:this|that) (?:vibe|sound|feel|style)|"
    r"in (?:this|that|the same) vein|of (?:these|those)|similar ones|similar (?:songs|tracks|stuff|music)|"
    r"something similar|anything similar|more similar|^similar$)\b(?! (?:to|like|of)\b)")

_MORE_FROM = re.compile(
    r"\b(?:more|other|another|others|else|extra|additional|deeper)\s+"
    r"(?:(?:songs?|tracks?|music|stuff|hits|ones?|things?|tunes|records|cuts|material)\s+)?"
    r"(?:from|by|of|into)\s+(?P<span>.+)$")
_WHAT_ELSE = re.compile(
    r"\bwhat else (?:do|does|did|have|has) (?:they|he|she|this artist|this band|the artist|"
    r"that artist|that band|them)\b")
_THIS_ARTIST_WORDS = frozenset("""
this that the same these those artist artists band bands singer singers group groups one
guy guys person musician musicians rapper producer dj act
""".split())
_PRONOUNS = frozenset({"them", "him", "her", "they"})
_ARTIST_NOUNS = frozenset("artist artists band bands singer singers group groups guy guys "
                          "person musician musicians rapper producer dj act".split())

_MODIFIERS: tuple[tuple[re.Pattern[str], Modifier], ...] = (
    (re.compile(r"\b(?:calmer|chiller|mellower|softer|slower|quieter|gentler|"
                r"more (?:relaxed|relaxing|chill|mellow|calm|laid back|peaceful|soothing)|"
                r"less (?:intense|energetic|aggressive|loud|upbeat|hectic)|tone it down|toned down)\b"),
     "calmer"),
    (re.compile(r"\b(?:more (?:upbeat|energetic|energy|intense|hype|lively|danceable|pumped)|"
                r"faster|livelier|harder|louder|heavier|pump it up|"
                r"less (?:calm|chill|mellow|sleepy|slow))\b"), "energetic"),
    (re.compile(r"\b(?:happier|brighter|more (?:happy|cheerful|positive|uplifting|joyful)|less sad)\b"),
     "happier"),
    (re.compile(r"\b(?:sadder|more (?:sad|melancholic|melancholy|emotional)|less happy)\b"), "sadder"),
    (re.compile(r"\b(?:darker|moodier|more (?:dark|moody|brooding))\b"), "darker"),
    (re.compile(r"\b(?:dreamier|more (?:dreamy|ethereal))\b"), "dreamier"),
)

_SIMILARITY_CUE = re.compile(
    r"\b(?:like|similar to|similar|sounds? like|sounding like|in the style of|in the vein of|"
    r"reminiscent of|inspired by|influenced by|fans? of|akin to|along the lines of|comparable to|"
    r"alternatives? to|the likes of|related to|vibes? like|artists like|bands like)\b")
# Where a pattern points at an artist: the span runs to the end of the query.
_SPANS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?:like|similar to|sounds? like|sounding like|in the style of|in the vein of|"
               r"reminiscent of|inspired by|influenced by|fans? of|akin to|along the lines of|"
               r"comparable to|alternatives? to|the likes of|related to)\s+(?P<span>.+)$"),
    re.compile(r"\b(?:by|from)\s+(?P<span>.+)$"),
    re.compile(r"\b(?:songs|tracks|music|hits|best|album|albums|discography|catalog|classics|"
               r"records|work|stuff) of\s+(?P<span>.+)$"),
    re.compile(r"^(?:play|put on|queue|queue up|spin|listen to|i want to hear|i wanna hear|"
               r"let me hear|lets hear|give me|gimme|i want|id like|i would like|"
               r"recommend|best of|top|anything by|something by)\s+(?P<span>.+)$"),
    re.compile(r"^(?P<span>.+?)\s+(?:songs?|tracks?|music|hits|deep cuts|classics|tunes|records|"
               r"albums?|discography|essentials|playlist|radio|greatest hits|stuff)\b"),
)
_CONNECTORS = frozenset({"and", "or", "&", "with", "plus", "x", "vs", "also", "n"})

_UNDERGROUND = re.compile(
    r"\b(?:underground|obscure|hidden gems?|gems|lesser known|less known|little known|"
    r"deep cuts?|niche|rare|under the radar|unknown|undiscovered|not mainstream|non mainstream|"
    r"b sides?|unpopular|off the beaten path|nobody knows|not popular|indie gems?)\b")
_SURPRISE = re.compile(
    r"\b(?:surprise|surprising|random|randomly|anything|whatever|something new|something different|"
    r"new music|new stuff|new artists?|new songs|discover|discovery|fresh|shuffle|eclectic|"
    r"mix it up|dealers choice|you pick|you choose|your choice|dunno|idk|no idea|anything goes)\b")


def parse(query: str, names: ArtistNames) -> Intent:
    """The intent of ``query``; artist names are matched against ``names``."""
    norm = normalize(query)
    follow_up = _follow_up(norm, names, query)
    if follow_up is not None:
        return follow_up
    return _first_query(norm, names, query)


def _strip_politeness(norm: str) -> str:
    return _TRAIL.sub("", _LEAD.sub("", norm)).strip()


def _modifiers(norm: str) -> tuple[tuple[Modifier, ...], str]:
    """The modifiers in ``norm`` and the text left once their words are removed."""
    found: list[Modifier] = []
    rest = norm
    for pattern, modifier in _MODIFIERS:
        if pattern.search(rest):
            found.append(modifier)
            rest = pattern.sub(" ", rest)
    return tuple(found), " ".join(rest.split())


def _follow_up(norm: str, names: ArtistNames, query: str) -> Intent | None:
    core = _strip_politeness(norm)
    # 1. "more from <artist>" / "more by this artist"
    if _WHAT_ELSE.search(core):
        return Intent("follow_up", "more_from_artist", query=query)
    match = _MORE_FROM.search(core)
    if match is not None:
        span = match.group("span").split()
        trimmed = [w for w in span if w not in ("please", "pls", "thanks", "now", "too")]
        preposition = core[match.start():match.start("span")].split()[-1]
        if trimmed and set(trimmed) <= _THIS_ARTIST_WORDS and (
                set(trimmed) & _ARTIST_NOUNS):
            return Intent("follow_up", "more_from_artist", query=query)
        if trimmed and set(trimmed) <= _PRONOUNS and preposition in ("from", "by"):
            return Intent("follow_up", "more_from_artist", query=query)
        if trimmed and not set(trimmed) <= _THIS_ARTIST_WORDS:
            hit = names.resolve_span(trimmed)
            if hit is not None and not set(trimmed[hit[1]:hit[2]]) <= VOCABULARY_WORDS:
                return Intent("follow_up", "more_from_artist", artists=(hit[0],), query=query)
    # 2. "more like these", "like these but calmer", "something calmer"
    modifiers, unmodified = _modifiers(core)
    if _LIKE_THESE.search(core) or _SAME_VIBE.search(core):
        return Intent("follow_up", "more_like_these", modifiers=modifiers, query=query)
    if modifiers and _is_contentless(unmodified, names):
        return Intent("follow_up", "more_like_these", modifiers=modifiers, query=query)
    # 3. "more", "next", "keep going"
    words = core.split()
    if words and set(words) <= _MORE_TRACKS_WORDS and set(words) & _MORE_TRACKS_TRIGGERS:
        return Intent("follow_up", "more_tracks", query=query)
    # 4. "more radiohead": the rest must be an artist, and not a genre ("more jazz")
    if len(words) >= 2 and words[0] == "more":
        rest = words[1:]
        if not set(rest) <= VOCABULARY_WORDS | FILLER_WORDS:
            artist = names.exact(rest)
            if artist is None and len(rest) == 1:
                artist = names.alias(rest[0])
            if artist is None:
                artist = names.fuzzy(rest)
            if artist is not None:
                return Intent("follow_up", "more_from_artist", artists=(artist,), query=query)
    return None


def _is_contentless(text: str, names: ArtistNames) -> bool:
    """True when ``text`` names no artist, genre, mood or activity: only filler words."""
    words = text.split()
    if any(w not in FILLER_WORDS for w in words):
        return False
    return not find_phrases(words, taken=set()) and not names.scan(words, taken=set())


def _first_query(norm: str, names: ArtistNames, query: str) -> Intent:
    words = norm.split()
    # Multi-word vocabulary phrases first: "low energy" is a mood, not the band Low.
    phrases = [p for p in find_phrases(words, taken=set()) if p[1] - p[0] > 1]
    in_phrase = {i for start, end, _, _ in phrases for i in range(start, end)}
    taken: set[int] = set()  # positions naming an artist
    artists: list[str] = []
    spans_tried = False
    for pattern in _SPANS:
        match = pattern.search(norm)
        if match is None:
            continue
        spans_tried = True
        base = norm[:match.start("span")].count(" ")
        stop = min((i for i in in_phrase if i >= base), default=len(words))
        for name, start, end in _span_artists(words[base:stop], names):
            if name not in artists:
                artists.append(name)
            taken.update(range(base + start, base + end))
        if artists:
            break
    for start, end, name in names.scan(words, taken=taken | in_phrase):
        taken.update(range(start, end))
        if name not in artists:
            artists.append(name)
    found: dict[str, list[str]] = {"genres": [], "moods": [], "activities": []}
    for _, _, category, word in find_phrases(words, taken=taken):
        if word not in found[category]:
            found[category].append(word)
    underground = _UNDERGROUND.search(norm) is not None
    surprise = _SURPRISE.search(norm) is not None
    if (not artists and not spans_tried and not any(found.values()) and not underground
            and not surprise):
        residual = [w for w in words if w not in FILLER_WORDS]
        hit = names.alias(residual[0]) if len(residual) == 1 else None
        if hit is None and residual:
            hit = names.fuzzy(residual)
        if hit is not None:
            artists.append(hit)
    kind: Kind
    modifiers: tuple[Modifier, ...] = ()
    if artists:
        kind = "artist_similarity" if _SIMILARITY_CUE.search(norm) else "by_artist"
    elif found["activities"]:
        kind = "contextual"
    elif underground or surprise:
        kind = "discovery"
        modifiers = ("underground",) if underground else ("surprise",)
    else:
        kind = "genre_mood"
    return Intent(kind, None, artists=tuple(artists), genres=tuple(found["genres"]),
                  moods=tuple(found["moods"]), activities=tuple(found["activities"]),
                  modifiers=modifiers, query=query)


def _span_artists(span: list[str], names: ArtistNames) -> list[tuple[str, int, int]]:
    """Artists named in a span, joined by "and", ",", "or"…: ``(artist, start, end)`` positions."""
    found: list[tuple[str, int, int]] = []
    position = 0
    while position < len(span):
        hit = names.resolve_span(span[position:])
        if hit is None:
            break
        name, start, end = hit
        found.append((name, position + start, position + end))
        position += end
        if position < len(span) and span[position] in _CONNECTORS:
            position += 1
        else:
            break
    return found


def discovery_flavour(query: str) -> Modifier:
    """"underground" (least popular first) or "surprise" (a stable shuffle) for a discovery query."""
    return "underground" if _UNDERGROUND.search(normalize(query)) else "surprise"


