"""The lean master of `gonogo run` (which mitmproxy features it keeps, and the clear error for an option of
one it leaves out) and block answers served from pre-built parts."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from mitmproxy import options
from mitmproxy.test import tutils
from prometheus_client import CollectorRegistry

from proxy_addons.cli.lean import INCLUDED, excluded_option_error, excluded_options, make_master
from proxy_addons.gateway.responses import Responder
from proxy_addons.metrics import Metrics
from proxy_addons.policy import Decision, Who, load_policy
from proxy_addons.usage import MemoryLedger
from tests.support import processes
from tests.support.proxy import Gonogo

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "example.yaml"

# Options people set on a gateway: each must still exist in `gonogo run` (see README, "What gonogo run includes")
RELIED_ON = ("proxyauth", "block_global", "block_private", "ignore_hosts", "allow_hosts", "confdir", "mode",
             "ssl_insecure", "ssl_verify_upstream_trusted_ca", "ssl_verify_upstream_trusted_confdir", "upstream_auth",
             "onboarding", "onboarding_host", "http2", "websocket", "connection_strategy", "listen_host",
             "upstream_cert", "termlog_verbosity", "tcp_hosts")


def test_the_lean_master_loads_only_the_gateways_builtins_and_keeps_the_options_people_rely_on() -> None:
    async def build() -> tuple[set[str], options.Options]:
        opts = options.Options()
        master = make_master(opts, quiet=True)
        return {type(addon).__module__.rsplit(".", 1)[-1] for addon in master.addons.chain}, opts

    names, opts = asyncio.run(build())
    assert names == {*INCLUDED, "termlog"}
    assert not any(opt not in opts for opt in RELIED_ON), [opt for opt in RELIED_ON if opt not in opts]


def test_options_of_left_out_addons_are_known_by_name() -> None:
    excluded = excluded_options()
    for option, addon in (("save_stream_file", "save"), ("map_local", "maplocal"), ("anticache", "anticache"),
                          ("stickycookie", "stickycookie"), ("scripts", "script"), ("server_replay", "serverplayback"),
                          ("flow_detail", "dumper")):
        assert excluded.get(option) == addon
    assert not set(excluded) & set(RELIED_ON)


def test_setting_an_option_of_a_left_out_addon_is_a_clear_error() -> None:
    opts = options.Options()
    message = excluded_option_error(opts, ["listen_port=1", "map_local=|example.com|/tmp"], quiet=False)
    assert message is not None and "map_local" in message and "gonogo run does not include" in message
    assert "-q" in (excluded_option_error(opts, ["flow_detail=3"], quiet=True) or "")
    assert excluded_option_error(opts, ["no_such_option_anywhere=1"], quiet=False) is None  # mitmproxy says it


def test_gonogo_run_refuses_an_option_it_does_not_include(tmp_path: Path) -> None:
    done = processes.run([sys.executable, "-m", "proxy_addons.cli", "run", "--policy", str(EXAMPLE),
                          "--listen-port", "0", "--metrics-port", "-1", "--state", f"sqlite:{tmp_path / 'g.db'}",
                          "--set", "save_stream_file=/tmp/flows"], timeout=60, cwd=tmp_path)
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "option save_stream_file belongs to mitmproxy's save addon, which gonogo run does not include" in err
    assert "Unknown option" not in err


def _refusal(responder: Responder, decision: Decision, lang: str, dest: str = "document") -> tuple[bytes, dict]:
    policy = load_policy(EXAMPLE)
    req = tutils.treq(headers=((b"accept-language", lang.encode()), (b"sec-fetch-dest", dest.encode())))
    response = responder.refusal(policy, Who("ann", "10.0.0.1"), decision, "tiktok.com", req, "gonogo.status")
    return response.content or b"", {name.lower(): value for name, value in response.headers.items()}


def test_block_answers_are_rendered_once_per_decision_shape_and_stay_the_same() -> None:
    responder = Responder(b"k" * 32, MemoryLedger(), Metrics(CollectorRegistry()))
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    decision = Decision("block", "block", "tiktok trial", "social", None, "blocked by rule tiktok trial", until=until)
    first = _refusal(responder, decision, "en")
    again = _refusal(responder, decision, "en")
    assert responder._prebuilt.rendered == 1 and first == again
    assert b"tiktok.com" in first[0] and first[1]["content-length"] == str(len(first[0]))
    assert first[1]["x-gonogo-rule"] == "tiktok trial" and "no-store" in first[1]["cache-control"]
    dutch = _refusal(responder, decision, "nl")
    text = _refusal(responder, decision, "en", dest="empty")
    assert responder._prebuilt.rendered == 3
    assert dutch[1]["content-language"] == "nl" and dutch[0] != first[0]
    assert text[1]["content-type"].startswith("text/plain") and first[1]["content-type"].startswith("text/html")


BLOCKING = """\
version: 1
timezone: UTC
categories:
  pro: {domains: [linkedin.test]}
rules:
  - name: no linkedin
    categories: [pro]
    action: block
default: allow
"""


@pytest.mark.parametrize("debug", [False, True], ids=["optimized", "GONOGO_DEBUG=1"])
def test_gonogo_run_reruns_itself_under_python_O_in_the_same_process_unless_debugging(
        tmp_path: Path, debug: bool) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(BLOCKING)
    env = {"GONOGO_DEBUG": "1" if debug else "", "PYTHONOPTIMIZE": ""}
    gonogo = Gonogo(tmp_path, policy, env=env).start()
    try:
        assert gonogo.proc is not None
        pid = gonogo.proc.pid  # the process the caller started (systemd, a supervisor) is the one that serves
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert (b"PYTHONOPTIMIZE=1" in environ) is not debug  # what the re-run (and any worker) runs under
        assert b"--policy" in cmdline and str(policy).encode() in cmdline
        with gonogo.client() as client:
            blocked = client.get("https://linkedin.test/", headers={"accept": "text/plain"})
        assert blocked.status_code == 403 and "no linkedin" in blocked.text
    finally:
        assert gonogo.stop() == 0, gonogo.output()


def test_the_lean_master_keeps_the_ca_download_and_http2(tmp_path: Path) -> None:
    """What people rely on from mitmproxy's own addons, through `gonogo run`'s lean master and hook table:
    `http://mitm.it` hands out the proxy's CA, and a browser speaking HTTP/2 to the proxy is decided as usual."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(BLOCKING)
    gonogo = Gonogo(tmp_path, policy).start()
    try:
        with gonogo.client() as client:
            pem = client.get("http://mitm.it/cert/pem")
        assert pem.status_code == 200 and pem.content.strip() == gonogo.ca.read_bytes().strip()
        # curl, not httpx: httpx speaks HTTP/1.1 inside a proxy tunnel
        done = subprocess.run(["curl", "-s", "--http2", "--cacert", str(gonogo.ca), "-x", gonogo.url,
                               "-H", "accept: text/plain", "-w", "\n%{http_version} %{http_code}",
                               "https://linkedin.test/"], capture_output=True, text=True, timeout=30)
        body, _, version_status = done.stdout.rpartition("\n")
        assert version_status == "2 403" and "no linkedin" in body, done
    finally:
        assert gonogo.stop() == 0, gonogo.output()
