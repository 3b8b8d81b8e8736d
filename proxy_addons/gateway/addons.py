"""The gateway's addon list, in hook order: `mitmdump -s proxy_addons/addon.py` and `gonogo run` both use it.

Order matters where two addons handle one hook: the store opens before the policy watcher starts, and our
own pages (PAC, status, continue link, exception requests) answer a request before `Enforce` decides it; the
exception requests start once the store is open.
"""

from __future__ import annotations

from .directory import DirectoryGroups
from .enforce import Enforce
from .exceptions import ExceptionRequests
from .ldapauth import LdapLogin
from .liveconnections import LiveConnections
from .logprivacy import LogPrivacy
from .own_pages import OwnPages
from .passthrough import Passthrough
from .resolve import Resolve
from .source import PolicySource
from .state import GatewayState
from .store import Store
from .streaming import Streaming
from .tunnels import Tunnels
from .upstream import Upstream


def make_addons(state: GatewayState | None = None) -> list[object]:
    """Every gateway addon, sharing `state` (a new one if not given; pass your own to read `state.fatal`)."""
    state = state if state is not None else GatewayState()
    # Upstream after Resolve (it checks the address Resolve maps to) and before Passthrough (a refused CONNECT
    # is not charged); Tunnels fixes who owns a tunnel before Passthrough decides it
    return [Store(state), PolicySource(state), DirectoryGroups(state), LdapLogin(), Resolve(), Upstream(state),
            Tunnels(state), Passthrough(state),
            LiveConnections(state), ExceptionRequests(state), OwnPages(state), Enforce(state), LogPrivacy(),
            Streaming()]
