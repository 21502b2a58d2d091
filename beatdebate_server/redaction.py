"""Secrets out of URLs and text: what a message, a log line or an error may show of a
store URL (issue 16).

redis-py takes credentials in three places of a URL, and all three are redacted:

- *userinfo*: ``redis://user:password@host``, ``redis://:password@host`` and
  ``redis://password@host`` (redis-py reads a lone name as a username, a server may take it
  as a password): the whole userinfo becomes ``***``;
- *query*: ``?password=…``, ``?username=…`` and any other parameter whose name holds
  ``pass``, ``user``, ``secret``, ``token`` or ``auth`` (``ssl_password``, say): each
  value becomes ``***``;
- a *fragment*, which no URL of ours needs, is dropped to ``#***``.

The host, port, database and the other parameters stay: an operator needs them in the
logs. Public answers say none of this (``http/``: "session store unavailable").
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

MASK = "***"
_SECRET_NAME = re.compile(r"pass|user|secret|token|auth", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# Punctuation that ends a sentence rather than the URL before it.
_TRAILING = ".,;:)]"


def redact_url(url: str) -> str:
    """``url`` with every credential masked; anything that is not a URL, unchanged."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable (a bad port, say): keep nothing past the scheme
        return f"{url.partition('://')[0]}://{MASK}"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(_redact_parameter(pair) for pair in parts.query.split("&")) \
        if parts.query else ""
    fragment = MASK if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through ``redact_url``."""
    if "://" not in text:  # the common case, a line that names no URL, costs one scan
        return text
    return _URL_IN_TEXT.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    found = match.group(0)
    url = found.rstrip(_TRAILING)
    return redact_url(url) + found[len(url):]


def _redact_parameter(pair: str) -> str:
    # redis-py decodes parameter names (``%70assword`` is ``password``), so this does too.
    raw_name, _, _ = pair.partition("=")
    return f"{raw_name}={MASK}" if _SECRET_NAME.search(unquote_plus(raw_name)) else pair


__all__ = ["MASK", "redact_text", "redact_url"]
