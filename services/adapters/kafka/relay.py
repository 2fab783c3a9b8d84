"""The outbox relay's Kafka side: publish claimed rows, each exactly once on the wire.

Every message carries its outbox `message_id` in the `radar-message-id` header. Rows that
are in doubt (claimed by a relay that never marked them: a crash between Kafka's
acknowledgement and the database commit) are first looked for on their topic, from a
little before their previous claim to the end; those found are marked sent, not sent
again. Every row has its own outcome: one the broker refuses for good (too large, an
invalid topic, ...) is replaced by a small dead letter that says so and names the row,
and never holds up the rows after it; one that fails for a passing reason stays claimed
and is tried again (in doubt) on the next round.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Hashable, Optional, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka import errors as kafka_errors

from schemas import DeadLetter
from services import metrics
from services.adapters.store.db import utcnow
from services.adapters.store.outbox import MESSAGE_ID_HEADER, OutboxStore, PendingMessage, encode_payload
from services.config import TOPICS
from services.logs import get_logger

log = get_logger("radar.relay")

_REFUSED_FOR_GOOD = (
    kafka_errors.MessageSizeTooLargeError, kafka_errors.RecordTooLargeError, kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError, kafka_errors.UnsupportedForMessageFormatError,
    kafka_errors.CorruptRecordException,
)
READ_BACK_SLACK = timedelta(seconds=30)  # clock differences between this host, the database and the broker
RENEW_EVERY_S = 3.0


class Wire(Protocol):
    """What goes on the wire: an outbox row claimed (PendingMessage) or held (HeldMessage)."""
    topic: str
    key: Optional[bytes]
    value: bytes
    message_id: str


def refused_for_good(error: BaseException) -> bool:
    """True when sending the same bytes again cannot succeed."""
    if isinstance(error, _REFUSED_FOR_GOOD):
        return True
    if isinstance(error, (kafka_errors.KafkaError, asyncio.TimeoutError, OSError)):
        return False  # timeouts, lost connections, leadership changes: a later round succeeds
    return True  # a serialisation error or a defect: the same bytes fail the same way


class Relay:
    """One worker's relay. `db` runs a function on the worker's database thread."""

    def __init__(self, store: OutboxStore, producer: AIOKafkaProducer, kafka_options: dict[str, Any],
                 db: Callable[..., Awaitable]):
        self.store = store
        self.producer = producer
        self.kafka_options = kafka_options  # client_options(settings): to read back what was sent
        self.db = db

    async def relay_once(self, limit: int = 500) -> int:
        """Claim, publish, complete one round; the number of rows done."""
        claimed = await self.db(self.store.claim, limit)
        if not claimed:
            return 0
        in_doubt = [m for m in claimed if m.in_doubt]
        found = await self.already_published(in_doubt) if in_doubt else set()
        if found:
            metrics.RELAY_FOUND_PUBLISHED.inc(len(found))
            log.info("relay_in_doubt_found_published", rows=len(found), in_doubt=len(in_doubt))
        todo = [m for m in claimed if m.message_id not in found]
        sent, replaced, refused = await self.publish(todo)
        sent += [m.id for m in claimed if m.message_id in found]
        await self.db(self.store.complete, sent, replaced, refused)
        return len(sent) + len(replaced)

    async def publish(self, messages: list[PendingMessage]) -> tuple[list[int], dict[int, str], dict[int, str]]:
        """Send every row (for a row refused on an earlier round, its dead letter), then the
        dead letters of the rows the broker refused for good in this round.

        Returns (sent, replaced, refused): acknowledged rows; rows whose dead letter went out
        instead, with the reason; refused rows whose dead letter did not go out yet."""
        first = await self._send_all(messages, self._as_sent)
        sent: list[int] = []
        replaced: dict[int, str] = {}
        refused: dict[int, str] = {}
        for m in messages:
            error = first[m.id]
            if error is None:
                (replaced.__setitem__(m.id, m.failed_reason) if m.failed_reason else sent.append(m.id))
            elif not m.failed_reason and refused_for_good(error):
                refused[m.id] = _refusal(m, error)
            else:
                log.warning("outbox_send_failed_will_retry", row=m.id, error=type(error).__name__)
        if refused:
            newly = [m for m in messages if m.id in refused]
            metrics.OUTBOX_REFUSED.inc(len(newly))
            log.error("outbox_refused_by_broker", rows=[m.id for m in newly],
                      errors=sorted({type(first[m.id]).__name__ for m in newly}))
            second = await self._send_all([_replacement(m, refused[m.id]) for m in newly], lambda m: m)
            for row_id, error in second.items():
                if error is None:
                    replaced[row_id] = refused.pop(row_id)
        for m in messages:
            if m.id in sent:
                metrics.OUTBOX_PUBLISHED.labels(topic=m.topic).inc()
        return sent, replaced, refused

    def _as_sent(self, message: PendingMessage) -> PendingMessage:
        return _replacement(message, message.failed_reason) if message.failed_reason else message

    async def _send_all(self, messages: list[PendingMessage],
                        as_sent: Callable[[PendingMessage], PendingMessage]) -> dict[int, Optional[BaseException]]:
        """Send in order, then wait for each acknowledgement, renewing the claim meanwhile.
        Each row gets its own outcome (None = acknowledged)."""
        return await send_all(self.producer, [(m.id, as_sent(m)) for m in messages],
                              lambda ids: self.db(self.store.renew, ids))

    async def already_published(self, messages: list[PendingMessage]) -> set[str]:
        """The message ids among these that are on their topics already: read every
        partition of each topic from a little before the earliest previous claim to its end."""
        wanted = {m.message_id for m in messages}
        since = min((m.previous_claim_at or m.created_at) for m in messages) - READ_BACK_SLACK
        topics = sorted({m.topic for m in messages} | ({TOPICS.dead_letters} if any(m.failed_reason for m in messages)
                                                        else set()))
        consumer = AIOKafkaConsumer(**self.kafka_options, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", request_timeout_ms=15000)
        await consumer.start()
        try:
            return wanted & await _message_ids_since(consumer, topics, since)
        finally:
            await consumer.stop()


async def send_all(producer: AIOKafkaProducer, messages: list[tuple[Hashable, Wire]],
                   renew: Callable[[list], Awaitable]) -> dict[Any, Optional[BaseException]]:
    """Send each (handle, message) in order, then wait for each acknowledgement, calling
    `renew` with the handles still awaited every few seconds. Each handle gets its own
    outcome (None = acknowledged)."""
    outcomes, pending = await enqueue(producer, messages)
    return await acknowledged(outcomes, pending, renew)


async def enqueue(producer: AIOKafkaProducer, messages: list[tuple[Hashable, Wire]]
                  ) -> tuple[dict[Any, Optional[BaseException]], list[tuple[Hashable, asyncio.Future]]]:
    """Hand each message to the producer in order, without waiting for acknowledgements:
    the outcomes known already (refused before sending), and the acknowledgements to wait for."""
    outcomes: dict[Any, Optional[BaseException]] = {}
    pending: list[tuple[Hashable, asyncio.Future]] = []
    for handle, wire in messages:
        try:
            future = await producer.send(wire.topic, value=wire.value, key=wire.key,
                                         headers=[(MESSAGE_ID_HEADER, wire.message_id.encode())])
            pending.append((handle, future))
        except Exception as exc:  # refused before sending (too large) or the producer is down
            outcomes[handle] = exc
    return outcomes, pending


async def acknowledged(outcomes: dict[Any, Optional[BaseException]], pending: list[tuple[Hashable, asyncio.Future]],
                       renew: Callable[[list], Awaitable]) -> dict[Any, Optional[BaseException]]:
    waiting = {asyncio.ensure_future(_outcome(future)): handle for handle, future in pending}
    while waiting:
        done, _ = await asyncio.wait(waiting, timeout=RENEW_EVERY_S)
        for task in done:
            outcomes[waiting.pop(task)] = task.result()
        if waiting:
            await renew(list(waiting.values()))
    return outcomes


async def _outcome(future: Awaitable) -> Optional[BaseException]:
    try:
        await future
        return None
    except Exception as exc:
        return exc


async def _message_ids_since(consumer: AIOKafkaConsumer, topics: list[str], since: datetime) -> set[str]:
    partitions = []
    for topic in topics:
        for p in await _partitions(consumer, topic):
            partitions.append(TopicPartition(topic, p))
    if not partitions:
        return set()
    consumer.assign(partitions)
    starts = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
    ends = await consumer.end_offsets(partitions)
    remaining = {tp: ends[tp] for tp in partitions if starts.get(tp) is not None and starts[tp].offset < ends[tp]}
    if not remaining:
        return set()
    consumer.assign(list(remaining))
    for tp in remaining:
        consumer.seek(tp, starts[tp].offset)
    found: set[str] = set()
    deadline = time.monotonic() + 60
    while remaining and time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
        for tp, records in batch.items():
            for record in records:
                for name, value in record.headers or ():
                    if name == MESSAGE_ID_HEADER:
                        found.add(value.decode("utf-8", errors="replace"))
                if tp in remaining and record.offset + 1 >= remaining[tp]:
                    del remaining[tp]
    if remaining:
        raise TimeoutError("could not read the output topics back within 60 s")
    return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[int]:
    for _ in range(20):
        found = consumer.partitions_for_topic(topic)
        if found:
            return sorted(found)
        await consumer._client.force_metadata_update()  # aiokafka fetches metadata lazily
        await asyncio.sleep(0.1)
    return []


def _refusal(message: PendingMessage, error: Optional[BaseException]) -> str:
    size = len(message.value)
    return (f"the broker refused outbox row {message.id} ({message.message_id}) for {message.topic} for good: "
            f"{type(error).__name__} ({size:,} bytes); it is kept in the database's outbox table")


def _replacement(message: PendingMessage, reason: str) -> PendingMessage:
    """A small dead letter in place of a message the broker will not take."""
    key = message.key.decode("utf-8", "replace") if message.key is not None else None
    letter = DeadLetter(topic=message.topic, partition=None, offset=None, key=key,
                        value=None, error=reason, failed_at=utcnow(), outbox_row=message.id,
                        message_id=message.message_id)
    return PendingMessage(id=message.id, topic=TOPICS.dead_letters, key=message.key,
                          value=encode_payload(letter.model_dump(mode="json")),
                          message_id=f"{message.message_id}-refused", created_at=message.created_at)
