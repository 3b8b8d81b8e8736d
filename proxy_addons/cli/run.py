"""`gonogo run`: mitmproxy in-process with the gonogo addons, mitmdump-style logging, clean shutdown.

The policy is checked before mitmproxy starts so a broken file exits non-zero with `file:line` errors
instead of a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from ..policy import PolicyError, load_policy
from ..usage.statespec import StateError, check_state
from . import settings
from .numbers import int_between


def add_run(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run", help="run the enforcing proxy",
        description="Run mitmproxy with the gonogo addon. Clients use it as their HTTP(S) proxy "
                    "(or fetch http://HOST:PORT/proxy.pac). Stop with Ctrl-C or SIGTERM.")
    settings.add_policy(p, positional=False)  # watched: valid changes apply at once
    p.add_argument("--listen-host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; a gateway uses its LAN address or 0.0.0.0; "
                        "mitmproxy's block_global still refuses clients with public addresses)")
    p.add_argument("--listen-port", type=int_between(0, 65535), default=8080,
                   help="proxy port (0 picks a free one; the log says which)")
    p.add_argument("--metrics-host", default="127.0.0.1", help="address of /metrics and /healthz")
    p.add_argument("--metrics-port", type=int_between(-1, 65535), default=9464,
                   help="port of /metrics and /healthz (-1 disables)")
    settings.add_state(p, "quota ledger")
    state_dir = settings.env("GONOGO_STATE_DIR")
    p.add_argument("--state-dir", default=state_dir, metavar="DIR",
                   help="keys and audit log (default $GONOGO_STATE_DIR"
                        f"{f', now {state_dir}' if state_dir else ''}, else the SQLite ledger's directory, else ./var)")
    p.add_argument("--tls", choices=["intercept", "passthrough-only"], default="intercept",
                   help="passthrough-only: no CA on clients; nothing is decrypted, blocked hosts are refused at "
                        "CONNECT/SNI and time-boxes count per connection")
    p.add_argument("--ledger-unavailable", choices=["allow", "block"], default="allow",
                   help="what time-boxed requests get while a shared ledger is unreachable")
    p.add_argument("--resolve", action="append", default=[], metavar="HOST=IP",
                   help="connect to IP for HOST (and its subdomains), like curl --resolve; decisions still use HOST")
    p.add_argument("--allow-upstream", action="append", default=[], metavar="CIDR",
                   help="admit this network as a destination on any port, though it is loopback, link-local, the "
                        "gateway's own or denied (e.g. 127.0.0.0/8 for origins on this machine); the proxy's own "
                        "ports and the quota ledger stay refused")
    p.add_argument("--deny-upstream", action="append", default=[], metavar="CIDR",
                   help="refuse this network as a destination too (loopback, link-local and the gateway's own "
                        "addresses are refused already)")
    p.add_argument("--connect-port", action="append", default=[], metavar="PORT",
                   help="a port (or range such as 8000-8999) CONNECT tunnels may go to; repeatable; default 443 "
                        "(giving any replaces the default, so list 443 too)")
    p.add_argument("--set", dest="setoptions", action="append", default=[], metavar="OPTION=VALUE",
                   help="any mitmproxy option, e.g. --set proxyauth=@htpasswd --set confdir=/etc/gonogo/ca")
    p.add_argument("-q", "--quiet", action="store_true", help="print no flows, even with --log-requests")
    p.add_argument("--log-requests", action="store_true",
                   help="log every request (method, URL with path and query) and client addresses; off by "
                        "default, as the employee notice promises")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = settings.need_policy(args, "run")
    if path is None:
        return 2
    try:
        policy = load_policy(path, _list_cache(args))
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("gonogo: not starting: the policy is invalid", file=sys.stderr)
        return 1
    for warning in policy.warnings:
        print(warning, file=sys.stderr)
    try:
        check_state(args.state)
    except StateError as exc:
        print(f"gonogo: cannot start: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0


def _list_cache(args: argparse.Namespace) -> Path:
    """Where the gateway will read remote lists from (`<state dir>/lists`), so this check sees the same."""
    from ..gateway.store import state_dir_for

    state_dir = next((o.split("=", 1)[1] for o in args.setoptions if o.startswith("gonogo_state_dir=")),
                     args.state_dir or "")
    return state_dir_for(args.state, state_dir) / "lists"


async def _serve(args: argparse.Namespace) -> int:
    from mitmproxy import exceptions, options
    from mitmproxy.tools.dump import DumpMaster

    from ..gateway.addons import make_addons
    from ..gateway.state import GatewayState
    from ..gateway.streaming import DEFAULT_STREAM

    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("asyncio", "hpack", "quic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    opts = options.Options(listen_host=args.listen_host, listen_port=args.listen_port)
    master = DumpMaster(opts, with_termlog=True, with_dumper=not args.quiet)
    state = GatewayState()
    master.addons.add(*make_addons(state))
    try:
        opts.update(
            connection_strategy="lazy",
            gonogo_policy=args.policy,
            gonogo_state=args.state,
            gonogo_metrics_host=args.metrics_host,
            gonogo_metrics_port=args.metrics_port,
            gonogo_tls=args.tls,
            gonogo_ledger_unavailable=args.ledger_unavailable,
            gonogo_resolve=args.resolve,
            gonogo_allow_upstream=args.allow_upstream,
            gonogo_deny_upstream=args.deny_upstream,
            gonogo_log_requests=args.log_requests,
            stream_large_bodies=DEFAULT_STREAM,
        )
        if args.connect_port:
            opts.update(gonogo_connect_ports=args.connect_port)
        if args.state_dir:
            opts.update(gonogo_state_dir=args.state_dir)
        confdir = settings.env("GONOGO_CONFDIR")
        if confdir:
            opts.update(confdir=confdir)  # a --set confdir=... below still wins
        if args.setoptions:
            opts.set(*args.setoptions)
    except exceptions.OptionsError as exc:
        print(f"gonogo: {exc}", file=sys.stderr)
        return 1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    await master.run()
    return 1 if state.fatal else 0
