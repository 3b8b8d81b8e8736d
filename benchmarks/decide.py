"""How fast does the policy engine decide, and does that depend on the size of the domain lists?

Prints decisions/s and p50/p99 per decision for policies of 10, 10,000 and 1,000,000 domains (the
rules, groups and schedules of policies/example.yaml; the lists generated into a temporary directory,
never into git), and the load time and peak memory of the 1,000,000-line list, measured in a fresh
process so the figure is the list's own cost.

Targets (issue 2): p50 <= 5 us per decision, flat across sizes; the 1M list loads in <= 2 s within
<= 150 MB. Run with `make bench-decide`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy_addons.policy import BudgetUsage, Request, Usage, Who, evaluate, load_policy  # noqa: E402
from proxy_addons.policy.model import Policy  # noqa: E402

SIZES = (10, 10_000, 1_000_000)
KNOWN = {  # 10 real domains; larger policies add generated ones to `social`
    "social": ["facebook.com", "instagram.com", "x.com", "tiktok.com", "reddit.com", "youtube.com"],
    "professional": ["linkedin.com", "licdn.com"],
    "news": ["nu.nl", "nos.nl"],
}
RULES_AND_GROUPS = """
timezone: Europe/Amsterdam
holidays: {country: NL, dates: [2026-12-24]}
schedules:
  work-hours: [{days: mon-fri, from: "08:30", to: "17:30"}]
  lunch: [{days: mon-fri, from: "12:00", to: "13:00"}]
groups:
  social-team: {users: [anna, bram]}
  customer-service: {users: [carla, daan], subnets: [10.30.0.0/24]}
  interns: {users: [ivo, iris]}
  sales: {subnets: [10.20.0.0/16]}
rules:
  - {name: social team, groups: [social-team, customer-service], categories: [social, professional], action: allow}
  - {name: no posting from interns, groups: [interns], categories: [social, professional],
     methods: [POST, PUT, PATCH, DELETE], action: block}
  - {name: corporate news, categories: [professional], action: allow}
  - {name: lunch, categories: [social], when: lunch, action: allow}
  - {name: tiktok trial, domains: [tiktok.com], when: work-hours, action: block, shadow: true}
  - {name: social time-box, categories: [social], when: work-hours, action: timebox, quota: {minutes: 30, per: day}}
  - {name: news, categories: [news], when: work-hours, action: warn}
default: allow
"""
LETTERS = "abcdefghijklmnopqrstuvwxyz"
TLDS = ("com", "net", "org", "nl", "de", "io", "co.uk", "app")


def generated_domains(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [f"{''.join(rng.choices(LETTERS, k=rng.randint(5, 14)))}{i}.{rng.choice(TLDS)}" for i in range(count)]


def write_policy(directory: Path, size: int) -> tuple[Path, list[str]]:
    extra = generated_domains(max(0, size - 10))
    lines = ["version: 1", RULES_AND_GROUPS, "categories:"]
    for name, domains in KNOWN.items():
        lines.append(f"  {name}:\n    domains: [{', '.join(domains)}]")
        if name == "social" and extra:
            (directory / f"list-{size}.txt").write_text("# generated\n" + "\n".join(extra) + "\n")
            lines.append(f"    files: [list-{size}.txt]")
    path = directory / f"policy-{size}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, extra


def workload(extra: list[str], count: int, seed: int = 2) -> list[tuple[Who, Request, dt.datetime, Usage]]:
    """A mixed day at the office: listed and unlisted hosts (a few thousand distinct), people of every
    group and none, reads and writes, work hours, lunch, evenings, weekends, a holiday; quotas fresh,
    half used, spent."""
    rng = random.Random(seed)
    known = [d for ds in KNOWN.values() for d in ds]
    # the same share of social hosts at every size: the real ones, or generated ones (all in `social`)
    pool = rng.sample(extra, min(len(extra), 2000)) if extra else KNOWN["social"]
    unlisted = [f"site{i}.example" for i in range(500)]
    people = [Who("anna"), Who("carla"), Who("ivo"), Who("dirk"), Who("eva", "10.20.3.4"),
              Who(None, "10.30.0.7"), Who("user42", "192.0.2.1"), Who("frank", "10.20.9.9")]
    base = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # Monday
    # a proxy's clock only moves forward: the requests of a week (and Christmas Eve), in time order
    moments = sorted(base + dt.timedelta(days=rng.choice((0, 1, 2, 3, 4, 5, 6, 31)), seconds=rng.randrange(86400))
                     for _ in range(count))
    usages = [Usage(), Usage({"social time-box": BudgetUsage(12, False)}),
              Usage({"social time-box": BudgetUsage(30, False)}), Usage({"social time-box": BudgetUsage(30, True)})]
    result = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.45:
            host = rng.choice(["www.", "m.", "", "static.cdn."]) + rng.choice(known)
        elif roll < 0.75:
            host = rng.choice(["www.", ""]) + rng.choice(pool)
        else:
            host = rng.choice(unlisted)
        method = "POST" if rng.random() < 0.1 else "GET"
        result.append((rng.choice(people), Request(host, method, "/"), moments[len(result)], rng.choice(usages)))
    return result


def measure(policy: Policy, requests: list, passes: int = 3) -> dict[str, float]:
    """Per-decision latencies (each call timed on its own) and throughput (a tight loop)."""
    for who, request, now, usage in requests:  # warm the caches a proxy would have warmed
        evaluate(policy, who, request, now, usage)
    clock = time.perf_counter_ns
    samples = []
    for _ in range(passes):
        for who, request, now, usage in requests:
            start = clock()
            evaluate(policy, who, request, now, usage)
            samples.append(clock() - start)
    begin = time.perf_counter()
    for who, request, now, usage in requests:
        evaluate(policy, who, request, now, usage)
    elapsed = time.perf_counter() - begin
    return _summary(samples, len(requests) / elapsed)


def measure_cold_hosts(policy: Policy, requests: list) -> dict[str, float]:
    """The same, but every host is new to the policy (its host memo emptied before each call):
    the cost of the domain index itself, which must not grow with the number of domains."""
    clock = time.perf_counter_ns
    samples = []
    forget_hosts = policy.lookups.forget_hosts
    for who, request, now, usage in requests:
        forget_hosts()
        start = clock()
        evaluate(policy, who, request, now, usage)
        samples.append(clock() - start)
    return _summary(samples, 1e9 / statistics.fmean(samples))


def _summary(samples: list[int], per_second: float) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"per_second": per_second, "p50_us": cuts[49] / 1000, "p99_us": cuts[98] / 1000}


LOAD_PROBE = """
import json, sys, time
def mem(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024
from proxy_addons.policy import load_policy
import jsonschema, holidays, yaml  # what any load needs; not the list's cost
before = mem("VmRSS")
start = time.perf_counter()
policy = load_policy(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": mem("VmRSS") - before, "peak_mb": mem("VmHWM") - before,
                  "domains": len(policy.index)}))
