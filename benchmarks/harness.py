"""Processes the proxy benchmarks start and measure: an origin on 127.0.0.1 (nginx, else a small asyncio
server), `gonogo run`, bare `mitmdump` and Squid, each with its own temporary directory.

Why a separate module: `proxy.py` (throughput) and `memory.py` (10,000 users) start the same things the
same way, so their figures describe the same set-up. Everything listens on 127.0.0.1 only, and every
process is ended by the `Procs` that started it (by its own pid), whatever happens.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.proxy import make_cert as test_origin_cert  # noqa: E402

EXAMPLE = ROOT / "policies" / "example.yaml"
BIN = Path(sys.executable).parent
COVERED = "facebook.com"  # category social: the time-box rule decides (and charges) it
BLOCKED = "tiktok.com"  # the example's shadow "tiktok trial", enforced in the benchmark's copy: blocked
UNCOVERED = "uncovered.test"  # no rule names it: passed through undecrypted
ORIGIN_NAMES = (COVERED, "www.facebook.com", UNCOVERED, BLOCKED, "localhost")

# The example policy's windows, and what the benchmarks put in their place so that the time-box rule decides
# whenever the benchmark runs (every day, all day, holidays too). Lunch moves to a minute nobody benchmarks in,
# so the lunch rule is still evaluated (and does not match), exactly as on a working afternoon.
EXAMPLE_WINDOWS = ('{days: mon-fri, from: "08:30", to: "17:30"}', '{days: mon-fri, from: "12:00", to: "13:00"}')
# The example's TikTok trial (a shadow rule: recorded, never enforced) is enforced in the benchmark's copy, so
# requests to tiktok.com are blocked by a rule: the "blocked" workload.
EXAMPLE_TRIAL = """    action: block
    shadow: true
"""
BENCH_TRIAL = """    action: block
"""
BENCH_WINDOWS = ('{days: mon-sun, from: "00:00", to: "24:00", holidays: include}',
                 '{days: sun, from: "04:00", to: "04:01"}')


def machine() -> str:
    """nproc, CPU model and memory: the figures mean little without them."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, Python {sys.version.split()[0]}"


def vm_kb(pid: int, field: str) -> int:
    """A `VmRSS`/`VmHWM` (peak RSS) figure of a live process in kB, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adapted_policy(directory: Path) -> Path:
    """policies/example.yaml with work hours all day, every day (see BENCH_WINDOWS); its lists beside it."""
    text = EXAMPLE.read_text()
    if any(text.count(window) != 1 for window in EXAMPLE_WINDOWS) or text.count(EXAMPLE_TRIAL) != 1:
        raise SystemExit(f"{EXAMPLE}: its schedules or TikTok trial changed; update EXAMPLE_* in {__file__}")
    policy = directory / "example-bench.yaml"
    for window, bench in zip(EXAMPLE_WINDOWS, BENCH_WINDOWS, strict=True):  # work hours, then lunch
        text = text.replace(window, bench)
    policy.write_text(text.replace(EXAMPLE_TRIAL, BENCH_TRIAL))
    shutil.copytree(EXAMPLE.parent / "lists", directory / "lists", dirs_exist_ok=True)
    return policy


def make_cert(directory: Path, names: tuple[str, ...] = ORIGIN_NAMES) -> tuple[Path, Path]:
    """A self-signed certificate for the origin (clients and proxies run with verification off)."""
    return test_origin_cert(directory, names)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0  # proxy (or origin HTTP) port
    port2: int = 0  # origin HTTPS port / gonogo metrics port

    @property
    def pid(self) -> int:
        return self.popen.pid

    def peak_mb(self) -> float:
        return vm_kb(self.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return vm_kb(self.pid, "VmRSS") / 1024

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process (all its threads) and its children (workers) so far."""
        return cpu_seconds(self.pid) + sum(cpu_seconds(child) for child in children(self.pid))

    def worker_peak_mb(self) -> float:
        """Peak RSS of the largest worker (`gonogo run --workers N`), else of the process itself."""
        return max((vm_kb(child, "VmHWM") / 1024 for child in children(self.pid)), default=self.peak_mb())


