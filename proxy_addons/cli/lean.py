"""The lean mitmproxy `Master` of `gonogo run`: only the built-in addons an enforcing gateway needs.

Why: mitmproxy calls every loaded addon for every event. `DumpMaster` loads ~30 built-ins (replay, map/modify,
save, HAR, sticky cookies, anticache, comment, cut, export, command history, browser, ...) that do nothing for
a gateway, yet each costs a call per hook per flow; without them the same machine serves ~1.4x the requests.
`mitmdump -s proxy_addons/addon.py` still runs with mitmproxy's full set.

An option of a left-out addon does not exist in this master, so `--set` of it would get mitmproxy's generic
"unknown option"; `excluded_option_error` names the option and says that `gonogo run` does not include the
feature instead.
"""

from __future__ import annotations

from typing import Any

# The built-in addons `gonogo run` loads, in mitmproxy's own order (see mitmproxy.addons.default_addons and
# mitmproxy.tools.dump.DumpMaster), and why each one is needed.
INCLUDED = {
    "core": "core options and commands (set, options, flow marking); needed by every master",
    "block": "block_global / block_private: refuse clients from public addresses",
    "disable_h2c": "refuses HTTP/2 cleartext upgrades mitmproxy cannot proxy",
    "onboarding": "http://mitm.it/: the CA certificate download page",
    "proxyauth": "proxyauth: htpasswd, LDAP, single user or any (who the person is)",
    "proxyserver": "the proxy itself: listen_host/port, modes (regular, upstream, transparent, ...), HTTP/2, "
                   "WebSockets, connection_strategy",
    "dns_resolver": "name resolution of upstream hosts (and DNS mode)",
    "next_layer": "ignore_hosts / allow_hosts / tcp_hosts / udp_hosts: which connections are decrypted",
    "tlsconfig": "certificates: confdir, the CA, upstream certificate checks, ssl_verify_upstream_trusted_ca, "
                 "ssl_insecure, client certificates",
    "upstream_auth": "upstream_auth: credentials for the upstream proxy in upstream mode",
    "errorcheck": "start-up errors (e.g. the port is taken) stop the process instead of running half-configured",
}

# What a person who `--set`s an option of a left-out addon should do instead.
_ADVICE = {
    "dumper": "drop -q/--quiet to print flows",
    "script": "use `mitmdump -s proxy_addons/addon.py -s your_script.py` to add your own scripts",
}


def make_master(opts: Any, *, quiet: bool) -> Any:
    """A mitmproxy Master with the addons of `INCLUDED` (plus the flow printer unless `quiet`), on the running
    event loop. gonogo's own addons are added by the caller."""
    from mitmproxy import master
    from mitmproxy.addons import (
        block,
        core,
        disable_h2c,
        dns_resolver,
        dumper,
        errorcheck,
        next_layer,
        onboarding,
        proxyauth,
        proxyserver,
        termlog,
        tlsconfig,
        upstream_auth,
    )

    from .hooktable import HookTable

    m = master.Master(opts)
    opts.changed.disconnect(m.addons._configure_all)  # the stock manager, replaced before any addon is added
    m.addons = HookTable(m)
    m._termlog_addon = termlog.TermLog()  # what Master(with_termlog=True) does; its shutdown uninstalls it
    m.addons.add(m._termlog_addon)
    m.addons.add(core.Core(), block.Block(), disable_h2c.DisableH2C(), onboarding.Onboarding(),
                 proxyauth.ProxyAuth(), proxyserver.Proxyserver(), dns_resolver.DnsResolver(),
                 next_layer.NextLayer(), tlsconfig.TlsConfig(), upstream_auth.UpstreamAuth())
    if not quiet:
        m.addons.add(dumper.Dumper())
    m.addons.add(errorcheck.ErrorCheck())
    return m


class _OptionNames:
    """A stand-in for mitmproxy's addon loader that only collects the names of the options an addon adds."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def add_option(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.names.add(name)

    def add_command(self, *args: Any, **kwargs: Any) -> None:
        pass


def excluded_options() -> dict[str, str]:
    """option name -> the left-out addon that defines it: every addon `mitmdump` loads that `gonogo run` does not.
    Worked out from the installed mitmproxy, so a new mitmproxy's options are known without a table to update."""
    from mitmproxy import addons
    from mitmproxy.addons import dumper, keepserving, readfile

    found: dict[str, str] = {}
    for addon in [*addons.default_addons(), dumper.Dumper(), keepserving.KeepServing(), readfile.ReadFileStdin()]:
        name = type(addon).__module__.rsplit(".", 1)[-1]
        if name in INCLUDED or not hasattr(addon, "load"):
            continue
        names = _OptionNames()
        try:
            addon.load(names)
        except Exception:  # an addon whose load() needs a real master: its options stay unknown
            continue
        for option in names.names:
            found.setdefault(option, name)
    return found


def wants_flow_printer(quiet: bool, log_requests: bool, specs: list[str]) -> bool:
    """Whether to load mitmproxy's flow printer (dumper): not with -q; otherwise when requests are to be logged or
    an option of the printer is set. Flows are not printed by default (gateway/logprivacy.py), and a muted
    printer would still be called for every flow."""
    if quiet:
        return False
    if log_requests:
        return True
    printer = {option for option, addon in excluded_options().items() if addon == "dumper"}
    return any(name in printer for name in option_names(specs))


def option_names(specs: list[str]) -> list[str]:
    """The option names of `--set` specs (`name=value`, or a bare `name` for a boolean)."""
    return [spec.partition("=")[0].strip() for spec in specs]


def excluded_option_error(opts: Any, specs: list[str], *, quiet: bool) -> str | None:
    """A clear message for the first `--set` option that belongs to an addon `gonogo run` leaves out, or None."""
    unknown = [name for name in option_names(specs) if name not in opts]
    if not unknown:
        return None
    excluded = excluded_options()
    for name in unknown:
        addon = excluded.get(name)
        if addon is None:
            continue
        if addon == "dumper" and quiet:
            return f"option {name} prints flows, which -q/--quiet turns off: {_ADVICE['dumper']}"
        advice = _ADVICE.get(addon, "run `mitmdump -s proxy_addons/addon.py` for mitmproxy's full feature set")
        return (f"option {name} belongs to mitmproxy's {addon} addon, which gonogo run does not include "
                f"(it loads only what an enforcing gateway needs; see README, \"What gonogo run includes\"): "
                f"{advice}")
    return None
