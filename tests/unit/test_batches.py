"""Batches close when the stream's queue is drained (or full), never on a timer, and their
events are acknowledged only after the caller is done with them."""
import asyncio

from streams.batches import drained_batches


class FakeStream:
    """What drained_batches uses of a Faust stream: noack(), channel.queue, events(), ack()."""

    def __init__(self):
        self.channel = self
        self.queue: asyncio.Queue = asyncio.Queue()
        self.acked: list = []

    def noack(self):
        return self

    async def events(self):
        while True:
            event = await self.queue.get()
            if event is None:
                return
            yield event

    async def ack(self, event):
        self.acked.append(event)


def run(scenario):
    return asyncio.run(asyncio.wait_for(scenario(), timeout=5))


def test_a_batch_takes_what_waits_and_closes_when_the_queue_is_empty():
    async def scenario():
        stream, seen = FakeStream(), []
        for event in range(7):
            stream.queue.put_nowait(event)
        batches = drained_batches(stream, max_size=5)
        seen.append(await batches.__anext__())  # full at 5
        assert stream.acked == []  # nothing acknowledged while the batch is being handled
        seen.append(await batches.__anext__())  # the 2 left: the queue is empty, so it closes
        assert stream.acked == [0, 1, 2, 3, 4]
        stream.queue.put_nowait(7)  # a lone event later is a batch of its own at once
        seen.append(await batches.__anext__())
        return seen, stream

    seen, stream = run(scenario)
    assert seen == [[0, 1, 2, 3, 4], [5, 6], [7]]
    assert stream.acked == [0, 1, 2, 3, 4, 5, 6]


def test_a_batch_the_caller_never_finishes_is_not_acknowledged():
    async def scenario():
        stream = FakeStream()
        stream.queue.put_nowait("a")
        batches = drained_batches(stream, max_size=10)
        assert await batches.__anext__() == ["a"]
        await batches.aclose()  # the worker stopped while storing it
        return stream

    assert run(scenario).acked == []
