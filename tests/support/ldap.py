"""A real OpenLDAP `slapd` for tests: 127.0.0.1, a free port, its own directory and configuration, loaded
from an LDIF fixture with `slapadd`, stopped (whole process group) at teardown.

    from tests.support.ldap import SlapdServer, slapd_server  # noqa: F401 (fixture)

The fixture directory (`FIXTURE`): people anna, bob, carol, dave (disabled: `employeeType: disabled` and
no password) and erik; groups `Social Team` (anna, dave, and the nested group `Interns`), `Interns` (carol),
`Sales` (bob). Every person's password is `secret-<uid>`. `SlapdServer.stop()` / `.start()` restart it on
the same port and data, for outage tests; `.pause()` / `.resume()` freeze it (connections open, no answers)
for timeout tests; `.modify(ldif)` changes it live with `ldapmodify`. The `memberof` overlay keeps `memberOf`
of groups added or changed live (not of the fixture, which `slapadd` loads past the overlay). Readiness is a
real LDAP bind, polled with a deadline.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import processes

BASE_DN = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{BASE_DN}"
ROOT_PW = "admin-secret"
SERVICE_DN = f"cn=gonogo,ou=services,{BASE_DN}"
SERVICE_PW = "gonogo-secret"
GROUPS = f"ou=Groups,{BASE_DN}"
PEOPLE = f"ou=People,{BASE_DN}"
SOCIAL = f"cn=Social Team,{GROUPS}"
INTERNS = f"cn=Interns,{GROUPS}"
SALES = f"cn=Sales,{GROUPS}"
START_TIMEOUT = 15.0


def _person(uid: str, name: str, disabled: bool = False) -> str:
    lines = [f"dn: uid={uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {uid}", f"cn: {name}",
             f"sn: {name.split()[-1]}"]
    if disabled:
        lines.append("employeeType: disabled")  # the test policy's user_filter leaves these out
    else:
        lines.append(f"userPassword: secret-{uid}")
    return "\n".join(lines) + "\n"


def _group(dn: str, members: list[str]) -> str:
    cn = dn.split(",", 1)[0].split("=", 1)[1]
    return "\n".join([f"dn: {dn}", "objectClass: groupOfNames", f"cn: {cn}", *(f"member: {m}" for m in members)]) + "\n"


FIXTURE = "\n".join([
    f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
    f"dn: ou=People,{BASE_DN}\nobjectClass: organizationalUnit\nou: People\n",
    f"dn: ou=Groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: Groups\n",
    f"dn: ou=services,{BASE_DN}\nobjectClass: organizationalUnit\nou: services\n",
    f"dn: {SERVICE_DN}\nobjectClass: person\ncn: gonogo\nsn: gonogo\nuserPassword: {SERVICE_PW}\n",
    _person("anna", "Anna Jansen"),
    _person("bob", "Bob de Vries"),
    _person("carol", "Carol Bakker"),
    _person("dave", "Dave Visser", disabled=True),
    _person("erik", "Erik Smit"),
    _group(SOCIAL, [f"uid=anna,{PEOPLE}", f"uid=dave,{PEOPLE}", INTERNS]),
    _group(INTERNS, [f"uid=carol,{PEOPLE}"]),
    _group(SALES, [f"uid=bob,{PEOPLE}"]),
])

_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {dir}/slapd.pid
database mdb
maxsize 10485760
suffix "{base}"
rootdn "{root}"
rootpw {pw}
directory {dir}/data
index objectClass eq
index member eq
index uid eq
overlay memberof
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Finaliser: slapd runs in its own process group (support/processes.py); end the group, paused or not."""
    processes.signal_group(process, signal.SIGCONT)
    processes.end(process, signal.SIGKILL)


