"""infra/heap.py: what a process holds after start-up is frozen once, out of the collector's full passes."""

from __future__ import annotations

import gc

from infra import heap


def test_start_heap_is_frozen_once_and_what_comes_later_is_not() -> None:
    gc.unfreeze()  # whatever an earlier start-up in this test process froze
    heap._frozen = False
    frozen = heap.freeze_start_heap()
    assert frozen == gc.get_freeze_count() > 10_000  # the imports' objects: modules, classes, functions
    later = [[i] for i in range(5_000)]
    assert heap.freeze_start_heap() == frozen  # a second call freezes nothing more: `later` stays collectable
    assert len(later) == 5_000
