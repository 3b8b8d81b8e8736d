"""A real Prometheus (Debian's `prometheus`) for tests: 127.0.0.1 on a free port, storage in a tmp dir, a 1 s
scrape and evaluation interval, a config generated for the given targets and rule files. Queries go through
the HTTP API; waiting is polling with a deadline (a new target shows up after about 6 s)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from tests.support import processes
from tests.support.proxy import free_port

PROMETHEUS = shutil.which("prometheus")
T = TypeVar("T")


class PromQLError(AssertionError):
    """Prometheus answered a query with an error (bad PromQL, unknown function, ...)."""


class Prometheus:
    def __init__(self, workdir: Path, targets: list[str], rule_files: tuple[Path, ...] = (),
                 job: str = "gonogo", config: dict[str, Any] | None = None) -> None:
        """`config`, when given, is used as it is (a deployment's own file, say) instead of the generated one;
        it is written to workdir/prometheus.yml, so relative rule_files resolve from workdir."""
        self.workdir = workdir
        self.given = config
        self.targets = targets
        self.rule_files = rule_files
        self.job = job
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "prometheus.log"
        self.http = httpx.Client(timeout=20, trust_env=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        if self.given is not None:
            return self.given
        return {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p.resolve()) for p in self.rule_files],
            "scrape_configs": [{"job_name": self.job, "static_configs": [{"targets": self.targets}]}],
        }

    def start(self, timeout: float = 30) -> Prometheus:
        assert PROMETHEUS, "prometheus is not installed (Debian package prometheus)"
        config = self.workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.port = free_port()
        with self.log.open("wb") as log:
            self.proc = processes.spawn(  # own process group: see support/processes.py
                [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=1h",
                 "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT)

        def ready() -> bool:
            try:
                return self.http.get(f"{self.url}/-/ready").status_code == 200
            except httpx.TransportError:
                return False

        self.wait(ready, timeout, "Prometheus ready")
        return self

    def stop(self) -> None:
        self.http.close()
        if self.proc is not None:
            processes.end(self.proc)

    def wait(self, check: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
        """Poll `check` until it returns something truthy (returned), or fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited ({self.proc.returncode}):\n{self.output()}")
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{self.output()}")
            time.sleep(interval)  # polling pace, not synchronisation: the condition decides

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def api(self, path: str, **params: Any) -> Any:
        response = self.http.get(f"{self.url}/api/v1/{path}", params=params)
        body = response.json()
        if body.get("status") != "success":
            raise PromQLError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; returns the result vector (a scalar comes back as one pseudo-sample)."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        data = self.api("query", **params)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]

    def value(self, expr: str) -> float | None:
        """The single value of a query (None when it is empty)."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def rules(self) -> Iterator[dict[str, Any]]:
        for group in self.api("rules")["groups"]:
            yield from group["rules"]


@contextmanager
def running(workdir: Path, targets: list[str], rule_files: tuple[Path, ...] = (), job: str = "gonogo",
            config: dict[str, Any] | None = None) -> Iterator[Prometheus]:
    prometheus = Prometheus(workdir, targets, rule_files, job, config)
    try:
        yield prometheus.start()
    finally:
        prometheus.stop()


def promtool_findings(exposition: str) -> list[str]:
    """`promtool check metrics` findings on a text exposition; [] means clean (no finding is excused)."""
    result = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True, text=True,
                            timeout=30)
    findings = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 or findings, f"promtool failed without saying why (exit {result.returncode})"
    return findings