class SlapdServer:
    def __init__(self, directory: Path, fixture: str = FIXTURE) -> None:
        self.dir = Path(directory)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.conf = self.dir / "slapd.conf"
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        self.conf.write_text(_CONF.format(dir=self.dir, base=BASE_DN, root=ROOT_DN, pw=ROOT_PW))
        for tool in ("slapd", "slapadd", "ldapmodify"):
            if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
                raise RuntimeError(f"{tool} is not installed (Debian packages slapd, ldap-utils; `make test` "
                                   "installs them)")
        (self.dir / "fixture.ldif").write_text(fixture)
        subprocess.run([self._exe("slapadd"), "-f", str(self.conf), "-l", str(self.dir / "fixture.ldif")],
                       check=True, capture_output=True, timeout=30)

    @staticmethod
    def _exe(name: str) -> str:
        return shutil.which(name) or f"/usr/sbin/{name}"

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def start(self) -> SlapdServer:
        log = (self.dir / "slapd.log").open("ab")
        self.process = processes.spawn([self._exe("slapd"), "-d", "0", "-f", str(self.conf),
                                        "-h", f"ldap://127.0.0.1:{self.port}/"], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        weakref.finalize(self, _kill_group, self.process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.answers():
                return self
            time.sleep(0.05)  # polling a server that is starting, bounded by the deadline
        raise RuntimeError(f"slapd did not start on {self.url}; log: {(self.dir / 'slapd.log').read_text()[-2000:]}")

    def answers(self) -> bool:
        """A real simple bind as the service account succeeds."""
        import ldap3

        try:
            server = ldap3.Server("127.0.0.1", port=self.port, connect_timeout=1)
            conn = ldap3.Connection(server, SERVICE_DN, SERVICE_PW, receive_timeout=2)
            ok = bool(conn.bind())
            conn.unbind()
            return ok
        except Exception:
            return False

    def stop(self) -> None:
        """SIGTERM (slapd closes its database cleanly) and wait; the port and data stay for `start()`."""
        if self.process is None:
            return
        processes.signal_group(self.process, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        processes.end(self.process, signal.SIGTERM, timeout=15)
        self.process = None

    def pause(self) -> None:
        """Freeze the server: connections are accepted by the kernel but never answered."""
        assert self.process is not None
        processes.signal_group(self.process, signal.SIGSTOP)
        # the signal is delivered asynchronously: wait (bounded) until every thread of slapd is stopped
        deadline = time.monotonic() + START_TIMEOUT
        while not self._stopped():
            if time.monotonic() > deadline:
                raise RuntimeError("slapd did not stop on SIGSTOP")
            time.sleep(0.01)

    def _stopped(self) -> bool:
        assert self.process is not None
        tasks = Path(f"/proc/{self.process.pid}/task")
        states = []
        for task in tasks.iterdir():
            try:
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
            except OSError:
                continue  # a thread that just ended
        return bool(states) and all(state in ("T", "t") for state in states)

    def resume(self) -> None:
        assert self.process is not None
        processes.signal_group(self.process, signal.SIGCONT)

    def modify(self, ldif: str) -> None:
        """Change the directory live, as an admin would (`ldapmodify` as the root DN)."""
        subprocess.run([self._exe("ldapmodify"), "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW],
                       input=ldif.encode(), check=True, capture_output=True, timeout=30)  # ends by itself

    def move(self, uid: str, from_group: str, to_group: str) -> None:
        """Take a person out of one group and put them in another."""
        member = f"uid={uid},{PEOPLE}"
        self.modify(f"dn: {from_group}\nchangetype: modify\ndelete: member\nmember: {member}\n\n"
                    f"dn: {to_group}\nchangetype: modify\nadd: member\nmember: {member}\n")

    def __enter__(self) -> SlapdServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="module")
def slapd_server() -> Iterator[SlapdServer]:
    """One slapd per test module, with the fixture loaded; tests that change it put it back."""
    with tempfile.TemporaryDirectory(prefix="gonogo-slapd-") as d, SlapdServer(Path(d)) as server:
        yield server
