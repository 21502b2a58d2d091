"""Canaries: a token planted in one conversation, so that its appearance in another shows a bleed.

Terms:
- *canary*: ``cn`` followed by 10 lowercase base32 letters (``cnq7kd2mzx4a``): 50 random bits,
  so two conversations of one run practically never share one, and a shape that plain text
  rarely contains by chance. A chat app that answers in prose can only be judged by what its
  text repeats: a conversation's own canary coming back is recall, another's is bleeding.
- *planting*: a scenario step whose query holds the ``{canary}`` placeholder. The virtual user
  makes the conversation's canary there (``make_canary`` with its own seeded RNG) and every op
  of the conversation from then on carries it (``Op.canary``).

The checker imports ``CANARY_PATTERN`` and ``find_canaries`` from here, so that the shape
made and the shape searched for cannot drift apart.
"""

from __future__ import annotations

import random
import re

CANARY_PLACEHOLDER = "canary"              # the scenario placeholder: "Remember {canary}"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case
_LENGTH = 10
CANARY_PATTERN = re.compile(r"\bcn[a-z2-7]{%d}\b" % _LENGTH)


def make_canary(rng: random.Random) -> str:
    """A fresh canary drawn from ``rng`` (the user's seeded RNG: a run is reproducible)."""
    bits = rng.getrandbits(5 * _LENGTH)
    return "cn" + "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in range(_LENGTH))


def find_canaries(text: str) -> tuple[str, ...]:
    """Every canary-shaped token in ``text``, in order of appearance."""
    return tuple(CANARY_PATTERN.findall(text))


def uses_canary(query: str) -> bool:
    """Whether a scenario query plants (or mentions) the conversation's canary."""
    return "{" + CANARY_PLACEHOLDER + "}" in query


__all__ = ["CANARY_PATTERN", "CANARY_PLACEHOLDER", "find_canaries", "make_canary", "uses_canary"]
