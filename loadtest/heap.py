"""Keeping a history in memory without the garbage collector rescanning it.

A history (every ``Op`` with its tracks, anchors and recorded turns) is most of the heap of a
process that judges it, holds no reference cycles, and is made of millions of small objects.
The cyclic collector cannot know that: each full collection walks all of it and frees
nothing, and while a history is read back or decoded, the collections it sets off cost
nearly as much as the decoding (reading 100,000 operations back: 2.2 s of CPU with the
collector held, 3.6–4.0 s without). Reference counting frees everything as usual either way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kept_without_gc_scans() -> Iterator[None]:
    """Hold the cyclic collector while the block makes what will be kept (ops read or
    decoded, the checker's tables), then move all of it out of every later scan
    (``gc.freeze``: into the permanent generation, in constant time). The collector's
    previous state is restored. For a process that keeps what it made until it ends (``check``,
    the Locust master); a run's own recording spaces its collections instead
    (``runner._rare_full_collections``)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