class Procs:
    """Starts the benchmark's processes in `workdir` and ends each of them (by pid) on `close()`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Proc] = []

    def __enter__(self) -> Procs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for proc in reversed(self.started):
            if proc.popen.poll() is None:
                proc.popen.terminate()
        for proc in reversed(self.started):
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=5)

    def spawn(self, name: str, cmd: list[str], **kwargs: object) -> Proc:
        log = self.workdir / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, **kwargs)  # type: ignore[call-overload]
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    # -- the origin -------------------------------------------------------------------------------
    def origin(self, prefer: str = "nginx") -> tuple[Proc, str]:
        """HTTP on `.port`, HTTPS on `.port2`; returns the process and which server it is."""
        cert, key = make_cert(self.workdir)
        http_port, https_port = free_port(), free_port()
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if prefer == "nginx" and nginx:
            conf = self.workdir / "nginx.conf"
            tmp = self.workdir / "nginx-tmp"
            tmp.mkdir(exist_ok=True)
            conf.write_text(NGINX_CONF.format(tmp=tmp, http=http_port, https=https_port, cert=cert, key=key))
            proc = self.spawn("nginx", [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")])
            kind = "nginx " + _nginx_version(nginx) + " (1 worker, keep-alive, 18-byte body)"
        else:
            proc = self.spawn("origin", [sys.executable, str(Path(__file__)), "origin", str(cert), str(key),
                                         str(http_port), str(https_port)])
            kind = "Python asyncio origin (benchmarks/harness.py; nginx not installed), 18-byte body"
        proc.port, proc.port2 = http_port, https_port
        wait_port(proc, http_port)
        wait_port(proc, https_port)
        return proc, kind

    # -- the proxies ------------------------------------------------------------------------------
    def gonogo(self, policy: Path, *extra: str, resolve: tuple[str, ...] = (COVERED, UNCOVERED, BLOCKED),
               name: str = "gonogo", workers: int = 1) -> Proc:
        port, metrics = free_port(), free_port()
        cmd = [*os.environ.get("GONOGO_CMD", str(BIN / "gonogo")).split(), "run", "--policy", str(policy),
               "--listen-port", str(port), "--metrics-port", str(metrics), "-q",
               "--state", f"sqlite:{self.workdir / name / 'gonogo.db'}",
               "--set", f"confdir={self.workdir / name / 'ca'}", "--set", "ssl_insecure=true",
               "--allow-upstream", "127.0.0.0/8", *extra]  # the benchmark origins are on loopback
        for host in resolve:
            cmd += ["--resolve", f"{host}=127.0.0.1"]
        if workers > 1:
            cmd += ["--workers", str(workers)]
        proc = self.spawn(name, cmd)
        proc.port, proc.port2 = port, metrics
        wait_line(proc, f"all {workers} workers enforcing" if workers > 1 else "gonogo enforcing", timeout=60)
        wait_port(proc, port)
        return proc

    def mitmdump(self, *extra: str, optimized: bool = False) -> Proc:
        """Bare mitmdump, configured like gonogo's: lazy connections, no flow output, origin cert not checked.
        `optimized`: under `python -O`, as `gonogo run` runs (without mitmproxy's per-message type checks)."""
        port = free_port()
        name = "mitmdump-O" if optimized else "mitmdump"
        python = [sys.executable, "-O"] if optimized else []
        proc = self.spawn(name, [*python, str(BIN / "mitmdump"), "--listen-host", "127.0.0.1", "--listen-port",
                                       str(port), "--set", "flow_detail=0", "--set", "connection_strategy=lazy",
                                       "--set", f"confdir={self.workdir / name / 'ca'}",
                                       "--set", "ssl_insecure=true", *extra])
        proc.port = port
        wait_port(proc, port, timeout=60)
        return proc

    def bare_runner(self) -> Proc:
        """mitmproxy set up exactly as `gonogo run` sets it up (its lean master, logging at INFO, no flow dumper,
        lazy connections, `python -O`) but without the gonogo addons: the difference to `gonogo run` is the
        addons alone."""
        port = free_port()
        proc = self.spawn("bare-runner", [sys.executable, "-O", str(Path(__file__)), "bare-runner", str(port),
                                          str(self.workdir / "bare-runner-ca")])
        proc.port = port
        wait_port(proc, port, timeout=60)
        return proc

    def squid(self, hosts: tuple[str, ...] = (COVERED, UNCOVERED)) -> tuple[Proc, str]:
        """Squid with the example policy's `time` + `dstdomain` ACLs, no cache, names mapped in a hosts file."""
        squid = shutil.which("squid") or "/usr/sbin/squid"
        d = self.workdir / "squid"
        d.mkdir(exist_ok=True)
        (d / "hosts").write_text("".join(f"127.0.0.1 {h}\n" for h in hosts))
        social = sorted({*SOCIAL, *_list_domains(EXAMPLE.parent / "lists" / "social.txt")})
        (d / "social.txt").write_text("".join(f".{h}\n" for h in social))
        port = free_port()
        (d / "squid.conf").write_text(SQUID_CONF.format(port=port, dir=d))
        if os.geteuid() == 0:  # squid drops root for the `proxy` user: it must reach and write its files
            self.workdir.chmod(self.workdir.stat().st_mode | 0o111)
            shutil.chown(d, "proxy", "proxy")
            for f in d.iterdir():
                shutil.chown(f, "proxy", "proxy")
        proc = self.spawn("squid", [squid, "-N", "-f", str(d / "squid.conf")])
        proc.port = port
        wait_port(proc, port, timeout=30)
        version = subprocess.run([squid, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
        return proc, version.replace("Squid Cache: Version", "Squid").strip()


SOCIAL = ("facebook.com", "fbcdn.net", "instagram.com", "x.com", "twitter.com", "twimg.com", "tiktok.com",
          "tiktokcdn.com", "snapchat.com", "reddit.com", "pinterest.com", "threads.net", "bsky.app")

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {{
    listen 127.0.0.1:{http};
    listen 127.0.0.1:{https} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{ default_type text/plain; return 200 "origin says hello\\n"; }}
  }}
}}
"""

# The example policy, as far as Squid can say it: categories are dstdomain lists, windows are `time` ACLs
# (all day, like the benchmark's adapted policy); a time-box has no Squid equivalent, so social sites are
# simply allowed during "work hours" after the same checks.
SQUID_CONF = """http_port 127.0.0.1:{port}
pid_filename {dir}/squid.pid
cache_log {dir}/cache.log
access_log none
cache deny all
cache_mem 0 MB
hosts_file {dir}/hosts
dns_nameservers 127.0.0.1
pinger_enable off
shutdown_lifetime 0 seconds
visible_hostname gonogo-bench
coredump_dir {dir}
acl social dstdomain "{dir}/social.txt"
acl professional dstdomain .linkedin.com .licdn.com
acl news dstdomain .nu.nl .nos.nl .telegraaf.nl .bbc.co.uk .cnn.com
acl workhours time SMTWHFA 00:00-23:59
acl lunch time S 04:00-04:01
acl writes method POST PUT PATCH DELETE
acl interns src 10.99.0.0/24
acl localnet src 127.0.0.0/8
http_access deny interns social writes
http_access allow professional
http_access allow social lunch
http_access allow social workhours
http_access deny news workhours
http_access allow localnet
http_access deny all
"""


def _list_domains(path: Path) -> list[str]:
    found = []
    for line in path.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            found.append(words[-1])
    return found


def _nginx_version(nginx: str) -> str:
    out = subprocess.run([nginx, "-v"], capture_output=True, text=True)
    return (out.stderr or out.stdout).strip().rpartition("/")[2]


def wait_port(proc: Proc, port: int, timeout: float = 30.0) -> None:
    """Poll until `port` accepts connections (or the process died: then say why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.output()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{proc.name} does not listen on 127.0.0.1:{port} after {timeout}s:\n{proc.output()[-3000:]}")


def wait_line(proc: Proc, pattern: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(f".*{pattern}.*", proc.output())
        if found:
            return found.group(0)
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.output()[-3000:]}")
        time.sleep(0.05)
    raise SystemExit(f"{proc.name}: no line matching {pattern!r} after {timeout}s:\n{proc.output()[-3000:]}")


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux: /proc/PID/task/PID/children)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class CpuMeter:
    """How much of the machine's CPU went to processes that are not the benchmark's own (other jobs on a
    shared machine): busy time from /proc/stat less the CPU of the benchmark, its children and `pids`."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.tick = os.sysconf("SC_CLK_TCK")

    def _busy(self) -> float:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / self.tick

    def _ours(self) -> float:
        t = os.times()
        total = t.user + t.system + t.children_user + t.children_system
        return total + sum(cpu_seconds(pid) + sum(map(cpu_seconds, children(pid))) for pid in self.pids)

    def start(self) -> tuple[float, float, float]:
        return time.monotonic(), self._busy(), self._ours()

    def other(self, started: tuple[float, float, float]) -> float:
        """Share (0-1) of all CPUs used by other processes since `started`."""
        wall, busy, ours = started
        elapsed = (time.monotonic() - wall) * (os.cpu_count() or 1)
        return max(0.0, (self._busy() - busy) - (self._ours() - ours)) / elapsed if elapsed > 0 else 0.0


def scrape(metrics_port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
        return r.read().decode()


def sample_sum(exposition: str, name: str, keep: Callable[[str], bool] = lambda _labels: True) -> float:
    """Sum of the samples of `name` whose label text passes `keep`."""
    total = 0.0
    for line in exposition.splitlines():
        m = re.match(rf"{re.escape(name)}(\{{.*\}})? (\S+)$", line)
        if m and keep(m.group(1) or ""):
            total += float(m.group(2))
    return total


# -- fallback origin (run as `python harness.py origin CERT KEY HTTP_PORT HTTPS_PORT`) ---------------
_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\norigin says hello\n"


async def _serve_origin(cert: str, key: str, http_port: int, https_port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(_RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    plain = await asyncio.start_server(handle, "127.0.0.1", http_port)
    secure = await asyncio.start_server(handle, "127.0.0.1", https_port, ssl=tls)
    async with plain, secure:
        await asyncio.gather(plain.serve_forever(), secure.serve_forever())


async def _bare_runner(port: int, confdir: str) -> None:
    """proxy_addons/cli/run.py's `_serve` (its lean master, no flow printer), minus the gonogo addons."""
    import logging
    import signal

    from mitmproxy import options

    from proxy_addons.cli.lean import make_master

    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("asyncio", "hpack", "quic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    opts = options.Options(listen_host="127.0.0.1", listen_port=port)
    master = make_master(opts, quiet=True)
    opts.update(connection_strategy="lazy", confdir=confdir, ssl_insecure=True)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    await master.run()


if __name__ == "__main__" and sys.argv[1:2] == ["origin"]:
    asyncio.run(_serve_origin(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
elif __name__ == "__main__" and sys.argv[1:2] == ["bare-runner"]:
    asyncio.run(_bare_runner(int(sys.argv[2]), sys.argv[3]))
