"""Which format a list is in, from its first lines, when the policy does not say: `gonogo check` reports
what it found. A file of names with a few hosts lines reads as plain, as it always did."""

from __future__ import annotations

from .adblock import AdblockParser
from .base import BlockParser
from .common import FORMATS
from .dnsmasq import DnsmasqParser
from .hostsfile import HostsParser, is_address
from .plain import PlainParser

_SAMPLE_LINES = 200
_PARSERS: dict[str, type[BlockParser]] = {
    "plain": PlainParser, "hosts": HostsParser, "adblock": AdblockParser, "dnsmasq": DnsmasqParser,
    "squidguard": PlainParser,  # its `domains` file is a plain list
}


def parser_for(fmt: str) -> BlockParser:
    """A fresh parser for `fmt` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown list format {fmt!r}")
    return _PARSERS[fmt]()


def detect(sample: str) -> str:
    """The format of a list whose beginning is `sample`: adblock when most rules are `||`/`@@` rules
    (or it has an `[Adblock]` header / `!` comments and no other data), dnsmasq when most are option
    lines, hosts when every data line starts with an address, else plain."""
    data = adblock = dnsmasq = hosts = 0
    adblock_header = False
    for raw in sample.split("\n"):
        text = raw.strip()
        if not text or text == "#" or text.startswith("# "):
            continue
        if text.startswith(("!", "[Adblock", "[AdGuard")):
            adblock_header = True
            continue
        data += 1
        if text.startswith(("||", "@@", "##")) or "^" in text:
            adblock += 1
        elif text.startswith(("address=/", "server=/", "local=/")):
            dnsmasq += 1
        elif len(text.split()) >= 2 and is_address(text.split()[0]):
            hosts += 1
        if data >= _SAMPLE_LINES:
            break
    if dnsmasq * 2 > data:
        return "dnsmasq"
    if adblock * 2 > data or (adblock_header and not data):
        return "adblock"
    if data and hosts == data:
        return "hosts"
    return "plain"
