"""Batches that close when the stream's queue is drained, not on a timer.

A batch takes the events already fetched and waiting in the stream's queue, up to
`max_size`, and closes the moment that queue is empty. One event alone is handled at once
(no waiting for company); under load the queue fills while a batch is stored, so the next
batch is larger and the per-batch costs (queries, the commit) are shared by more events.
"""
from __future__ import annotations

from typing import Any, AsyncIterator


async def drained_batches(stream: Any, max_size: int) -> AsyncIterator[list]:
    """The stream's events in lists. Each event is acknowledged only after the caller is done
    with its list (the offsets Faust commits never run ahead of what is stored); a list the
    caller does not finish (the worker stops or dies) is delivered again."""
    manual = stream.noack()
    queue = manual.channel.queue
    batch: list = []
    async for event in manual.events():
        batch.append(event)
        if len(batch) < max_size and not queue.empty():
            continue
        yield batch
        for done in batch:
            await manual.ack(done)
        batch = []
