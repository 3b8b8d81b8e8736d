"""A real browser through the proxy: headless Chromium (Debian's package) reads the block page."""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support import processes
from tests.support.proxy import Gonogo, Origin, make_cert

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

POLICY = """\
version: 1
categories:
  pro: {domains: [linkedin.test]}
rules:
  - name: no linkedin in the browser
    categories: [pro]
    action: block
    message: "Sharing company news happens on the intranet."
"""


def spki_hash(cert_path: Path) -> str:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_chromium_shows_the_block_page(tmp_path: Path) -> None:
    assert CHROMIUM, "chromium is missing: `make test` installs it (.ci/debian-packages)"
    cert, key = make_cert(tmp_path)
    origin = Origin(cert, key).start()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(tmp_path, policy).start()
    try:
        done = processes.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium'}",
             f"--proxy-server=http://127.0.0.1:{gonogo.port}",
             f"--ignore-certificate-errors-spki-list={spki_hash(gonogo.ca)}",
             "--dump-dom", f"https://www.linkedin.test:{origin.https_port}/feed"],
            timeout=90, text=True)
        dom = done.stdout
        assert "no linkedin in the browser" in dom, (done.returncode, dom[:2000], done.stderr[-2000:])
        assert "Sharing company news happens on the intranet." in dom
        assert not [s for s in origin.seen if "linkedin" in s.host]
    finally:
        gonogo.stop()
        origin.stop()
