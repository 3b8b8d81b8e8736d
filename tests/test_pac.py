"""The PAC file, executed for real by node with the PAC helper functions browsers provide."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from proxy_addons.gateway.pac import render_pac
from proxy_addons.policy import load_policy, load_text, normalize_host
from tests.conftest import EXAMPLE_POLICY

PROXY = "gw.corp.test:3128"
NODE = shutil.which("node") or shutil.which("nodejs")

# dnsDomainIs, shExpMatch and isPlainHostName as Chromium and Firefox define them for PAC scripts
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const [pacPath, hostsPath] = process.argv.slice(2);
const sandbox = {
  dnsDomainIs: (host, domain) =>
    host.length >= domain.length && host.substring(host.length - domain.length) == domain,
  isPlainHostName: (host) => host.search("\\.") == -1,
  shExpMatch: (url, pattern) => {
    pattern = pattern.replace(/\./g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp("^" + pattern + "$").test(url);
  },
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(pacPath, "utf8"), sandbox, { filename: pacPath });
const out = [];  // pairs, not an object: a host may be named "__proto__"
for (const host of JSON.parse(fs.readFileSync(hostsPath, "utf8"))) {
  out.push([host, sandbox.FindProxyForURL("https://" + host + "/some/path?q=1", host)]);
}
process.stdout.write(JSON.stringify(out));
"""



def run_pac(tmp_path: Path, pac: str, hosts: list[str]) -> dict[str, str]:
    assert NODE is not None, "node executes the PAC files; install Debian's nodejs (make test does)"
    (tmp_path / "harness.js").write_text(HARNESS)
    (tmp_path / "proxy.pac").write_text(pac)
    (tmp_path / "hosts.json").write_text(json.dumps(hosts))
    result = subprocess.run([NODE, str(tmp_path / "harness.js"), str(tmp_path / "proxy.pac"),
                             str(tmp_path / "hosts.json")], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


EXAMPLE_HOSTS = {
    # covered by a rule's category, incl. subdomains, case and trailing-dot variants
    "facebook.com": True, "www.facebook.com": True, "WWW.FaceBook.COM": True, "www.facebook.com.": True,
    "static.xx.fbcdn.net": True, "nu.nl": True, "www.linkedin.com": True,
    "youtube.com": True, "m.youtube.com": True,  # from the category's domain file
    "gonogo.status": True,  # the status page always goes through the proxy
    # not covered
    "example.com": False, "notfacebook.com": False, "facebook.com.evil.test": False, "com": False,
    "bank.nl": False, "nl": False, "www.nu.nl.example.org": False,
}


def test_example_policy_sends_covered_hosts_to_the_proxy(tmp_path):
    policy = load_policy(EXAMPLE_POLICY)
    pac = render_pac(policy, PROXY)
    assert "dnsDomainIs" in pac  # small lists stay readable
    result = run_pac(tmp_path, pac, list(EXAMPLE_HOSTS))
    expected = {h: f"PROXY {PROXY}" if covered else "DIRECT" for h, covered in EXAMPLE_HOSTS.items()}
    assert result == expected
    for host, covered in EXAMPLE_HOSTS.items():  # and the proxy's own passthrough test agrees
        if host != "gonogo.status":
            assert policy.covers(normalize_host(host)) is covered, host


def test_only_domains_a_rule_uses_go_to_the_proxy(tmp_path):
    policy = load_text("""
version: 1
categories:
  social: {domains: [social.test]}
  unused: {domains: [unused.test]}
rules:
  - {name: social, categories: [social], action: allow}
  - {name: trial, domains: [trial.test, sub.social.test], action: block, shadow: true}
""")
    pac = render_pac(policy, PROXY)
    assert pac.count("sub.social.test") == 0  # covered through its parent already
    result = run_pac(tmp_path, pac, ["a.social.test", "unused.test", "www.trial.test", "x.test"])
    assert result == {"a.social.test": f"PROXY {PROXY}", "unused.test": "DIRECT",
                      "www.trial.test": f"PROXY {PROXY}", "x.test": "DIRECT"}


@pytest.mark.parametrize("policy_text", [
    "version: 1\nrules:\n  - {name: everything, action: allow}\n",  # a rule without categories or domains
    "version: 1\nrules:\n  - {name: one, domains: [one.test], action: allow}\ndefault: block\n",
])
def test_catch_all_or_default_block_sends_everything_to_the_proxy(tmp_path, policy_text):
    pac = render_pac(load_text(policy_text), PROXY)
    result = run_pac(tmp_path, pac, ["one.test", "bank.nl", "localhost", "10.0.0.1"])
    assert set(result.values()) == {f"PROXY {PROXY}"}


def test_large_lists_use_a_suffix_lookup(tmp_path):
    domains = [f"site{i}.example-{i % 7}.test" for i in range(6000)]
    (tmp_path / "big.txt").write_text("\n".join(domains) + "\nbig.test\n")
    (tmp_path / "policy.yaml").write_text("version: 1\ncategories:\n  big: {files: [big.txt]}\n"
                                          "rules:\n  - {name: big, categories: [big], action: block}\n")
    pac = render_pac(load_policy(tmp_path / "policy.yaml"), PROXY)
    assert "GONOGO_DOMAINS" in pac and "dnsDomainIs" not in pac
    hosts = {
        "site5.example-5.test": True, "deep.www.SITE5999.example-0.test.": True, "big.test": True,
        "x.big.test": True, "gonogo.status": True,
        "site5.example-4.test": False, "example-5.test": False, "nosite5.example-5.test": False,
        # names of JavaScript object members must not look like listed domains
        "constructor": False, "__proto__": False, "toString": False, "hasOwnProperty": False,
    }
    result = run_pac(tmp_path, pac, list(hosts))
    assert result == {h: f"PROXY {PROXY}" if covered else "DIRECT" for h, covered in hosts.items()}


def test_proxy_address_is_checked_and_a_missing_port_is_80(tmp_path):
    policy = load_policy(EXAMPLE_POLICY)
    for bad in ("", "gw.test:8080; DIRECT", 'gw"test:1', "gw.test:80\n"):
        with pytest.raises(ValueError, match="host:port"):
            render_pac(policy, bad)
    assert run_pac(tmp_path, render_pac(policy, "gw.test"), ["facebook.com"]) == {"facebook.com": "PROXY gw.test:80"}
