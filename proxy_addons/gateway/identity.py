"""Who is behind a request: proxyauth user, then a trusted header from a trusted proxy, then the client
address (subnet groups), else anonymous. The ledger key keeps time-boxes per person, or per address
for people the proxy cannot name."""

from __future__ import annotations

import ipaddress

from ..policy import Policy, Who


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
             header_value: str | None = None) -> Who:
    """`header_value` is the value of the policy's trusted header, if the request carried one."""
    if proxyauth_user:
        return Who(proxyauth_user, ip)
    if header_value and policy.identity.trusted_header and trusted(policy, ip):
        return Who(header_value.strip(), ip)
    return Who(None, ip)
