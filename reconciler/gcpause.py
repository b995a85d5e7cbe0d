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
    (a third of the load time at that size). Anything cyclic made meanwhile is
    collected once the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
