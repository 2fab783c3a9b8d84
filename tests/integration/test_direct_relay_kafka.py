"""The direct relay against the real broker and real databases: rows a batch wrote held are
published once, without a claim, and marked sent; the claiming relay never takes them while
they are held; a row let go of (too old a hold, a refused send) is read back in doubt by the
claiming relay and never published twice."""
import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from aiokafka import AIOKafkaProducer

from schemas.topics import Topics
from services.adapters.kafka.direct_relay import DirectRelay, held_token
from services.adapters.kafka.relay import Relay
from services.adapters.store.outbox import MESSAGE_ID_HEADER, OutboxStore
from services.adapters.store.writer import BatchWriter
from services.domain.transitions import Outgoing
from tests.integration.test_relay_kafka import direct, fresh_topic, read_all, rows

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(kafka_bootstrap):
    return fresh_topic(kafka_bootstrap)


def write_held(sessions, topic_name, payloads, holder, held_at=None):
    """Outbox rows as a worker's batch writes them: held by its direct relay."""
    with sessions.begin() as session:
        writer = BatchWriter(session, Topics(""), datetime.now(timezone.utc), holder)
        for index, payload in enumerate(payloads):
            writer.add_message(Outgoing(topic_name, f"k-{index}", payload["id"], payload))
        writer.flush()
        written = writer.written
    if held_at is not None:  # a batch that ran long: its hold is older than the commit
        written = [type(m)(m.topic, m.key, m.message_id, m.payload, held_at) for m in written]
    return written


async def publish_directly(bootstrap, sessions, relay_id, batches, lease_s=10.0):
    """Hand batches to a direct relay, let it publish and settle, then stop it."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    let_go = asyncio.Event()

    async def started():
        return producer

    relay = DirectRelay(OutboxStore(sessions, held_token(relay_id), lease_s), started, direct, let_go.set)
    running = asyncio.ensure_future(relay.run())
    try:
        for batch in batches:
            relay.hand(batch)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if relay.batches.empty() and not relay.waiting and not relay.sent and not relay.released:
                break
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await producer.stop()
    return let_go.is_set()


async def claim_round(bootstrap, sessions, relay_id, lease_s=10.0):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        return await Relay(OutboxStore(sessions, relay_id, lease_s), producer, {"bootstrap_servers": bootstrap},
                           direct).relay_once()
    finally:
        await producer.stop()


def published_ids(bootstrap, topic_name):
    records = asyncio.run(read_all(bootstrap, topic_name))
    assert all(dict(r.headers)[MESSAGE_ID_HEADER].decode() == json.loads(r.value)["id"] for r in records)
    return [json.loads(r.value)["id"] for r in records]


def test_held_rows_are_published_in_order_once_and_marked_sent(kafka_bootstrap, sessions, topic):
    first = write_held(sessions, topic, [{"id": f"a-{i}"} for i in range(4)], held_token("worker-0"))
    second = write_held(sessions, topic, [{"id": f"b-{i}"} for i in range(3)], held_token("worker-0"))
    stored = rows(sessions)
    assert all(r.claimed_by == "worker-0/direct" and r.attempts == 1 and r.sent_at is None for r in stored.values())
    # The claiming relays, this worker's own included, leave held rows alone.
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-0")) == 0
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-1")) == 0

    let_go = asyncio.run(publish_directly(kafka_bootstrap, sessions, "worker-0", [first, second]))

    assert not let_go
    ids = published_ids(kafka_bootstrap, topic)
    assert sorted(ids) == sorted([f"a-{i}" for i in range(4)] + [f"b-{i}" for i in range(3)])
    assert all(r.sent_at is not None and r.claimed_by is None for r in rows(sessions).values())
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-1", lease_s=0)) == 0  # nothing left


def test_a_hold_too_old_to_race_its_lease_is_let_go_and_claimed_in_doubt(kafka_bootstrap, sessions, topic):
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=8)  # more than half a 10 s lease
    batch = write_held(sessions, topic, [{"id": "o-0"}, {"id": "o-1"}], held_token("worker-0"), held_at=long_ago)

    let_go = asyncio.run(publish_directly(kafka_bootstrap, sessions, "worker-0", [batch]))

    assert let_go  # the claiming relay was woken for them
    assert published_ids(kafka_bootstrap, topic) == []
    stored = rows(sessions)
    assert all(r.claimed_by is None and r.attempts == 1 and r.sent_at is None for r in stored.values())
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-0")) == 2  # read back (in doubt), then sent
    assert sorted(published_ids(kafka_bootstrap, topic)) == ["o-0", "o-1"]


def test_a_worker_that_dies_holding_rows_leaves_them_to_the_lease(kafka_bootstrap, sessions, topic):
    write_held(sessions, topic, [{"id": "d-0"}], held_token("worker-dead"))
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-1")) == 0  # held: the lease runs
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-1", lease_s=0)) == 1
    assert published_ids(kafka_bootstrap, topic) == ["d-0"]


def test_a_row_the_broker_refuses_is_let_go_to_the_claiming_relay_which_dead_letters_it(
        kafka_bootstrap, sessions, topic):
    huge = {"id": "h-huge", "text": '"' * 1_100_000}  # escaped, over the broker's 1 MB limit
    batch = write_held(sessions, topic, [{"id": "h-0"}, huge, {"id": "h-1"}], held_token("worker-0"))

    assert asyncio.run(publish_directly(kafka_bootstrap, sessions, "worker-0", [batch]))

    assert sorted(published_ids(kafka_bootstrap, topic)) == ["h-0", "h-1"]
    stored = rows(sessions)
    assert stored["h-huge"].sent_at is None and stored["h-huge"].claimed_by is None
    assert asyncio.run(claim_round(kafka_bootstrap, sessions, "worker-0")) == 1
    assert "MessageSizeTooLargeError" in rows(sessions)["h-huge"].failed_reason
    assert sorted(published_ids(kafka_bootstrap, topic)) == ["h-0", "h-1"]  # the others not again
