"""Server time of every web page at 100,000 candidates and 10,000 roles, beside bare JSON.

    python benchmarks/pages.py [--candidates 100000] [--roles 10000] [--leads 100000] [--database-url URL]

Builds the store of benchmarks/triage.py (SQLite in a temp dir unless --database-url names an
EMPTY database) with the extra roles, signs in, then asks each page through the ASGI app in
this process (routing, the reads, the template: what the server spends; no network) and, in
the same run, the JSON API's `/inbox` and the bare `/livez`. The median of 15 runs each.
Nothing is asserted; the aim is every page under 200 ms.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402
from timing import machine_line  # noqa: E402  (benchmarks/, the script's own folder)
from triage import NOW, build  # noqa: E402

from services.adapters.store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from services.adapters.store.models import RoleSpecRow  # noqa: E402
from services.app.access import create_key  # noqa: E402
from services.config import Settings  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)
AIM_MS = 200


def more_roles(sessions, total: int) -> None:
    """Roles beyond triage.build's 1,000, with specs a page shows (must-haves, places)."""
    rows = [{"role_id": f"r-{i:05d}", "status": "open", "owner": f"owner{i % 50}@example.com", "deleted": False,
             "revision": i + 1, "updated_at": NOW,
             "spec": {"role_id": f"r-{i:05d}", "status": "open", "title": f"Role {i}", "must_have": ["python"],
                      "locations": ["Berlin"], "threshold": 0.6}} for i in range(1000, total)]
    for start in range(0, len(rows), 5000):
        with sessions.begin() as session:
            session.execute(insert(RoleSpecRow), rows[start:start + 5000])


def median_ms(client, path: str, runs: int = 15) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        status = answer.status_code
    return statistics.median(times), status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--roles", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'pages.db'}"
    print(machine_line(f"{args.candidates:,} candidates, {args.roles:,} roles, {args.leads:,} leads, "
                       f"{url.split(':')[0]}"), flush=True)
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    started = time.perf_counter()
    build(sessions, args.candidates, args.leads, random.Random(20261201))
    more_roles(sessions, args.roles)
    print(f"store built in {time.perf_counter() - started:.0f} s", flush=True)

    from fastapi.testclient import TestClient

    from services.api import create_app

    async def produce(topic, messages):
        pass

    app = create_app(Settings(database_url=url, kafka_bootstrap="127.0.0.1:1"), produce)
    key = create_key(sessions, "bench-admin", "admin")
    page = TestClient(app, headers={"Accept": "text/html"})
    page.post("/login", data={"api_key": key, "next": "/"})
    api = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    pages = ["/", "/?status=all", "/roles/r-0042", "/roles/r-05000", "/candidates/c-0000042", "/overview",
             "/ops", "/roles/new", "/roles/new?role=r-0042", "/login"]
    print(f"\n{'page':<28} {'median ms':>10} {'status':>7}  {'vs /inbox JSON':>15}")
    json_ms, _ = median_ms(api, "/inbox?limit=100")
    bare_ms, _ = median_ms(api, "/livez")
    worst = 0.0
    for path in pages:
        ms, status = median_ms(page, path)
        worst = max(worst, ms)
        print(f"{path:<28} {ms:>10.1f} {status:>7}  {ms / json_ms:>14.1f}x", flush=True)
    print(f"{'/inbox?limit=100 (JSON)':<28} {json_ms:>10.1f}")
    print(f"{'/livez (bare)':<28} {bare_ms:>10.1f}")
    print(f"\nslowest page {worst:.1f} ms; aim {AIM_MS} ms: {'met' if worst < AIM_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
