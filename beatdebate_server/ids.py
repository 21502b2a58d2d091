"""Session and request ids (contract, "Sessions" and "Recommendations").

A session id is minted only here, from the OS CSPRNG: 256 random bits, url-safe base64.
Logs must never show an id; they show ``hash_id(id)``.
"""

from __future__ import annotations

import hashlib
import re
import secrets

# A well-formed session id: what a client may send (a UUID a client made up is well-formed).
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
_SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)
_REQUEST_ID_RE = re.compile(REQUEST_ID_PATTERN)


def mint_session_id() -> str:
    return secrets.token_urlsafe(32)


def mint_request_id() -> str:
    return secrets.token_hex(16)


def is_well_formed_session_id(value: str) -> bool:
    return _SESSION_ID_RE.fullmatch(value) is not None


def is_well_formed_request_id(value: str) -> bool:
    return _REQUEST_ID_RE.fullmatch(value) is not None


def hash_id(value: str) -> str:
    """A short, stable, non-reversible stand-in for an id, for logs."""
    return hashlib.blake2s(value.encode(), digest_size=6).hexdigest()
