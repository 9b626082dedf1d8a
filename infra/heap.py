"""Keep what a process loads at start out of the garbage collector's full passes.

After its imports a process holds some 250,000 objects that live as long as it does (the API: FastAPI's, pydantic's
and SQLAlchemy's schemas and the routes; the worker: the SDK, the domain's rule sets). A full collection walks every
one of them — 70 to 150 ms on the development machine — and under load one runs every few seconds, stalling every
request or workflow task in flight meanwhile. Frozen once start-up is done (`gc.freeze`), they are never walked
again: a full collection walks only what came after. Objects frozen are still freed when nothing refers to them;
only a reference cycle among them would stay, and what start-up leaves is meant to stay.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_start_heap() -> int:
    """Collect, then freeze what is left; once per process (a second call does nothing). The objects frozen."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    return gc.get_freeze_count()
