"""Pausing the cyclic garbage collector while large acyclic structures are built."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the block. Building a catalog or a
    listing of 100,000 products makes millions of objects, none in cycles, and
    CPython's collector would traverse those built so far again and again
    (a third of the load time at that size).

    What the block made then goes straight to the oldest generation, as if it
    had survived the young collections: otherwise the collector,
    re-enabled, first traverses every one of those objects (tens of
    milliseconds per 10,000 products). Cyclic garbage made in the block (a
    listing's HTTP responses) then waits for the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
