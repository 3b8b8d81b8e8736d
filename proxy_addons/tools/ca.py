"""The proxy's CA, made once, and described for whoever hands it to clients (`gonogo ca`, in cli/ca.py).

Every deployment (compose `ca-init`, the systemd units' `ExecStartPre`, by hand before a Kubernetes Secret) needs
the same guarantees, which mitmproxy's own "create a CA on first start" does not give together:

- the CA carries a name people recognise on their devices ("gonogo proxy CA"), not "mitmproxy";
- an existing CA is never replaced — it may be a sub-CA of the company PKI, and a new CA would break every client
  that trusts the old one;
- several processes starting at once (template units, replicas) end up with one CA: creation runs under an
  exclusive `flock` on a lock file in the confdir, and the private key file appears last, by rename, so no reader
  ever sees half a CA and a crash mid-way leaves no broken one behind;
- the files clients get (`mitmproxy-ca-cert.pem`, `.cer`, `.p12`) always hold the CA the proxy signs with: they are
  written when missing or stale (e.g. after a company CA was put in place), otherwise left byte for byte alone.

Both commands print what an admin needs to distribute and check the CA: the certificate's path, subject, validity,
SHA-256 fingerprint and the base64 SHA-256 of its public key (SPKI), which Chromium's
`--ignore-certificate-errors-spki-list` and certificate pinning take.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

BASENAME = "mitmproxy"  # the file names mitmproxy looks for in its confdir: mitmproxy-ca.pem, ...
KEY_SIZE = 2048  # mitmproxy's default key size (option key_size)
DEFAULT_CONFDIR = "~/.mitmproxy"  # mitmproxy's default confdir
DEFAULT_CN = "gonogo proxy CA"
DEFAULT_ORGANIZATION = "gonogo"
LOCK_NAME = ".gonogo-ca.lock"
EXPIRY_WARNING = dt.timedelta(days=30)

CA_FILE = f"{BASENAME}-ca.pem"  # private key + certificate (+ chain): secret
CERT_PEM = f"{BASENAME}-ca-cert.pem"  # what clients trust
CERT_CER = f"{BASENAME}-ca-cert.cer"  # the same PEM, named for Android
CERT_P12 = f"{BASENAME}-ca-cert.p12"  # the certificate alone in PKCS#12, for Windows
KEY_P12 = f"{BASENAME}-ca.p12"  # key + certificate in PKCS#12, written by mitmproxy at creation: secret
DHPARAM = f"{BASENAME}-dhparam.pem"


class CaError(Exception):
    """Something an admin must fix; the message says what and where."""


@dataclass
class CaInfo:
    """What `gonogo ca init|show` reports about the CA in a confdir."""

    confdir: Path
    cert: x509.Certificate
    chain: int  # further certificates after the CA's own in mitmproxy-ca.pem (a sub-CA's chain)
    created: bool = False
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def fingerprint_sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex(":").upper()

    @property
    def spki_sha256(self) -> str:
        spki = self.cert.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    @property
    def is_ca(self) -> bool:
        try:
            return bool(self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return False

    def files(self) -> dict[str, Path]:
        """The files for clients that exist: pem, cer, p12."""
        found = {"pem": CERT_PEM, "cer": CERT_CER, "p12": CERT_P12}
        return {kind: self.confdir / name for kind, name in found.items() if (self.confdir / name).exists()}

    def to_json(self) -> dict[str, Any]:
        files = self.files()
        return {
            "confdir": str(self.confdir),
            "created": self.created,
            "certificate": str(files["pem"]) if "pem" in files else None,
            "files": {kind: str(path) for kind, path in files.items()},
            "private_key": str(self.confdir / CA_FILE),
            "subject": self.cert.subject.rfc4514_string(),
            "issuer": self.cert.issuer.rfc4514_string(),
            "serial": format(self.cert.serial_number, "X"),
            "not_before": self.cert.not_valid_before_utc.isoformat(),
            "not_after": self.cert.not_valid_after_utc.isoformat(),
            "sha256_fingerprint": self.fingerprint_sha256,
            "spki_sha256": self.spki_sha256,
            "is_ca": self.is_ca,
            "chain": self.chain,
            "notes": self.notes,
            "warnings": self.warnings,
        }

    def describe(self) -> str:
        files = self.files()
        pem = files.pop("pem", None)
        lines = [
            f"certificate for clients: {pem if pem else f'(missing: run gonogo ca init --confdir {self.confdir})'}",
        ]
        if files:
            lines.append("  also as:              " + ", ".join(
                f"{path} ({'Android' if kind == 'cer' else 'Windows'})" for kind, path in files.items()))
        lines += [
            f"subject:                {self.cert.subject.rfc4514_string()}",
        ]
        if self.cert.issuer != self.cert.subject:
            lines.append(f"issuer:                 {self.cert.issuer.rfc4514_string()} (clients that trust it "
                         "trust this CA already)")
        cert = self.cert
        lines += [
            f"valid:                  {_when(cert.not_valid_before_utc)} to {_when(cert.not_valid_after_utc)}",
            f"SHA-256 fingerprint:    {self.fingerprint_sha256}",
            f"SPKI SHA-256 (base64):  {self.spki_sha256}",
            f"private key:            {self.confdir / CA_FILE} (secret: readable by the proxy only)",
        ]
        return "\n".join(lines)


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- init ------------------------------------------------------------------------------------------------


def init_ca(confdir: Path, cn: str = DEFAULT_CN, organization: str = DEFAULT_ORGANIZATION) -> CaInfo:
    """Make sure `confdir` holds a usable CA and its client files; create the CA only when there is none."""
    try:
        confdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise CaError(f"cannot create {confdir}: {exc.strerror or exc}") from exc
    with _locked(confdir):
        created = False
        if not (confdir / CA_FILE).exists():
            _create(confdir, cn, organization)
            created = True
        info = _verify(confdir)
        info.created = created
        info.notes += _write_client_files(confdir, info.cert)
        try:
            from mitmproxy.certs import CertStore

            # exactly what the proxy does at start: proves it can use the CA, and adds the DH parameters if missing
            CertStore.from_store(confdir, BASENAME, KEY_SIZE)
        except OSError as exc:
            raise CaError(f"{confdir}: mitmproxy cannot use the CA: {exc.strerror or exc}") from exc
        except Exception as exc:
            raise CaError(f"{confdir / CA_FILE}: mitmproxy cannot use the CA: {exc}") from exc
        if (confdir / KEY_P12).exists() and not _p12_holds(confdir / KEY_P12, info.cert):
            info.warnings.append(f"{confdir / KEY_P12} holds another certificate than {CA_FILE}: delete it")
    return info


@contextlib.contextmanager
def _locked(confdir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the confdir's lock file, so concurrent `ca init` runs take turns. A lock file
    (not the directory) so the lock also holds on NFS. A read-only confdir cannot be locked, and nobody can be
    writing there either: then go on without, and any write that turns out to be needed fails clearly."""
    try:
        fd = os.open(confdir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _create(confdir: Path, cn: str, organization: str) -> None:
    """Create a CA in a temporary directory beside the real files, move the public files in, the key last."""
    from mitmproxy.certs import CertStore

    try:
        staging = Path(tempfile.mkdtemp(prefix=".gonogo-ca-new-", dir=confdir))
    except OSError as exc:
        raise CaError(f"cannot create the CA in {confdir}: {exc.strerror or exc}") from exc
    try:
        CertStore.create_store(staging, BASENAME, KEY_SIZE, organization=organization, cn=cn)
        for path in sorted(staging.iterdir()):
            if path.name == CA_FILE or (path.name == DHPARAM and (confdir / DHPARAM).exists()):
                continue  # the key goes last; DH parameters an admin generated stay
            os.replace(path, confdir / path.name)
        _fsync_dir(confdir)
        os.replace(staging / CA_FILE, confdir / CA_FILE)
        _fsync_dir(confdir)
    except OSError as exc:
        raise CaError(f"cannot create the CA in {confdir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verify(confdir: Path) -> CaInfo:
    """Read mitmproxy-ca.pem as mitmproxy will, and refuse what would break every client."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = confdir / CA_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CaError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        key = load_pem_private_key(raw, None)
    except (ValueError, TypeError) as exc:
        raise CaError(f"{path}: no unencrypted private key in it (mitmproxy needs key + certificate in PEM): "
                      f"{exc}") from exc
    certs = _certificates(path, raw)
    info = CaInfo(confdir=confdir, cert=certs[0], chain=len(certs) - 1)
    if _spki(key.public_key()) != _spki(certs[0].public_key()):
        raise CaError(f"{path}: the private key does not belong to the first certificate in the file")
    info.warnings += _health(info)
    return info


def _certificates(path: Path, raw: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise CaError(f"{path}: no PEM certificate in it: {exc}") from exc
    return certs


def _health(info: CaInfo) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    path = info.confdir / CA_FILE
    found = []
    if info.cert.not_valid_after_utc <= now:
        found.append(f"{path}: the CA expired on {_when(info.cert.not_valid_after_utc)}: "
                     "clients reject every decrypted site")
    elif info.cert.not_valid_after_utc - now < EXPIRY_WARNING:
        found.append(f"{path}: the CA expires on {_when(info.cert.not_valid_after_utc)}: rotate it now")
    if info.cert.not_valid_before_utc > now:
        found.append(f"{path}: the CA is not valid before {_when(info.cert.not_valid_before_utc)}")
    if not info.is_ca:
        found.append(f"{path}: the certificate is not a CA (basicConstraints CA:TRUE): clients reject the "
                     "certificates the proxy makes with it")
    return found


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _write_client_files(confdir: Path, cert: x509.Certificate) -> list[str]:
    """Write the certificate files for clients that are missing or hold another certificate; leave the rest."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    written = []
    for name in (CERT_PEM, CERT_CER):
        if _pem_holds(confdir / name, cert):
            continue
        _write_atomic(confdir / name, pem)
        written.append(name)
    if not _p12_holds(confdir / CERT_P12, cert):
        data = pkcs12.serialize_key_and_certificates(name=BASENAME.encode(), key=None, cert=cert, cas=None,
                                                     encryption_algorithm=serialization.NoEncryption())
        _write_atomic(confdir / CERT_P12, data)
        written.append(CERT_P12)
    return [f"wrote {confdir / name} (it was missing or held another certificate)" for name in written]


def _pem_holds(path: Path, cert: x509.Certificate) -> bool:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes()) == cert
    except (OSError, ValueError):
        return False


def _p12_holds(path: Path, cert: x509.Certificate) -> bool:
    try:
        _, stored, others = pkcs12.load_key_and_certificates(path.read_bytes(), None)
    except (OSError, ValueError):
        return False
    # without a key the certificate is not the bundle's "own" one but comes back among the others
    return stored == cert if stored is not None else others == [cert]


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a part."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise CaError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # a certificate: public
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CaError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- show ------------------------------------------------------------------------------------------------


def show_ca(confdir: Path) -> CaInfo:
    """Describe the CA the proxy would use from `confdir`, without writing anything. Needs only the
    certificate: when the key file cannot be read (another user), the client certificate is described."""
    ca_file, cert_file = confdir / CA_FILE, confdir / CERT_PEM
    if not ca_file.exists() and not cert_file.exists():
        raise CaError(f"no CA in {confdir} (no {CA_FILE}): create one with `gonogo ca init --confdir {confdir}`")
    try:
        certs = _certificates(ca_file, ca_file.read_bytes())
    except PermissionError:
        certs = []
    except FileNotFoundError:
        raise CaError(f"no CA in {confdir}: {CERT_PEM} is there but not {CA_FILE} (key + certificate), which "
                      f"the proxy needs") from None
    if certs:
        info = CaInfo(confdir=confdir, cert=certs[0], chain=len(certs) - 1)
        if cert_file.exists() and not _pem_holds(cert_file, info.cert):
            info.warnings.append(f"{cert_file} holds another certificate than {CA_FILE}, which the proxy uses: "
                                 f"run `gonogo ca init --confdir {confdir}` to rewrite the client files")
    else:
        try:
            info = CaInfo(confdir=confdir, cert=_certificates(cert_file, cert_file.read_bytes())[0], chain=0)
        except OSError as exc:
            raise CaError(f"{cert_file}: cannot read: {exc.strerror or exc}") from exc
        info.notes.append(f"{ca_file} is not readable by this user: showing {cert_file}")
    info.warnings += _health(info)
    return info
