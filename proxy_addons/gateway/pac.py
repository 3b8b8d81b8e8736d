"""PAC (proxy auto-config, also served as WPAD `wpad.dat`) generated from the policy.

Only hosts some rule covers (shadow rules included, as in `Policy.covers`) are sent to the proxy;
everything else goes DIRECT, so traffic the policy does not care about never even passes the gateway.
When a rule covers every host, or the default is not `allow`, every host goes through the proxy.

There is deliberately no `; DIRECT` fallback after the proxy: if the gateway is down, covered sites
fail instead of silently escaping the policy. (The firewall remains the real enforcement; a PAC file
is a convenience a user can switch off.)

Small lists become a chain of `host == d || dnsDomainIs(host, ".d")` tests, readable by an admin.
Large lists (thousands of domains from blocklist files) become one object literal and a walk over the
host's suffixes: a handful of lookups per URL instead of thousands of comparisons. Both forms use only
ES3 so they run in every PAC engine (V8, SpiderMonkey, Windows' JScript).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict

from ..pages import STATUS_URL
from ..policy import Policy
from ..policy.hosts import suffixes

STATUS_HOST = STATUS_URL.split("://", 1)[1].split("/", 1)[0]
LOOKUP_THRESHOLD = 5000  # more domains than this: generate the object lookup instead of if-lines

_NORMALIZE = """\
  var h = String(host).toLowerCase();
  if (h.charAt(0) == "[" && h.charAt(h.length - 1) == "]") h = h.substring(1, h.length - 1);
  while (h.length > 0 && h.charAt(h.length - 1) == ".") h = h.substring(0, h.length - 1);
"""


def covered_domains(policy: Policy, always: tuple[str, ...] = (STATUS_HOST,)) -> list[str] | None:
    """The minimal sorted list of domains whose hosts (and subdomains) go through the proxy, or None
    when every host must (a catch-all rule or a default other than allow)."""
    if policy.default != "allow" or any(rule.host_tags is None for rule in policy.rules):
        return None
    covered = {d for d in policy.index.domains() if policy.covers(d)}
    covered.update(always)
    # a domain already covered through a parent adds nothing
    return sorted(d for d in covered if not any(s in covered for s in list(suffixes(d))[1:]))


def render_pac(policy: Policy, proxy: str, *, always: tuple[str, ...] = (STATUS_HOST,),
               threshold: int = LOOKUP_THRESHOLD) -> str:
    """The PAC file for `policy`; `proxy` is the `host:port` clients use to reach the gateway (as in the
    Host header of the PAC request; without a port, 80).
    Hosts in `always` (the status page's reserved host) go through the proxy whatever the policy."""
    if not proxy or any(c in proxy for c in " ;\"'\\\n\r\t/"):
        raise ValueError(f"proxy must be host:port, not {proxy!r}")
    if not re.search(r":\d+$", proxy):
        proxy += ":80"  # a Host header without a port: the PAC file was fetched on port 80
    target = json.dumps(f"PROXY {proxy}")
    domains = covered_domains(policy, always)
    header = (f"// gonogo PAC for policy {json.dumps(policy.source)} (sha256 {policy.sha256[:12]}).\n"
              "// Generated; do not edit. Hosts covered by a rule go through the gateway, the rest DIRECT.\n")
    if domains is None:
        return header + ("// A rule covers every host (or the default is not allow): everything goes through "
                         f"the gateway.\nfunction FindProxyForURL(url, host) {{\n  return {target};\n}}\n")
    if len(domains) <= threshold:
        tests = " ||\n      ".join(f"h == {json.dumps(d)} || dnsDomainIs(h, {json.dumps('.' + d)})"
                                   for d in domains)
        return header + (f"function FindProxyForURL(url, host) {{\n{_NORMALIZE}"
                         f"  if ({tests})\n    return {target};\n  return \"DIRECT\";\n}}\n")
    # keys carry a leading "." so that no domain can collide with an Object.prototype member
    table = ",\n".join(f"{json.dumps('.' + d)}:1" for d in domains)
    return header + (
        f"var GONOGO_DOMAINS = {{\n{table}\n}};\n"
        "function FindProxyForURL(url, host) {\n" + _NORMALIZE +
        "  var has = Object.prototype.hasOwnProperty;\n"
        "  for (;;) {\n"
        f"    if (has.call(GONOGO_DOMAINS, \".\" + h)) return {target};\n"
        "    var dot = h.indexOf(\".\");\n"
        "    if (dot < 0) return \"DIRECT\";\n"
        "    h = h.substring(dot + 1);\n"
        "  }\n"
        "}\n"
    )


_PLACEHOLDER = "gonogo-proxy.invalid:1"  # stands for the proxy address in a cached PAC file
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PROXY_ADDRESS = re.compile(rf"(?P<host>{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?")


def proxy_address(value: str) -> str | None:
    """`value` (a Host header) as the `host:port` a PAC file may name, or None when it is not a host name,
    IPv4 or [IPv6] address with an optional port: it is written into JavaScript every browser runs."""
    found = _PROXY_ADDRESS.fullmatch(value)
    if found is None or len(value) > 260:
        return None
    port = int(found["port"] or 80)  # a Host header without a port: the PAC file was fetched on port 80
    if not 0 < port < 65536:
        return None
    return f"{found['host']}:{port}"


class PacCache:
    """PAC files, written out once per policy and status host (a million domains take a second or two, off
    the event loop) and then only filled in with the proxy address each client used. The address comes
    from the unauthenticated Host header, so the filled-in copies are bounded too."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._template: tuple[tuple[str, str], str] | None = None  # ((policy sha, status host), text)
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, policy: Policy, proxy: str, status_host: str) -> bytes:
        """The PAC file naming `proxy` (already checked by `proxy_address`)."""
        key = (policy.sha256, status_host)
        async with self._lock:  # simultaneous first requests build it once
            if self._template is None or self._template[0] != key:
                text = await asyncio.to_thread(render_pac, policy, _PLACEHOLDER, always=(status_host,))
                self._template = (key, text)
                self._bodies.clear()
        template = self._template[1]
        body = self._bodies.get(proxy)
        if body is None:
            body = template.replace(json.dumps(f"PROXY {_PLACEHOLDER}"), json.dumps(f"PROXY {proxy}")).encode()
            self._bodies[proxy] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)
        else:
            self._bodies.move_to_end(proxy)
        return body