"""


def load_figures(path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(path)], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests in the workload (default 20000)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gonogo-bench-") as tmp:
        for size in SIZES:
            path, extra = write_policy(Path(tmp), size)
            load_started = time.perf_counter()
            policy = load_policy(path)
            load_seconds = time.perf_counter() - load_started
            requests = workload(extra, args.requests)
            warm = measure(policy, requests)
            cold = measure_cold_hosts(policy, requests[:5000])
            rows.append((size, load_seconds, warm, cold))
            del policy
        big = load_figures(Path(tmp) / f"policy-{SIZES[-1]}.yaml")

    print(f"gonogo decide benchmark (Python {sys.version.split()[0]}, {args.requests} mixed requests)")
    print()
    print(f"{'domains':>10} {'load s':>7}   {'decisions/s':>11} {'p50 us':>7} {'p99 us':>7}"
          f"   {'new-host p50':>12} {'p99 us':>7}")
    for size, load_seconds, warm, cold in rows:
        print(f"{size:>10,} {load_seconds:>7.2f}   {warm['per_second']:>11,.0f} {warm['p50_us']:>7.2f} "
              f"{warm['p99_us']:>7.2f}   {cold['p50_us']:>12.2f} {cold['p99_us']:>7.2f}")
    first, last = rows[0], rows[-1]
    ratio_warm = last[2]["p50_us"] / first[2]["p50_us"]
    ratio_cold = last[3]["p50_us"] / first[3]["p50_us"]
    print()
    print(f"p50 ratio 1M / 10 domains: {ratio_warm:.2f} (mixed), {ratio_cold:.2f} (every host new)")
    print(f"1M-line list in a fresh process: {big['domains']:,} domains loaded in {big['seconds']:.2f} s, "
          f"RSS +{big['rss_mb']:.0f} MB, peak +{big['peak_mb']:.0f} MB")
    worst_p50 = max(r[2]["p50_us"] for r in rows)
    checks = [
        ("p50 <= 5 us per decision", worst_p50 <= 5.0, f"worst {worst_p50:.2f} us"),
        ("flat across sizes (p50 ratio <= 1.5)", max(ratio_warm, ratio_cold) <= 1.5,
         f"{ratio_warm:.2f} / {ratio_cold:.2f}"),
        ("1M list loads in <= 2 s", big["seconds"] <= 2.0, f"{big['seconds']:.2f} s"),
        ("1M list within <= 150 MB", big["peak_mb"] <= 150, f"peak +{big['peak_mb']:.0f} MB"),
    ]
    print()
    for label, ok, figure in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {figure}")


if __name__ == "__main__":
    main()
