"""How fast does the quota ledger charge minutes, on SQLite and on Redis?

Prints charges/s for each store in two shapes of traffic, and the Redis/SQLite ratio:
  * new minute   — every charge adds a minute (a write: a committed transaction / a Lua script);
  * same minute  — the minute is counted already (the common case: many requests in one minute);
each one charge at a time (latency bound) and with many charges in flight (many connections on one proxy).
SQLite is measured with synchronous=NORMAL (the default: survives kill -9) and FULL (survives power loss).
Redis is a redis-server this script starts on 127.0.0.1 (append-only file on, as deployed) and stops.
Every measurement is bounded by a number of operations and by --seconds.

Run: `.venv/bin/python benchmarks/ledger.py [--ops 3000] [--concurrency 64] [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy_addons.usage.ledger import Ledger  # noqa: E402
from proxy_addons.usage.redis import RedisLedger  # noqa: E402
from proxy_addons.usage.sqlite import SqliteLedger  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

PERIOD = "2026-11-27"
TTL = 86400
USERS = 100


async def measure(ledger: Ledger, ops: int, concurrency: int, seconds: float, same_minute: bool,
                  offset: int) -> float:
    """Charges per second over at most `ops` charges or `seconds`, `concurrency` at a time."""
    if same_minute:  # count minute 0 of every user first, so the timed charges all find it counted
        for u in range(USERS):
            await ledger.charge(f"user{u}", "social", PERIOD, offset, 10**6, TTL)
    deadline = time.perf_counter() + seconds
    next_op = 0
    done = 0

    async def worker() -> None:
        nonlocal next_op, done
        while next_op < ops and time.perf_counter() < deadline:
            i = next_op
            next_op += 1
            minute = offset if same_minute else offset + 1 + i // USERS
            await ledger.charge(f"user{i % USERS}", "social", PERIOD, minute, 10**6, TTL)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def bench_store(name: str, make: Callable[[], Ledger], args: argparse.Namespace) -> dict[str, float]:
    ledger = make()
    results = {}
    try:
        runs = [(shape, same, c) for shape, same in [("new minute", False), ("same minute", True)]
                for c in (1, args.concurrency)]
        for i, (shape, same, concurrency) in enumerate(runs):  # each run its own minutes: no run finds another's
            rate = await measure(ledger, args.ops, concurrency, args.seconds, same, offset=i * 10**6)
            results[f"{shape}, {concurrency} in flight"] = rate
            print(f"  {name:<14} {shape:<12} {concurrency:>3} in flight  {rate:>9,.0f} charges/s", flush=True)
    finally:
        await ledger.close()
    return results


def end_to_end(args: argparse.Namespace, redis_url: str) -> dict[str, float] | None:
    """Requests/s of time-boxed traffic through one `gonogo run` with SQLite against two `gonogo run`
    processes sharing the Redis at `redis_url` (one `hey` per proxy, at the same time), in this run.
    Plain HTTP to a covered host on 127.0.0.1, so every request is decided and charged."""
    hey = shutil.which("hey")
    if hey is None:
        print("end to end: `hey` is not installed (Debian package hey)")
        return None
    from tests.support.proxy import Gonogo, Origin, make_cert

    seconds = max(2, int(args.seconds))
    with tempfile.TemporaryDirectory(prefix="gonogo-e2e-") as tmp:
        work = Path(tmp)
        origin = Origin(*make_cert(work)).start()
        policy = work / "policy.yaml"
        policy.write_text("version: 1\ncategories:\n  social: {domains: [facebook.test]}\nrules:\n"
                          "  - {name: social time-box, categories: [social], action: timebox,\n"
                          "     quota: {minutes: 480, per: day}}\n")
        target = f"http://facebook.test:{origin.http_port}/"

        def load(proxies: list[Gonogo]) -> float:
            runs = [subprocess.Popen([hey, "-z", f"{seconds}s", "-c", "16", "-x",
                                      f"http://bench{i}:pw@127.0.0.1:{p.port}", target],
                                     stdout=subprocess.PIPE, text=True) for i, p in enumerate(proxies)]
            total = 0.0
            for run in runs:
                out, _ = run.communicate(timeout=seconds + 60)
                found = re.search(r"Requests/sec:\s+([\d.]+)", out)
                total += float(found.group(1)) if found else 0.0
            return total

        figures: dict[str, float] = {}
        sqlite_proxy = Gonogo(work / "sqlite", policy, "-q", "--set", "proxyauth=any")
        redis_proxies = [Gonogo(work / f"redis{i}", policy, "-q", "--set", "proxyauth=any", state=redis_url)
                         for i in range(2)]
        for proxy in (sqlite_proxy, *redis_proxies):
            proxy.workdir.mkdir()
            proxy.start()
        try:
            figures["1 proxy, sqlite: req/s"] = load([sqlite_proxy])
            figures["2 proxies, redis: req/s"] = load(redis_proxies)
        finally:
            for proxy in (sqlite_proxy, *redis_proxies):
                proxy.stop()
            origin.stop()
        figures["ratio 2x redis / 1x sqlite"] = figures["2 proxies, redis: req/s"] / max(
            1.0, figures["1 proxy, sqlite: req/s"])
        return figures


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=3000, help="charges per measurement (default 3000)")
    parser.add_argument("--concurrency", type=int, default=64, help="charges in flight (default 64)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap per measurement (default 5)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="gonogo-bench-") as tmp, RedisServer(Path(tmp) / "redis") as server:
        print(f"quota ledger: charges per second ({args.ops} charges or {args.seconds:g} s per line)")
        figures["sqlite"] = await bench_store("sqlite", lambda: SqliteLedger(Path(tmp) / "normal.db"), args)
        figures["sqlite FULL"] = await bench_store(
            "sqlite FULL", lambda: SqliteLedger(Path(tmp) / "full.db", synchronous="FULL"), args)
        figures["redis"] = await bench_store("redis", lambda: RedisLedger(server.url), args)
        print("redis / sqlite:")
        for shape, sqlite_rate in figures["sqlite"].items():
            print(f"  {shape:<28} {figures['redis'][shape] / sqlite_rate:>5.2f}x")
        print(f"end to end: time-boxed requests/s through gonogo run ({max(2, int(args.seconds))} s each)")
        e2e = end_to_end(args, server.url)
        if e2e is not None:
            figures["end to end"] = e2e
            for name, value in e2e.items():
                print(f"  {name:<28} {value:>9,.2f}")
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
