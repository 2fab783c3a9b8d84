"""Webhook deliveries per second and alert-to-delivery latency of `radar notifier`, beside a
bare async HTTP client posting the same payloads to the same receiver, in one run.

    python benchmarks/notifier.py [--deliveries 5000] [--database-url URL]

1. A receiver (uvicorn, one process of its own) answers 200 and records when each
   X-Radar-Delivery arrived.
2. Bare: httpx.AsyncClient posts the payloads with as many connections at a time as the
   notifier allows one target (RADAR_NOTIFIER_PER_TARGET, 8 by default); the better of two runs.
3. Notifier, throughput: the deliveries are planned in the store (one webhook
   subscription), a `radar notifier` process is started, and the time from its first
   delivery to its last is taken.
4. Notifier, latency: alerts are produced on match-alerts at half that rate, each with
   created_at = the moment it is produced; p50 / p99 of arrival - created_at.
Nothing is asserted; the aim (issue 10) is at least half the bare client's rate and p99
under 200 ms at half that rate.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from timing import machine_line  # noqa: E402  (benchmarks/, the script's own folder)

from services.adapters.kafka.local_broker import LocalKafka, free_port  # noqa: E402
from services.config import Settings  # noqa: E402

RECEIVER = '''
import time
arrived = {}
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "GET":
        import json
        out = json.dumps(arrived).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})
        return
    headers = dict(scope["headers"])
    arrived.setdefault(headers.get(b"x-radar-delivery", b"?").decode(), time.time())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})
'''
SECRET = "whsec-benchmark-0123456789"


def alert(i: int, created_at: str) -> dict:
    return {"type": "match.alert", "alert_id": f"al-{i:07d}", "role_id": f"r-{i % 50}", "candidate_id": f"c-{i}",
            "fit": 0.82, "readiness": 0.6, "reasons": [{"kind": "skill", "text": "has Kafka (must-have)"}] * 4,
            "signals": ["new_skill"], "triggered_by": f"e-{i}", "created_at": created_at, "schema_version": 1}


async def bare(url: str, payloads: list[bytes], connections: int) -> float:
    limit = asyncio.Semaphore(connections)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections,
                                                     max_keepalive_connections=connections)) as client:
        async def one(i: int, body: bytes):
            async with limit:
                await client.post(url, content=body, headers={"X-Radar-Delivery": f"bare-{i}",
                                                              "Content-Type": "application/json"})
        start = time.perf_counter()
        await asyncio.gather(*(one(i, b) for i, b in enumerate(payloads)))
        return time.perf_counter() - start


def arrivals(url: str) -> dict[str, float]:
    return httpx.get(url, timeout=30).json()


async def produce(bootstrap: str, topic: str, count: int, rate: float, offset: int) -> None:
    from aiokafka import AIOKafkaProducer
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
    await producer.start()
    try:
        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            now = time.time()
            _PRODUCED[f"al-{offset + i:07d}"] = now
            body = json.dumps(alert(offset + i, _iso(now))).encode()
            await producer.send(topic, body, key=f"r-{i % 50}".encode())
        await producer.flush()
    finally:
        await producer.stop()


def _iso(epoch: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    n = args.deliveries
    print(machine_line(f"{n:,} webhook deliveries to a local receiver"), flush=True)
    work = Path(tempfile.mkdtemp())
    (work / "receiver.py").write_text(RECEIVER)
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "uvicorn", "receiver:app", "--port", str(port),
                                 "--log-level", "warning"], cwd=work)
    broker = LocalKafka(Settings.from_env().kafka_home, port=free_port())
    notifier = None
    try:
        broker.up()
        time.sleep(1.5)
        url = f"http://127.0.0.1:{port}/hook"
        payloads = [json.dumps(alert(i, _iso(time.time()))).encode() for i in range(n)]
        per_target = Settings.from_env().notifier_per_target
        time.sleep(5)  # the broker's start-up is over
        bare_s = min(asyncio.run(bare(url, payloads, per_target)) for _ in range(2))  # the better of two
        database_url = args.database_url or f"sqlite:///{work / 'radar.db'}"
        prefix = f"nb{os.getpid()}-"
        env = dict(os.environ, RADAR_DATABASE_URL=database_url, RADAR_KAFKA_BOOTSTRAP=broker.bootstrap,
                   RADAR_TOPIC_PREFIX=prefix, RADAR_APP_ID=f"radar-{prefix}", RADAR_LOG_LEVEL="WARNING",
                   PYTHONPATH=str(REPO))
        planned_at = _plan(database_url, url, n)
        notifier = subprocess.Popen([sys.executable, "-m", "services.cli", "notifier"], env=env, cwd=REPO)
        seen = _wait(url, lambda got: sum(1 for k in got if k.startswith("al-")) >= n, 300)
        times = sorted(t for k, t in seen.items() if k.startswith("al-"))
        notifier_s = times[-1] - times[0]
        rate = n / notifier_s
        paced = max(10, min(n, int(rate / 2 * 10)))  # ten seconds at half the rate
        asyncio.run(produce(broker.bootstrap, f"{prefix}match-alerts", paced, rate / 2, offset=n))
        seen = _wait(url, lambda got: sum(1 for k in got if k.startswith("al-")) >= n + paced, 120)
        latencies = [(seen[key] - produced) * 1000 for key, produced in _PRODUCED.items() if key in seen]
        print()
        print(f"bare httpx client, {per_target} at a time:    {n / bare_s:8,.0f} deliveries/s  ({n:,} in {bare_s:.1f} s)")
        print(f"radar notifier (planned {planned_at:.1f} s):  {rate:8,.0f} deliveries/s  ({n:,} in {notifier_s:.1f} s)"
              f"  = {rate / (n / bare_s):.0%} of bare")
        print(f"latency at {rate / 2:,.0f}/s (half the notifier's rate), {len(latencies)}/{paced} arrived: "
              f"p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
              f"max {max(latencies):.0f} ms")
        return 0
    finally:
        if notifier:
            notifier.terminate()
            notifier.wait(timeout=30)
        receiver.terminate()
        broker.down()


_PRODUCED: dict[str, float] = {}  # alert id -> when it was produced (its created_at)


def _plan(database_url: str, url: str, n: int) -> float:
    """The deliveries as the notifier would have planned them for consumed alerts."""
    from services.adapters.store.db import make_engine, make_session_factory, upgrade, utcnow
    from services.app.notifier import Notifier
    from services.app.subscriptions import SubscriptionIn, subscribe

    upgrade(database_url)
    sessions = make_session_factory(make_engine(database_url))
    subscribe(sessions, SubscriptionIn.model_validate({"channel": "webhook", "url": url, "secret": SECRET}))
    start = time.perf_counter()
    notifier = Notifier(sessions, "http://radar.example")
    created = utcnow().isoformat()
    for first in range(0, n, 500):
        notifier.plan([alert(i, created) for i in range(first, min(n, first + 500))])
    return time.perf_counter() - start


def _wait(url: str, done, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    got: dict[str, float] = {}
    while time.monotonic() < deadline:
        got = arrivals(url)
        if done(got):
            break
        time.sleep(0.5)
    return got


if __name__ == "__main__":
    sys.exit(main())
