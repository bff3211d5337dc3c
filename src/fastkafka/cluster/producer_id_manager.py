"""ProducerIdManager: hands out producer ids from blocks the controller allocates.

Kafka's RPCProducerIdManager: the controller owns the next-block counter (ProducerIdsRecord in the
metadata log, so ids are never reused across restarts or nodes); each broker takes blocks of 1000
and hands ids out locally. Owner: the event-loop thread; one block request in flight at a time.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastkafka.protocol.errors import Errors, KafkaError

AllocateFn = Callable[[], Awaitable[tuple[int, int]]]


class ProducerIdManager:
    def __init__(self, allocate_block: AllocateFn) -> None:
        self._allocate_block = allocate_block
        self._next = 0
        self._end = 0  # exclusive
        self._lock = asyncio.Lock()

    async def generate_producer_id(self) -> int:
        if self._next >= self._end:
            async with self._lock:
                if self._next >= self._end:
                    try:
                        first, size = await self._allocate_block()
                    except KafkaError:
                        raise
                    except Exception as e:  # the controller could not write the block
                        raise KafkaError(Errors.COORDINATOR_LOAD_IN_PROGRESS, str(e)) from e
                    self._next, self._end = first, first + size
        pid = self._next
        self._next += 1
        return pid
