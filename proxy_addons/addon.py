"""The mitmproxy addon: hooks only, thin glue between mitmproxy and policy, usage, metrics and pages.

Load it with `gonogo run` or `mitmdump -s proxy_addons/addon.py --set gonogo_policy=POLICY`.
Hosts no rule covers are passed through undecrypted at `tls_clienthello`; everything else is decided
per request on the request's own host, before any upstream connection is made (lazy strategy).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # loaded as `mitmdump -s proxy_addons/addon.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mitmproxy import ctx, exceptions, http, tls
from mitmproxy.proxy import server_hooks

from proxy_addons.audit import AuditLog
from proxy_addons.gateway import continuelink
from proxy_addons.gateway.decider import Decider
from proxy_addons.gateway.identity import client_ip, identify
from proxy_addons.gateway.reloader import PolicyWatcher
from proxy_addons.gateway.responses import Responder
from proxy_addons.metrics import Metrics
from proxy_addons.policy import BadHost, Decision, Policy, PolicyError, Who, load_policy, normalize_host
from proxy_addons.policy.hosts import suffixes
from proxy_addons.usage import ResilientLedger, open_ledger

log = logging.getLogger("gonogo")

PAC_PATHS = ("/proxy.pac", "/wpad.dat")


class Gonogo:
    """Enforces a gonogo policy on the traffic of one mitmproxy process."""

    def __init__(self) -> None:
        self.policy: Policy | None = None
        self.metrics = Metrics()
        self.ledger: ResilientLedger | None = None
        self.decider: Decider | None = None
        self.responder: Responder | None = None
        self.watcher: PolicyWatcher | None = None
        self._metrics_server: Any = None
        self._state_dir = Path("var")
        self._resolve: dict[str, str] = {}
        self._dialled: dict[str, tuple[str, int]] = {}  # server connection id -> address before --resolve
        self.audit: AuditLog | None = None
        self.fatal: str | None = None  # why the proxy stopped itself, for `gonogo run`'s exit status

    # -- mitmproxy life cycle ---------------------------------------------------------------
    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_policy", str, "", "gonogo policy file (YAML); watched and reloaded on change.")
        loader.add_option("gonogo_state", str, "sqlite:var/gonogo.db",
                          "Quota ledger: sqlite:PATH (embedded) or redis://HOST:PORT/DB (shared by many proxies).")
        loader.add_option("gonogo_state_dir", str, "",
                          "Directory for the proxy's keys and audit log. Default: the SQLite file's directory, "
                          "else ./var.")
        loader.add_option("gonogo_metrics_host", str, "127.0.0.1", "Address of the /metrics and /healthz server.")
        loader.add_option("gonogo_metrics_port", int, 9464, "Port of the /metrics server; 0 picks one, -1 disables.")
        loader.add_option("gonogo_ledger_unavailable", str, "allow",
                          "What time-boxed requests get while a shared ledger is unreachable.",
                          choices=["allow", "block"])
        loader.add_option("gonogo_tls", str, "intercept",
                          "intercept: decrypt covered hosts (needs the CA on clients); passthrough-only: decrypt "
                          "nothing, refuse blocked hosts at CONNECT/SNI and count time-boxes per connection.",
                          choices=["intercept", "passthrough-only"])
        loader.add_option("gonogo_status_host", str, "gonogo.status",
                          "Reserved host name of the employee status page (http://gonogo.status/).")
        loader.add_option("gonogo_reload_ms", int, 1000, "How often (milliseconds) the policy file is checked.")
        loader.add_option("gonogo_resolve", Sequence[str], [],
                          "HOST=IP: connect to IP for HOST and its subdomains (split-horizon, staging, tests); "
                          "decisions still use HOST.")

    def configure(self, updated: set[str]) -> None:
        if "gonogo_policy" in updated:
            path = ctx.options.gonogo_policy
            if not path:
                raise exceptions.OptionsError("gonogo_policy is required: --set gonogo_policy=policies/example.yaml")
            try:
                policy = load_policy(path)
            except PolicyError as exc:
                if self.policy is None:
                    raise exceptions.OptionsError(f"invalid policy:\n{exc}") from None
                self.reload_failed(exc)
                return
            self.install(policy)
        if "gonogo_resolve" in updated:
            self._resolve = _parse_resolve(ctx.options.gonogo_resolve)
        if "gonogo_state" in updated or "gonogo_state_dir" in updated:
            self._state_dir = Path(ctx.options.gonogo_state_dir or _default_state_dir(ctx.options.gonogo_state))

    async def running(self) -> None:
        try:
            await self._start()
        except Exception as exc:
            # mitmproxy would log this and keep proxying, unenforced: stop instead, and say why
            self.fatal = f"gonogo: cannot start: {exc}"
            log.exception(self.fatal)
            ctx.master.shutdown()

    async def _start(self) -> None:
        if ctx.options.connection_strategy != "lazy":
            # eager would dial a blocked host at CONNECT time; gonogo decides before any upstream contact
            log.info("gonogo: setting connection_strategy=lazy so blocked hosts are never contacted")
            ctx.options.update(connection_strategy="lazy")
        assert self.policy is not None
        self.ledger = open_ledger(ctx.options.gonogo_state, unavailable=ctx.options.gonogo_ledger_unavailable,
                                  journal=self._state_dir)
        self._wire_ledger_metrics(self.ledger)
        self.ledger.start()
        key = continuelink.load_key(self._state_dir / "continue.key")
        self.audit = AuditLog(self._state_dir / "audit", self.policy.privacy, self._state_dir / "audit.key")
        self.decider = Decider(self.ledger, self.metrics, ctx.options.gonogo_ledger_unavailable, self._audit)
        self.responder = Responder(key, self.ledger, self.metrics, ctx.options.gonogo_status_host,
                                   self._state_dir, self._audit)
        self.responder.policy_changed(self.policy)
        if ctx.options.gonogo_metrics_port >= 0:
            try:
                self._metrics_server = self.metrics.serve(ctx.options.gonogo_metrics_host,
                                                          ctx.options.gonogo_metrics_port)
            except OSError as exc:
                # a gateway nobody can monitor or health-check should not pretend to be fine
                self.fatal = (f"gonogo: cannot serve metrics on {ctx.options.gonogo_metrics_host}:"
                              f"{ctx.options.gonogo_metrics_port}: {exc.strerror or exc}")
                log.error(self.fatal)
                ctx.master.shutdown()
                return
            log.info(f"gonogo metrics at http://{ctx.options.gonogo_metrics_host}:{self._metrics_server.port}/metrics")
        self.watcher = PolicyWatcher(Path(ctx.options.gonogo_policy), self.policy, ctx.options.gonogo_reload_ms / 1000,
                                     on_good=self.install, on_bad=self.reload_failed)
        self.watcher.start()
        ca = Path(ctx.options.confdir).expanduser() / "mitmproxy-ca-cert.pem"
        ports = sorted({addr[1] for addr in ctx.master.addons.get("proxyserver").listen_addrs()}) or ["PORT"]
        log.info(f"gonogo: clients trust the CA {ca} (or fetch it from http://mitm.it through the proxy); "
                 f"browsers can use the PAC file http://<this host>:{ports[0]}/proxy.pac")
        log.info(f"gonogo enforcing {self.policy.source} ({len(self.policy.rules)} rules, "
                 f"sha256 {self.policy.sha256[:12]}), state {ctx.options.gonogo_state}")

    def _wire_ledger_metrics(self, ledger: ResilientLedger) -> None:
        ledger.on_error = lambda _error: self.metrics.ledger_error()
        ledger.on_availability_change = self.metrics.ledger_available
        self.metrics.ledger_available(ledger.available)

    async def done(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        if self._metrics_server is not None:
            self._metrics_server.stop()
            self._metrics_server = None
        if self.responder is not None:
            await self.responder.close()
        if self.ledger is not None:
            await self.ledger.close()
            self.ledger = None
        if self.audit is not None:
            await asyncio.to_thread(self.audit.close)
            self.audit = None

    def _audit(self, event: str, policy: Policy, person: Who, decision: Decision, host: str) -> None:
        if self.audit is not None:
            self.audit.record(decision, user=person.user or person.key, host=host, event=event)

    # -- policy changes ---------------------------------------------------------------------
    def install(self, policy: Policy) -> None:
        first = self.policy is None
        self.policy = policy
        self.metrics.policy_loaded(policy)
        if self.responder is not None:
            self.responder.policy_changed(policy)
        if self.audit is not None:
            self.audit.reconfigure(policy.privacy)
        if self.watcher is not None:
            self.watcher.known = policy
        if not first:
            self.metrics.reload("ok")
            log.info(f"gonogo: policy reloaded (sha256 {policy.sha256[:12]}, {len(policy.rules)} rules)")
        for warning in policy.warnings:
            log.warning(str(warning))

    def reload_failed(self, exc: PolicyError) -> None:
        self.metrics.reload("error")
        log.error("gonogo: policy change rejected, the last good policy stays in force:")
        for problem in exc.problems:
            log.error(str(problem))

    # -- connections --------------------------------------------------------------------------
    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        """Pass through, undecrypted, every connection no rule could ever decide. The CONNECT host and
        the SNI both count, so leaving out or faking one of them does not avoid the policy."""
        policy = self.policy
        if policy is None:
            return
        names = [data.client_hello.sni]
        if data.context.server.address:
            names.append(data.context.server.address[0])
        hosts = _normalised(names)
        person = self._connection_person(data.context.client)
        groups = None if policy.identity.trusted_header else policy.groups_of(person.user, person.ip)
        status = ctx.options.gonogo_status_host
        covered = any(h == status or policy.covers(h, groups) for h in hosts)
        if ctx.options.gonogo_tls == "passthrough-only":
            blocked = covered and self.decider is not None and any(
                self.decider.peek(policy, person, h).decision == "block" for h in hosts)
            # a blocked host is not passed through: the handshake with our (untrusted) certificate fails
            data.ignore_connection = not blocked
            if not blocked:
                self.metrics.passthrough("no-ca-mode")
            return
        if covered:
            self.metrics.intercepted()
        else:
            data.ignore_connection = True
            self.metrics.passthrough("uncovered")

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        """In no-CA mode the CONNECT is the only place to refuse a host or count a time-box."""
        if ctx.options.gonogo_tls != "passthrough-only" or flow.response is not None or self.policy is None:
            return
        assert self.decider is not None
        hosts = _normalised([flow.request.host])
        if not hosts or not self.policy.covers(hosts[0]):
            return
        person = self._flow_person(flow)
        decision, _ = await self.decider.decide(self.policy, person, hosts, "GET", "/")
        if decision.decision == "block":
            flow.response = http.Response.make(403, decision.reason.encode(), {"content-type": "text/plain"})

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if not self._resolve or not data.server.address:
            return
        host, port = data.server.address
        with contextlib.suppress(BadHost):
            for name in suffixes(normalize_host(host)):
                if name in self._resolve:
                    self._dialled[data.server.id] = data.server.address
                    data.server.address = (self._resolve[name], port)
                    return

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        """Give a `--resolve`d connection its name back once it is open: mitmproxy reuses a connection only
        for requests to the address it has, so without this every request would dial a new one (and, under
        load, requests queued for the renamed connection were left waiting)."""
        if self._dialled:
            original = self._dialled.pop(data.server.id, None)
            if original is not None:
                # `Server.__setattr__` refuses any address change on an open connection, because it cannot
                # redirect one; this is a relabelling only (the peer stays the mapped IP), so bypass it
                vars(data.server)["address"] = original

    server_connect_error = server_connected

    # -- requests -----------------------------------------------------------------------------
    async def request(self, flow: http.HTTPFlow) -> None:
        try:
            await self._request(flow)
        except Exception:
            # mitmproxy would log the error and forward the request: an enforcing gateway fails closed instead
            log.exception(f"gonogo: could not decide a request to {flow.request.host}; refusing it")
            flow.response = http.Response.make(
                503, b"The gateway could not decide this request. Try again; if it persists, tell IT.\n",
                {"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"})

    async def _request(self, flow: http.HTTPFlow) -> None:
        if self.policy is None or self.decider is None or self.responder is None:
            return
        policy = self.policy
        req = flow.request
        hosts = _normalised([req.host, req.host_header])
        to_proxy = self._addressed_to_proxy(flow)
        if req.path.split("?")[0] in PAC_PATHS and (to_proxy or ctx.options.gonogo_status_host in hosts):
            # browsers fetch the PAC file before they use the proxy, so it needs no proxy authentication;
            # it names the proxy by the address this client reached it at
            ip, port = flow.client_conn.sockname[:2]
            own = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
            if to_proxy and req.host_header:
                own = req.host_header
            flow.response = await self.responder.pac(policy, own)
            return
        if flow.response is not None:
            return  # e.g. proxyauth answered 407
        person = self._flow_person(flow)
        if ctx.options.gonogo_status_host in hosts:
            flow.response = await self.responder.status(policy, person, req)
            return
        if req.path.startswith(continuelink.CONTINUE_PATH):
            flow.response = await self.responder.continue_link(policy, person, req, hosts)
            return
        if not hosts:
            return
        decision, host = await self.decider.decide(policy, person, hosts, req.method, req.path.split("?")[0])
        flow.metadata["gonogo"] = decision
        if decision.decision != "allow":
            flow.response = self.responder.refusal(policy, person, decision, host, req)

    def response(self, flow: http.HTTPFlow) -> None:
        decision: Decision | None = flow.metadata.get("gonogo")
        if decision is not None and decision.decision == "allow" and decision.quota is not None and flow.response:
            flow.response.headers["X-Gonogo-Minutes-Left"] = str(decision.quota.left)

    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        """A message on a covered host is activity: it counts like a request and stops when the budget does."""
        decision: Decision | None = flow.metadata.get("gonogo")
        if decision is None or self.policy is None or self.decider is None:
            return
        hosts = _normalised([flow.request.host, flow.request.host_header])
        again, _ = await self.decider.decide(self.policy, self._flow_person(flow), hosts, "GET",
                                             flow.request.path.split("?")[0])
        if again.decision != "allow":
            assert flow.websocket is not None
            flow.websocket.messages[-1].drop()
            flow.kill()
            _close_connections(flow)

    # -- identity -----------------------------------------------------------------------------
    def _flow_person(self, flow: http.HTTPFlow) -> Who:
        assert self.policy is not None
        auth = flow.metadata.get("proxyauth")
        header_name = self.policy.identity.trusted_header
        header_value = flow.request.headers.get(header_name) if header_name else None
        person = identify(self.policy, client_ip(flow.client_conn.peername), auth[0] if auth else None,
                          header_value)
        if header_name and header_name in flow.request.headers:
            del flow.request.headers[header_name]  # the origin has no business knowing who the employee is
        return person

    def _connection_person(self, client: Any) -> Who:
        assert self.policy is not None
        auth = ctx.master.addons.get("proxyauth")
        known = auth.authenticated.get(client) if auth is not None else None
        return identify(self.policy, client_ip(client.peername), known[0] if known else None)

    @staticmethod
    def _addressed_to_proxy(flow: http.HTTPFlow) -> bool:
        """A plain request for the proxy's own address (a browser fetching its PAC file)."""
        sock = flow.client_conn.sockname
        return bool(sock) and flow.request.scheme == "http" and flow.request.port == sock[1] and (
            not flow.client_conn.tls_established)


