"""The outbox relay against the real broker and real databases: one refused row never holds
up the others, and a row in doubt after a crash is read back, not sent twice."""
import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from sqlalchemy import select

from services.adapters.kafka.relay import Relay
from services.adapters.store.models import OutboxMessage
from services.adapters.store.outbox import MESSAGE_ID_HEADER, OutboxStore
from services.config import TOPICS

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


async def direct(fn, *args):
    return fn(*args)


def add_rows(sessions, topic, payloads):
    with sessions.begin() as session:
        for index, payload in enumerate(payloads):
            session.add(OutboxMessage(topic=topic, key=f"k-{index}", message_id=payload["id"], payload=payload,
                                      created_at=datetime.now(timezone.utc)))


def rows(sessions):
    with sessions() as session:
        return {r.message_id: r for r in session.scalars(select(OutboxMessage))}


async def read_all(bootstrap, topic):
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
        if not parts:
            return []
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        out = []
        remaining = {tp for tp in parts if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                out.extend(records)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def with_relay(bootstrap, sessions, relay_id, body, lease_s=10.0):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        return await body(Relay(OutboxStore(sessions, relay_id, lease_s), producer, {"bootstrap_servers": bootstrap}, direct))
    finally:
        await producer.stop()


@pytest.fixture
def topic(kafka_bootstrap):
    return fresh_topic(kafka_bootstrap)


def fresh_topic(kafka_bootstrap):
    """A fresh topic of 3 partitions, and the dead-letters topic (the broker creates none itself)."""
    name = f"relay-test-{uuid.uuid4().hex[:8]}"

    async def create():
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [NewTopic(t, 3, 1) for t in (name, TOPICS.dead_letters) if t not in existing]
            await admin.create_topics(wanted)
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    asyncio.run(create())
    return name


def test_a_row_the_broker_refuses_is_replaced_by_a_small_dead_letter_and_holds_up_nothing(
        kafka_bootstrap, sessions, topic):
    huge = {"id": "m-huge", "text": '"' * 1_100_000}  # escaped, over the broker's 1 MB limit
    add_rows(sessions, topic, [{"id": "m-1"}, huge, {"id": "m-2"}])

    async def rounds(relay):
        first = await relay.relay_once()
        second = await relay.relay_once()
        return first, second

    first, second = asyncio.run(with_relay(kafka_bootstrap, sessions, "relay-a", rounds))
    assert (first, second) == (3, 0)  # everything done in one round; nothing sent again
    published = asyncio.run(read_all(kafka_bootstrap, topic))
    assert sorted(json.loads(r.value)["id"] for r in published) == ["m-1", "m-2"]
    stored = rows(sessions)
    assert all(stored[m].sent_at is not None for m in ("m-1", "m-2", "m-huge"))
    assert "MessageSizeTooLargeError" in stored["m-huge"].failed_reason
    letters = [json.loads(r.value) for r in asyncio.run(read_all(kafka_bootstrap, TOPICS.dead_letters))]
    [letter] = [l for l in letters if l.get("message_id") == "m-huge" and l["topic"] == topic]
    assert letter["outbox_row"] == stored["m-huge"].id and letter["topic"] == topic and letter["value"] is None
    assert "outbox table" in letter["error"]


def test_rows_in_doubt_after_a_crash_are_read_back_not_sent_again(kafka_bootstrap, sessions, topic):
    add_rows(sessions, topic, [{"id": f"d-{i}"} for i in range(5)])

    async def crash_after_acks(relay):
        """A relay that claims, sends, is acknowledged, and dies before marking the rows sent."""
        claimed = await relay.db(relay.store.claim, 3)
        outcomes = await relay._send_all(claimed, relay._as_sent)
        assert all(outcome is None for outcome in outcomes.values())
        return [m.message_id for m in claimed]

    crashed = asyncio.run(with_relay(kafka_bootstrap, sessions, "relay-dead", crash_after_acks))
    assert crashed == ["d-0", "d-1", "d-2"]

    async def takeover(relay):
        return await relay.relay_once()

    # another relay may not take the rows while the dead one's lease runs ...
    assert asyncio.run(with_relay(kafka_bootstrap, sessions, "relay-b", takeover)) == 2
    # ... and takes them, in doubt, once it has run out
    assert asyncio.run(with_relay(kafka_bootstrap, sessions, "relay-b", takeover, lease_s=0)) == 3
    published = asyncio.run(read_all(kafka_bootstrap, topic))
    ids = [json.loads(r.value)["id"] for r in published]
    assert sorted(ids) == [f"d-{i}" for i in range(5)]  # each exactly once
    assert all(dict(r.headers)[MESSAGE_ID_HEADER].decode() == json.loads(r.value)["id"] for r in published)
    assert all(r.sent_at is not None for r in rows(sessions).values())


def test_the_same_relay_restarted_checks_its_own_unfinished_rows_at_once(kafka_bootstrap, sessions, topic):
    """A worker restarted with its stable id (static membership) need not wait for its lease."""
    add_rows(sessions, topic, [{"id": "s-0"}, {"id": "s-1"}])

    async def crash_after_acks(relay):
        claimed = await relay.db(relay.store.claim, 1)
        await relay._send_all(claimed, relay._as_sent)

    asyncio.run(with_relay(kafka_bootstrap, sessions, "worker-0", crash_after_acks))
    assert asyncio.run(with_relay(kafka_bootstrap, sessions, "worker-0", lambda r: r.relay_once())) == 2
    ids = sorted(json.loads(r.value)["id"] for r in asyncio.run(read_all(kafka_bootstrap, topic)))
    assert ids == ["s-0", "s-1"]


def test_a_relay_waiting_for_acknowledgements_keeps_its_claim(sessions):
    store = OutboxStore(sessions, "relay-a", lease_s=10)
    add_rows(sessions, "t", [{"id": "r-0"}])
    [claimed] = store.claim(10, now=datetime.now(timezone.utc) - timedelta(seconds=9))
    store.renew([claimed.id])
    assert OutboxStore(sessions, "relay-b", lease_s=10).claim(10) == []  # renewed: still held
    [again] = OutboxStore(sessions, "relay-b", lease_s=10).claim(10, now=datetime.now(timezone.utc)
                                                                 + timedelta(seconds=11))
    assert again.in_doubt and again.id == claimed.id
