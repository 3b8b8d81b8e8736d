"""Does a 1,000,000-domain list load within the target (<= 2 s, <= 150 MB) in every list format?

Writes one generated list of 1,000,000 names per format (plain, hosts, adblock, dnsmasq, a squidGuard/
UT1 category directory, and a hosts list as a remote list's cached copy) into a temporary directory,
and loads a policy with that one list in a fresh process per format, so each figure is the list's own
cost: load seconds (wall and CPU), RSS growth and peak RSS growth (VmHWM). The target is judged on CPU
seconds: on this shared 2-core machine, wall time mostly measures the other jobs. Run with
`make bench-lists`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.decide import LOAD_PROBE, generated_domains  # noqa: E402
from proxy_addons.policy.lists import cache_name  # noqa: E402

SIZE = 1_000_000
URL = "https://lists.example/hosts.txt"
LINE = {
    "plain": "{}\n",
    "hosts": "0.0.0.0 {}\n",
    "adblock": "||{}^\n",
    "dnsmasq": "address=/{}/0.0.0.0\n",
}
# decide.py's probe, with the list cache and the CPU time (steadier than wall time on a shared machine)
PROBE = (LOAD_PROBE.replace("load_policy(sys.argv[1])", "load_policy(sys.argv[1], Path(sys.argv[2]))")
         .replace("import json, sys, time", "import json, sys, time\nfrom pathlib import Path")
         .replace("start = time.perf_counter()", "start, cpu = time.perf_counter(), time.process_time()")
         .replace('"seconds": seconds,', '"seconds": seconds, "cpu": time.process_time() - cpu,'))


def write_cases(directory: Path, names: list[str]) -> dict[str, Path]:
    cases = {}
    for fmt, line in LINE.items():
        (directory / f"{fmt}.txt").write_text(f"# {fmt} list\n" + "".join(line.format(n) for n in names))
        cases[fmt] = _policy(directory, fmt, f"lists: [{{file: {fmt}.txt}}]")  # format detected
    ut1 = directory / "ut1" / "social_networks"
    ut1.mkdir(parents=True)
    (ut1 / "domains").write_text("".join(f"{n}\n" for n in names))
    (ut1 / "urls").write_text("example.com/some/page\n")
    cases["squidguard"] = _policy(directory, "squidguard", "files: [ut1/social_networks]")
    cache = directory / "cache"
    cache.mkdir()
    (cache / cache_name(URL)).write_text("".join(LINE["hosts"].format(n) for n in names))
    cases["remote hosts"] = _policy(directory, "remote", f'lists: [{{url: "{URL}", format: hosts}}]')
    return cases


def _policy(directory: Path, name: str, source: str) -> Path:
    path = directory / f"policy-{name}.yaml"
    path.write_text(f"version: 1\ncategories:\n  social:\n    {source}\n"
                    "rules:\n  - {name: no social, categories: [social], action: block}\n")
    return path


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gonogo-bench-lists-") as tmp:
        directory = Path(tmp)
        cases = write_cases(directory, generated_domains(SIZE))
        print(f"gonogo list-format load benchmark (Python {sys.version.split()[0]}, {SIZE:,} names per list)")
        print()
        print(f"{'format':<14} {'domains':>9} {'load s':>7} {'CPU s':>6} {'RSS MB':>7} {'peak MB':>8}  target")
        for fmt, path in cases.items():
            out = subprocess.run([sys.executable, "-c", PROBE, str(path), str(directory / "cache")],
                                 capture_output=True, text=True, check=True, cwd=ROOT)
            f = json.loads(out.stdout)
            ok = f["cpu"] <= 2.0 and f["peak_mb"] <= 150
            print(f"{fmt:<14} {f['domains']:>9,} {f['seconds']:>7.2f} {f['cpu']:>6.2f} {f['rss_mb']:>7.1f} "
                  f"{f['peak_mb']:>8.1f}  "
                  f"{'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
