"""GcPolicy: a slow full collection that frees (almost) nothing freezes the long-lived objects it
walked, so the next full collection skips them; a thaw undoes it; stop() thaws and unhooks."""
from __future__ import annotations

import asyncio
import gc
import time

from fastkafka.gc_policy import GcPolicy


def test_slow_full_collection_freezes_long_lived_objects_then_thaws() -> None:
    async def main() -> tuple[GcPolicy, float, float, int, int]:
        gc.collect()  # earlier tests' garbage: a collection that frees much is not a freeze signal
        policy = GcPolicy(asyncio.get_running_loop(), slow_s=0.001, thaw_interval_s=3600).start()
        state = [[i] for i in range(400_000)]  # long-lived tracked containers, as a broker's logs
        t = time.perf_counter()
        gc.collect(2)
        before = time.perf_counter() - t
        await asyncio.sleep(0.01)  # the freeze runs on the loop, after the collection
        frozen = gc.get_freeze_count()
        t = time.perf_counter()
        gc.collect(2)
        after = time.perf_counter() - t
        policy._unfreeze()  # what the thaw timer does every thaw_interval_s
        thawed = gc.get_freeze_count()
        policy.stop()
        del state
        return policy, before, after, frozen, thawed

    policy, before, after, frozen, thawed = asyncio.run(main())
    try:
        assert policy.freezes >= 1 and frozen >= 400_000
        print(f"full collection {before * 1000:.1f} ms before the freeze, {after * 1000:.1f} ms after")
        assert policy.thaws >= 1 and thawed < frozen
        assert policy._on_gc not in gc.callbacks
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
