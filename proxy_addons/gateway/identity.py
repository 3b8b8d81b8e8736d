"""Who is behind a request: proxyauth user, then a trusted header from a trusted proxy, then the client
address (subnet groups), else anonymous. The ledger key keeps time-boxes per person, or per address
for people the proxy cannot name. User names are normalised (`EXAMPLE\\anna`, `anna@EXAMPLE.COM` and
`Anna` are `anna`, see policy/names.py), so ledger keys, metrics and audit see one person; the company
directory's groups of the person (last known, never waited for) come along in `Who.groups_from_directory`."""

from __future__ import annotations

import ipaddress
import weakref
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, http

from ..policy import Policy, Who
from ..policy.names import normalize_user

if TYPE_CHECKING:
    from ..directory import Membership


def client_ip(peername: tuple | None) -> str | None:
    if not peername:
        return None
    ip = str(peername[0])
    if ip.startswith("::ffff:") and "." in ip:
        ip = ip[7:]
    return ip


def trusted(policy: Policy, ip: str | None) -> bool:
    if ip is None or not policy.identity.trusted_proxies:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in policy.identity.trusted_proxies)


def identify(policy: Policy, ip: str | None, proxyauth_user: str | None,
             header_value: str | None = None, directory: Membership | None = None) -> Who:
    """`header_value` is the value of the policy's trusted header, if the request carried one; `directory`
    the membership from the company directory, when the policy uses one."""
    name = proxyauth_user
    if not name and header_value and policy.identity.trusted_header and trusted(policy, ip):
        name = header_value
    user = normalize_user(name) if name else None
    if not user:
        return Who(None, ip)
    return Who(user, ip, directory.groups(user) if directory is not None else ())


# who the trusted proxy's CONNECT named (or did not name) on a client connection: the requests inside that
# tunnel are written by the employee, not by the trusted proxy, so their header cannot name someone else.
# Plain requests from the trusted proxy carry the header it wrote on each (it may share one connection among
# several people). Weak keys: the entry goes with the connection.
_BY_CONNECTION: weakref.WeakKeyDictionary[Any, Who] = weakref.WeakKeyDictionary()


def flow_person(policy: Policy, flow: http.HTTPFlow, directory: Membership | None = None) -> Who:
    """Who sent `flow`, worked out once per flow (kept in `flow.metadata`): the trusted header is removed
    from the request on the way, since the origin has no business knowing who the employee is."""
    known = flow.metadata.get("gonogo_who")
    if isinstance(known, Who):
        return known
    auth = flow.metadata.get("proxyauth")
    header_name = policy.identity.trusted_header
    header_value = flow.request.headers.get(header_name) if header_name else None
    ip = client_ip(flow.client_conn.peername)
    fixed = _BY_CONNECTION.get(flow.client_conn) if header_name else None
    if auth:
        person = identify(policy, ip, auth[0], None, directory)
    elif fixed is not None:
        person = fixed
    else:
        person = identify(policy, ip, None, header_value, directory)
        if header_name and flow.request.method == "CONNECT" and trusted(policy, ip):
            _BY_CONNECTION[flow.client_conn] = person
    if header_name and header_name in flow.request.headers:
        del flow.request.headers[header_name]
    flow.metadata["gonogo_who"] = person
    return person


def connection_person(policy: Policy, client: Any, directory: Membership | None = None) -> Who:
    """Who opened a client connection, before any request: the proxyauth user remembered for it, else the
    address."""
    auth = ctx.master.addons.get("proxyauth")
    known = auth.authenticated.get(client) if auth is not None else None
    fixed = _BY_CONNECTION.get(client) if policy.identity.trusted_header and not known else None
    if fixed is not None:
        return fixed
    return identify(policy, client_ip(client.peername), known[0] if known else None, None, directory)
