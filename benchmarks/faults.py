"""The fault suite at full size: faults injected while events stream, every alert counted.

    python benchmarks/faults.py [--kills 20] [--events 6000] [--fuzz 10000] [--postgres-url URL]

On PostgreSQL (RADAR_TEST_POSTGRES_URL or --postgres-url: a server where the user may create
databases), with a broker of its own on free ports and real `radar worker` processes:

- worker kill -9, `--kills` times during a stream of `--events` events, each time restarted at
  once with the same id (Kafka static membership); recovery = kill -> processing moves again;
- the broker killed with -9 mid-stream and restarted 3 s later; recovery = restart -> moving;
- PostgreSQL (a cluster of its own, needs root and Debian's postgresql) stopped for 10 s and
  started; recovery = start -> moving;
- three workers, one killed for good; recovery = kill -> every later event processed;
- `--fuzz` adversarial inputs (26 kinds, invalid by construction) mixed with good events.

Each prints expected, delivered, lost and duplicated alerts (by pair and by alert_id), dead
letters against bad inputs, seconds to recover, stalls and agent crashes. `tests/faults` runs
the same scenarios at a small size in CI.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import machine_line  # noqa: E402  (benchmarks/, the script's own folder)

from services.config import Settings  # noqa: E402
from tests.faults import harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--postgres-url", default=os.environ.get("RADAR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if not args.postgres_url:
        parser.error("needs PostgreSQL: --postgres-url or RADAR_TEST_POSTGRES_URL")
    print(machine_line(f"{args.kills} kills, {args.events} events, {args.fuzz} fuzzed inputs"), flush=True)
    outcomes = []
    with tempfile.TemporaryDirectory() as workdir, \
            harness.FaultLab(Path(workdir), args.postgres_url, Settings.from_env().kafka_home,
                             say=lambda line: print(line, flush=True)) as lab:
        for name, run in (
            ("kills", lambda: harness.worker_kills(lab, args.kills, args.events)),
            ("broker", lambda: harness.broker_kill(lab, max(args.events // 5, 200))),
            ("postgres", lambda: harness.postgres_stop(lab, max(args.events // 5, 200))),
            ("rebalance", lambda: harness.rebalance_kill(lab, max(args.events // 5, 300))),
            ("fuzz", lambda: harness.fuzz(lab, args.fuzz, max(args.fuzz // 5, 100))),
        ):
            started = time.monotonic()
            outcome = run()
            outcomes.append(outcome)
            notes = f" ({'; '.join(outcome.notes)})" if outcome.notes else ""
            print(f"{name}: done in {time.monotonic() - started:.0f} s{notes}", flush=True)
    print()
    print(harness.HEADER)
    for outcome in outcomes:
        print(outcome.row())
    kills = outcomes[0]
    if kills.recoveries_s:
        ordered = sorted(kills.recoveries_s)
        print(f"\nworker kill -> moving again: median {ordered[len(ordered) // 2]:.1f} s, worst {ordered[-1]:.1f} s "
              f"over {len(ordered)} kills (Faust's default session timeout alone was 60 s before)")
    ok = all(o.ok() or any(n.startswith("skipped") for n in o.notes) for o in outcomes)
    print("\nall guarantees held" if ok else "\nA GUARANTEE FAILED: see the rows above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