def _close_connections(flow: http.HTTPFlow) -> None:
    """End a WebSocket the policy no longer allows. mitmproxy's WebSocket layer ignores `kill()`, so close
    both sides through the connection handler (best effort: without it, later messages are still dropped)."""
    handler = getattr(ctx.master.addons.get("proxyserver"), "connections", {}).get(flow.client_conn.id)
    if handler is None:
        return
    with contextlib.suppress(Exception):
        handler.close_connection(flow.client_conn)
        if flow.server_conn is not None:
            handler.close_connection(flow.server_conn)


def _normalised(names: list[str | None]) -> list[str]:
    found: list[str] = []
    for name in names:
        if not name:
            continue
        try:
            host = normalize_host(name)
        except BadHost:
            continue
        if host not in found:
            found.append(host)
    return found


def _parse_resolve(specs: Sequence[str]) -> dict[str, str]:
    found = {}
    for spec in specs:
        host, sep, ip = spec.partition("=")
        if not sep or not host or not ip:
            raise exceptions.OptionsError(f"gonogo_resolve: {spec!r} is not HOST=IP")
        try:
            found[normalize_host(host)] = str(ipaddress.ip_address(ip))
        except (BadHost, ValueError) as exc:
            raise exceptions.OptionsError(f"gonogo_resolve: {spec!r}: {exc}") from None
    return found


def _default_state_dir(state: str) -> str:
    if state.startswith("sqlite:"):
        return str(Path(state.removeprefix("sqlite:")).parent)
    return "var"


addons = [Gonogo()]
