"""The direct relay: a batch's outbox rows on Kafka the moment the batch commits.

A worker's batch writes its outbox rows already held by this relay (claimed_by its token,
attempts 1; adapters.store.writer), so nobody else takes them while it publishes them, and
there is no claim query on the way: the rows go out in the order they were written, the
next batch is stored while Kafka acknowledges these, and the acknowledged rows are marked
sent together, in one transaction per round, not one per batch.

The claiming relay (relay.Relay) stays the safety net, and nothing here can repeat a
message: a row this relay cannot publish is let go of, and a row whose worker died keeps
its hold until the lease runs out; either way it is claimed *in doubt* (attempts 1) and
read back from its topic before it is sent again. A row whose hold is already half-way
through its lease when its batch commits (a long role batch) is let go of at once rather
than raced against the lease.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from aiokafka import AIOKafkaProducer

from services import metrics
from services.adapters.kafka.relay import acknowledged, enqueue
from services.adapters.store.db import utcnow
from services.adapters.store.outbox import HeldMessage, OutboxStore, is_erasure_notice
from services.errors import log_fields
from services.logs import get_logger

log = get_logger("radar.relay")
STOP_GRACE_S = 5.0


class DirectRelay:
    """`store` is an OutboxStore whose relay_id is the hold token the batches write;
    `db` runs a function on the worker's database thread; `let_go` wakes the claiming relay."""

    def __init__(self, store: OutboxStore, producer: Callable[[], Awaitable[AIOKafkaProducer]],
                 db: Callable[..., Awaitable], let_go: Callable[[], None]):
        self.store, self.producer, self.db, self.let_go = store, producer, db, let_go
        self.batches: asyncio.Queue[list[HeldMessage]] = asyncio.Queue()
        self.sent: list[HeldMessage] = []
        self.released: list[str] = []
        self.to_settle = asyncio.Event()
        self.waiting: set[asyncio.Task] = set()

    def hand(self, messages: list[HeldMessage]) -> None:
        """A committed batch's held rows, to publish now."""
        if messages:
            self.batches.put_nowait(list(messages))

    async def run(self) -> None:
        """Publish and settle until cancelled; on the way out, settle what was acknowledged."""
        settling = asyncio.ensure_future(self._settle_forever())
        try:
            await self._send_forever()
        finally:
            if self.waiting:  # acknowledgements on their way: a short grace, then the lease covers them
                await asyncio.wait(self.waiting, timeout=STOP_GRACE_S)
            settling.cancel()
            await asyncio.gather(settling, return_exceptions=True)
            await self._settle_once()

    async def _send_forever(self) -> None:
        producer = await self.producer()
        while True:
            messages = await self.batches.get()
            fresh = self._fresh(messages)
            if not fresh:
                continue
            outcomes, pending = await enqueue(producer, [(m.message_id, m) for m in fresh])
            task = asyncio.ensure_future(self._acknowledge(fresh, outcomes, pending))
            self.waiting.add(task)
            task.add_done_callback(self.waiting.discard)

    def _fresh(self, messages: list[HeldMessage]) -> list[HeldMessage]:
        """The rows whose hold has at least half its lease left; the others are let go of."""
        limit = utcnow() - self.store.lease / 2
        stale = [m.message_id for m in messages if m.held_at < limit]
        if stale:
            log.info("relay_hold_too_old_let_go", rows=len(stale))
            self._release(stale)
        return [m for m in messages if m.held_at >= limit]

    async def _acknowledge(self, messages: list[HeldMessage], outcomes: dict, pending: list) -> None:
        outcomes = await acknowledged(outcomes, pending, lambda ids: self.db(self.store.renew_held, ids))
        failed = [m.message_id for m in messages if outcomes.get(m.message_id) is not None]
        if failed:
            errors = sorted({type(outcomes[mid]).__name__ for mid in failed})
            log.warning("relay_direct_send_failed_let_go", rows=len(failed), errors=errors)
            self._release(failed)
        self.sent += [m for m in messages if outcomes[m.message_id] is None]
        self.to_settle.set()

    def _release(self, message_ids: list[str]) -> None:
        self.released += message_ids
        self.to_settle.set()

    async def _settle_forever(self) -> None:
        while True:
            await self.to_settle.wait()
            self.to_settle.clear()
            try:
                await self._settle_once()
            except Exception as exc:  # the rows stay held; the next round (or the lease) settles them
                log.warning("relay_settle_failed", **log_fields(exc))
                self.to_settle.set()
                await asyncio.sleep(1.0)

    async def _settle_once(self) -> None:
        sent, released = self.sent, self.released
        if not sent and not released:
            return
        self.sent, self.released = [], []
        try:
            erasures = tuple(m.message_id for m in sent if is_erasure_notice(m.topic))
            await self.db(self.store.settle_held, [m.message_id for m in sent], released, erasures)
        except BaseException:
            self.sent, self.released = sent + self.sent, released + self.released
            raise
        for message in sent:
            metrics.OUTBOX_PUBLISHED.labels(topic=message.topic).inc()
        if released:
            self.let_go()


def held_token(relay_id: str) -> str:
    """The claimed_by of rows held by a worker's direct relay: not its claiming relay's id, so
    that one never takes them as its own while they are being published."""
    return f"{relay_id[:190]}/direct"
