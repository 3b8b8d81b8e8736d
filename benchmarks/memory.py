"""How much memory does a gateway need for 10,000 active people?

Starts `gonogo run` with policies/example.yaml (work hours widened to all day, as in proxy.py, so the time-box
rule decides) and `--set proxyauth=any`, then sends every one of N distinct users (default 10,000, each
with its own user name and client connection) through a time-boxed site (facebook.com: ledger charge,
active minute, people today) and an allowed one (linkedin.com), at a bounded rate. Then it reads the
process's resident memory (VmRSS) and its peak (VmHWM) from /proc and checks that the state is really
there: decided requests, counted minutes in the ledger, people today in the metrics.

For comparison (skip with --no-compare) the same traffic goes through bare `mitmdump --set proxyauth=any`,
which keeps no per-person state: the difference is gonogo's own.

Target (issue 14), printed as PASS/FAIL: peak RSS <= 150 MB per worker (a worker is one `gonogo run` process)
with 10,000 active users' state.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

TARGET_MB = 150
SITES = (harness.COVERED, "linkedin.com")  # time-boxed (social), allowed (professional)


async def drive(proxy_port: int, origin_port: int, sites: tuple[str, ...], users: int, rate: float,
                concurrency: int) -> dict[int, int]:
    """Each user: one connection, a GET to each site with its own proxy credentials. Returns status counts."""
    statuses: dict[int, int] = {}
    limit = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(i: int) -> None:
        delay = started + i / rate - time.monotonic()  # bounded rate: user i starts no earlier than i/rate
        if delay > 0:
            await asyncio.sleep(delay)
        auth = base64.b64encode(f"user{i:05d}:pw".encode()).decode()
        async with limit:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            try:
                for site in sites:
                    writer.write(f"GET http://{site}:{origin_port}/ HTTP/1.1\r\nHost: {site}:{origin_port}\r\n"
                                 f"Proxy-Authorization: Basic {auth}\r\n\r\n".encode())
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                    status = int(head.split(b" ", 2)[1])
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    await reader.readexactly(length)
                    statuses[status] = statuses.get(status, 0) + 1
            finally:
                writer.close()

    await asyncio.gather(*(one(i) for i in range(users)))
    return statuses


def measure(proxy: harness.Proc, origin: harness.Proc, sites: tuple[str, ...], args: argparse.Namespace) -> dict:
    # a few requests first, so the baseline includes what any traffic loads (HTTP machinery, caches)
    asyncio.run(drive(proxy.port, origin.port, sites, 20, 1000, 4))
    before = proxy.rss_mb()
    started = time.monotonic()
    statuses = asyncio.run(drive(proxy.port, origin.port, sites, args.users, args.rate, args.concurrency))
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # let the proxy finish closing connections before reading its memory
    return {"before": before, "rss": proxy.rss_mb(), "peak": proxy.peak_mb(), "seconds": elapsed,
            "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0, help="new users per second (upper bound)")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections open at once")
    parser.add_argument("--no-compare", action="store_true", help="skip the bare-mitmdump run")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, ledger)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: every started process is ended
    print(f"machine: {harness.machine()}")
    work = Path(tempfile.mkdtemp(prefix="gonogo-memory-"))
    try:
        with harness.Procs(work) as procs:
            origin, kind = procs.origin()
            policy = harness.adapted_policy(work)
            gonogo = procs.gonogo(policy, "--set", "proxyauth=any", resolve=(*SITES, harness.UNCOVERED))
            print(f"origin: {kind}; {args.users} users at <= {args.rate:.0f}/s, {args.concurrency} connections "
                  f"at once, {len(SITES)} requests each ({', '.join(SITES)})")
            g = measure(gonogo, origin, SITES, args)
            exposition = harness.scrape(gonogo.port2)
            with sqlite3.connect(f"file:{work / 'gonogo' / 'gonogo.db'}?mode=ro", uri=True) as db:
                periods = db.execute("SELECT count(DISTINCT user) FROM periods").fetchone()[0]
            m = None
            if not args.no_compare:
                # bare mitmdump cannot map names: it gets the same requests, addressed to 127.0.0.1
                mitm = procs.mitmdump("--set", "proxyauth=any")
                m = measure(mitm, origin, ("127.0.0.1",) * len(SITES), args)
    finally:
        if args.keep:
            print(f"work directory (kept): {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    decided = harness.sample_sum(exposition, "gonogo_requests_total")
    timeboxed = harness.sample_sum(exposition, "gonogo_requests_total", lambda lbl: 'rule="social time-box"' in lbl)
    today = harness.sample_sum(exposition, "gonogo_users_today")
    print(f"\ngonogo: {g['seconds']:.0f} s for {args.users} users ({args.users / g['seconds']:.0f} users/s), "
          f"responses {g['statuses']}")
    print(f"  state: {decided:.0f} requests decided ({timeboxed:.0f} by the time-box rule), ledger periods for "
          f"{periods} people, people today in the metrics {today:.0f}")
    print(f"  RSS before {g['before']:.0f} MB, after {g['rss']:.0f} MB (+{g['rss'] - g['before']:.0f} MB, "
          f"{(g['rss'] - g['before']) * 1024 / args.users:.1f} kB per user); peak {g['peak']:.0f} MB")
    if m is not None:
        print(f"bare mitmdump, same traffic ({m['seconds']:.0f} s): RSS before {m['before']:.0f} MB, after "
              f"{m['rss']:.0f} MB, peak {m['peak']:.0f} MB; gonogo's own share of the peak "
              f"{g['peak'] - m['peak']:+.0f} MB")
    verdict = "PASS" if g["peak"] <= TARGET_MB else "FAIL"
    print(f"\npeak RSS with {args.users} active users: {g['peak']:.0f} MB  {verdict} (target <= {TARGET_MB} MB)")
    complete = g["statuses"].get(200, 0) == args.users * len(SITES) and periods == args.users
    if not complete:
        print("  !! not every user got through or was charged: the state is smaller than it should be")
    return 0


if __name__ == "__main__":
    sys.exit(main())
