"""Is the decision path slower after a change? `decide.py`'s workload (10 domains, 20,000 mixed requests, quotas
fresh, half used and spent) measured in alternating fresh processes for two source trees, medians compared.

    git archive <base commit> | tar -x -C /tmp/base
    .venv/bin/python benchmarks/decide_ab.py /tmp/base . --runs 8

Single runs on a shared machine move by 10-20 %; alternating runs and taking medians keeps the ratio steady.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = r'''
import sys, json, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from benchmarks.decide import write_policy, workload, measure
from proxy_addons.policy import load_policy
with tempfile.TemporaryDirectory() as d:
    path, extra = write_policy(Path(d), 10)
    print(json.dumps(measure(load_policy(path), workload(extra, 20000), passes=3)))
'''


def run(tree: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(tree)], capture_output=True, text=True, cwd=tree,
                         env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, check=True, timeout=300)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="source tree before the change")
    parser.add_argument("head", type=Path, help="source tree after the change")
    parser.add_argument("--runs", type=int, default=8, help="runs of each, alternating (default 8)")
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "head": args.head.resolve()}
    results: dict[str, list[dict[str, float]]] = {"base": [], "head": []}
    for i in range(args.runs):
        for name in (("base", "head") if i % 2 == 0 else ("head", "base")):
            results[name].append(run(trees[name]))
    p50 = {name: statistics.median(r["p50_us"] for r in runs) for name, runs in results.items()}
    rate = {name: statistics.median(r["per_second"] for r in runs) for name, runs in results.items()}
    for name in results:
        print(f"{name}: median p50 {p50[name]:.3f} us, median {rate[name]:,.0f} decisions/s ({args.runs} runs)")
    print(f"head/base: p50 {p50['head'] / p50['base']:.3f}, decisions/s {rate['head'] / rate['base']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
