"""`gonogo check | explain | notice`, run as the installed console script, the way an admin runs them."""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proxy_addons import cli
from tests.conftest import EXAMPLE_POLICY

GONOGO = Path(sys.executable).parent / "gonogo"
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): .+$")


def gonogo(*args: str | Path, check_rc: int | None = None) -> subprocess.CompletedProcess[str]:
    exe = str(GONOGO) if GONOGO.exists() else shutil.which("gonogo")
    assert exe, "the gonogo console script is not installed (pip install -e .)"
    done = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=60)
    if check_rc is not None:
        assert done.returncode == check_rc, (done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ntimezone: Europe/Amsterdm\ncategories:\n  social: {files: [gone.txt]}\nrules:\n"
                    "  - {name: r, categories: [socail], action: timebox}\n", "utf-8")
    return path


# -- check ---------------------------------------------------------------------------------------------

def test_check_valid_policy_prints_a_one_screen_summary() -> None:
    done = gonogo("check", EXAMPLE_POLICY, check_rc=0)
    assert done.stderr == ""
    out = done.stdout
    assert len(out.splitlines()) <= 40
    for expected in ("zone        Europe/Amsterdam",
                     "holidays    public holidays (Netherlands, NL) and the company's days off: 24 December 2026 "
                     "and 31 December 2026",
                     "notice      organisation “Example BV”; contact “the service desk",
                     "work-hours (shown as “working hours”, nl “werktijd”): Monday to Friday, 08:30–17:30",
                     "social (shown as “Social media”, nl “Sociale media”): 20 domains (incl. lists/social.txt)",
                     "customer-service (shown as “Customer service”, nl “Klantenservice”): 2 users, 1 subnet",
                     "6. social time-box (shown as “Social media time limit”, nl “Tijdslimiet sociale media”): "
                     "time-box social for everyone during work-hours: 30 minutes per day",
                     "5. tiktok trial (shown as “TikTok in working hours”, nl “TikTok onder werktijd”): "
                     "[shadow, never enforced] would block tiktok.com",
                     "budgets     social time-box: 30 minutes per day", "default     allow",
                     "audit log pseudonymous, kept 30 days", "warnings    none"):
        assert expected in out, expected
    rules = [line.split(".", 1)[1].split(" (shown as")[0].strip() for line in out.splitlines()
             if re.match(r"\s+\d+\. ", line)]
    assert rules == ["social team runs our channels", "no posting from interns", "corporate news on LinkedIn",
                     "lunch is free", "tiktok trial", "social time-box", "news needs a reason"]


def test_check_invalid_policy_fails_with_located_errors(broken: Path) -> None:
    done = gonogo("check", broken, check_rc=1)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines and all(LOCATED.match(line) for line in lines), lines
    assert lines == [
        f"{broken}:2:11: error: unknown time zone 'Europe/Amsterdm'; did you mean 'Europe/Amsterdam'? "
        "(use an IANA name such as Europe/Amsterdam)",
        f"{broken}:4:20: error: cannot read domain list 'gone.txt': No such file or directory",
        f"{broken}:6:28: error: rule 'r': unknown category 'socail'; did you mean 'social'?",
        f"{broken}:6:45: error: rule 'r': a timebox needs a quota, e.g. quota: {{minutes: 30, per: day}}",
    ]


def test_check_warnings_never_fail(tmp_path: Path) -> None:
    path = tmp_path / "warn.yaml"
    path.write_text("version: 1\ncategories:\n  social: {domains: [facebook.com]}\nrules:\n"
                    "  - {name: a, categories: [social], action: block}\n"
                    "  - {name: b, categories: [social], action: allow}\n", "utf-8")
    done = gonogo("check", path, check_rc=0)
    assert done.stderr == (f"{path}:6:1: warning: rule 'b' can never match: rule 'a' (line 5) always decides "
                           "first\n")
    assert "warnings    1 (printed above)" in done.stdout


def test_check_missing_file_and_usage_errors(tmp_path: Path) -> None:
    done = gonogo("check", tmp_path / "nope.yaml", check_rc=1)
    assert done.stderr == f"{tmp_path}/nope.yaml:1:1: error: cannot read the policy: No such file or directory\n"
    assert gonogo("check").returncode == 2
    assert gonogo().returncode == 2


# -- explain -------------------------------------------------------------------------------------------

def test_explain_json_has_exactly_the_contract_keys() -> None:
    done = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "https://www.tiktok.com/@x",
                  "--at", "2026-11-26T10:00", "--json", check_rc=0)
    assert json.loads(done.stdout) == {
        "decision": "allow", "action": "timebox", "rule": "social time-box", "category": "social", "group": None,
        "reason": "time-boxed by rule 'social time-box': 29 of 30 minutes left this day",
        "quota": {"budget": "social time-box", "used": 1, "limit": 30, "per": "day", "period": "2026-11-26",
                  "resets_at": "2026-11-27T00:00:00+01:00"},
        "until": "2026-11-26T12:00:00+01:00",
        "shadow": [{"rule": "tiktok trial", "decision": "block", "action": "block", "category": "social"}],
        "message": "Personal social media is limited to 30 minutes per working day; lunch and after hours are free.",
        "groups": [],
        "request": {"method": "GET", "host": "www.tiktok.com", "path": "/@x", "attention": "unknown"},
        "counting": {"counts": True, "charge": True, "counted": False, "heads_up": False,
                     "why": "counts: the client sends no Sec-Fetch-* headers, and every such request counts "
                            "(counting_without_fetch_metadata: requests)"},
        "continue_minutes": None,
        "exceptions": {"max_minutes": 60},
        "rules": [
            {"rule": "social team runs our channels", "line": 84, "status": "no",
             "why": "not in customer-service, social-team"},
            {"rule": "no posting from interns", "line": 90, "status": "no", "why": "not in interns"},
            {"rule": "corporate news on LinkedIn", "line": 100, "status": "no",
             "why": "www.tiktok.com is not in category professional"},
            {"rule": "lunch is free", "line": 105, "status": "no", "why": "outside lunch"},
            {"rule": "tiktok trial", "line": 113, "status": "shadow", "why": None},
            {"rule": "social time-box", "line": 120, "status": "match", "why": None},
            {"rule": "news needs a reason", "line": 131, "status": "not reached", "why": None},
        ],
    }
    assert len(done.stdout.strip().splitlines()) == 1


def test_explain_json_says_whether_a_request_spends_a_minute_in_the_asked_language() -> None:
    """A background fetch under the data threshold spends nothing, and says so (in Dutch with --lang nl)."""
    done = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "https://www.facebook.com/feed", "--at",
                  "2026-11-26T10:00", "--attention", "background", "--background-kb", "10", "--lang", "nl", "--json",
                  check_rc=0)
    data = json.loads(done.stdout)
    assert data["decision"] == "allow" and data["request"]["attention"] == "background"
    counting = data["counting"]
    assert (counting["counts"], counting["charge"]) == (False, False)
    assert counting["why"].startswith("telt niet") and "256 KB" in counting["why"] and "10 KB" in counting["why"]
    assert data["message"].startswith("Privégebruik")
    page = json.loads(gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "https://www.facebook.com/",
                             "--at", "2026-11-26T10:00", "--sec-fetch-dest", "document", "--json", check_rc=0).stdout)
    assert (page["counting"]["counts"], page["counting"]["charge"]) == (True, True)
    blocked = json.loads(gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "https://www.facebook.com/",
                                "--at", "2026-11-26T10:00", "--used", "30", "--json", check_rc=0).stdout)
    assert blocked["decision"] == "block" and blocked["counting"]["counts"] is True


def test_explain_at_with_an_offset_and_used_minutes() -> None:
    local = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "facebook.com", "--at", "2026-11-26T10:00",
                   "--used", "30", "--json", check_rc=0)
    utc = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "facebook.com", "--at",
                 "2026-11-26T09:00:00+00:00", "--used", "30", "--json", check_rc=0)
    assert json.loads(local.stdout) == json.loads(utc.stdout)
    data = json.loads(local.stdout)
    assert (data["decision"], data["quota"]["used"], data["until"]) == ("block", 30, "2026-11-26T12:00:00+01:00")
    last = json.loads(gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "facebook.com", "--at",
                             "2026-11-26T10:00", "--used", "29", "--json", check_rc=0).stdout)
    assert (last["decision"], last["quota"]["used"]) == ("allow", 30)


def test_explain_shows_every_rule_in_order_with_why() -> None:
    done = gonogo("explain", EXAMPLE_POLICY, "--user", "ivo", "--ip", "10.20.1.1", "--url",
                  "https://www.linkedin.com/feed/", "--method", "post", "--at", "2026-11-26T10:00", check_rc=0)
    out = done.stdout
    assert out.startswith("decision    BLOCK  (action block, by rule 'no posting from interns' (line 90), "
                          "shown as “No posting by interns”)")
    assert "who         ivo from 10.20.1.1; groups: interns, sales (primary interns)" in out
    assert "category    professional" in out
    assert "message     Posting for the company is done by the social team. Ask them to share it." in out
    dutch = gonogo("explain", EXAMPLE_POLICY, "--user", "ivo", "--url", "https://www.linkedin.com/feed/", "--method",
                   "post", "--lang", "nl", check_rc=0).stdout
    assert "shown as “Stagiairs plaatsen geen berichten”" in dutch
    assert "message     Berichten namens het bedrijf plaatst het socialmediateam." in dutch
    rule_lines = [line for line in out.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert [line.split()[0] for line in rule_lines] == [f"{i}." for i in range(1, 8)]
    assert "no     not in customer-service, social-team" in rule_lines[0]
    assert "MATCH  decides" in rule_lines[1]
    assert all("not reached" in line for line in rule_lines[2:])


def test_explain_default_and_shadow_in_words() -> None:
    out = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "https://www.tiktok.com/", "--at",
                 "2026-11-26T10:00", check_rc=0).stdout
    assert "shadow      'tiktok trial' would block" in out
    assert "quota       budget 'social time-box': 1 of 30 minutes used this day (2026-11-26)" in out
    assert "until       Thu 2026-11-26 12:00 CET" in out
    out = gonogo("explain", EXAMPLE_POLICY, "--user", "", "--url", "bank.example", "--at", "2026-11-28T10:00",
                 check_rc=0).stdout
    assert "decision    ALLOW  (action allow, by the policy's default)" in out
    assert "who         (anonymous); groups: none" in out
    assert "  --  default: allow" in out


def test_explain_errors(broken: Path) -> None:
    done = gonogo("explain", broken, "--user", "x", "--url", "a.test", check_rc=1)
    assert done.stderr == gonogo("check", broken).stderr
    for bad in (["--at", "tomorrow"], ["--url", "https://a..b/"], ["--ip", "10.0.0.300"], ["--used", "-1"],
                ["--method", "GE T"]):
        args = {"--user": "x", "--url": "a.test"}
        args.update(dict(zip(bad[::2], bad[1::2], strict=True)))
        done = gonogo("explain", EXAMPLE_POLICY, *[v for kv in args.items() for v in kv])
        assert done.returncode == 2 and done.stdout == "" and "error" in done.stderr, bad


def test_explain_used_without_a_time_box_is_said() -> None:
    done = gonogo("explain", EXAMPLE_POLICY, "--user", "dirk", "--url", "nu.nl", "--at", "2026-11-26T10:00",
                  "--used", "5", "--json", check_rc=0)
    assert json.loads(done.stdout)["decision"] == "warn"
    assert "--used ignored" in done.stderr


# -- notice --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "nl"])
def test_notice_markdown(lang: str) -> None:
    out = gonogo("notice", EXAMPLE_POLICY, "--lang", lang, check_rc=0).stdout
    expected = {
        "en": ["# Social media at work: the agreements of Example BV", "## What is free",
               "## What is limited, and by how much",
               "at most 30 minutes per day", "Monday to Friday, 08:30–17:30", "24 December 2026",
               "## What is recorded, and what never is", "passed through without being decrypted",
               "fewer than 5 people", "under a pseudonym", "deleted after 30 days", "active minutes",
               "already counted cost nothing", "Members of Interns", "Posting and changing things"],
        "nl": ["# Sociale media op het werk: de afspraken van Example BV", "## Wat vrij is",
               "hoogstens 30 minuten per dag",
               "maandag tot en met vrijdag, 08:30–17:30", "24 december 2026", "## Wat wordt vastgelegd, en wat nooit",
               "zonder ontsleuteling", "minder dan 5 mensen", "pseudoniem", "na 30 dagen gewist",
               "actieve minuten", "Leden van Stagiairs"],
    }[lang]
    for text in expected:
        assert text in out, text
    for member in ("anna", "bram", "carla", "daan", "ivo", "iris", "10.30.0.0"):  # group names, never members
        assert not re.search(rf"\b{re.escape(member)}\b", out), member


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_notice_html_is_complete_escaped_and_self_contained(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "tricky.yaml"
    path.write_text("""version: 1
categories:
  social: {description: "Tom & Jerry's <b>fun</b>", domains: [facebook.com]}
groups:
  "<script>alert(1)</script>": {description: "a < b & c", users: [secretperson]}
rules:
  - {name: "R&D <rule>", groups: ["<script>alert(1)</script>"], categories: [social], action: block,
     message: "No *posting* <here> & [there](http://evil.test)"}
privacy: {audit_log: named, retention_days: 7, min_group_size: 3}
""", "utf-8")
    out = gonogo("notice", path, "--lang", lang, "--format", "html", check_rc=0).stdout
    assert out.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in out and out.rstrip().endswith("</html>")
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "R&amp;D &lt;rule&gt;" in out and "&lt;here&gt; &amp; [there](http://evil.test)" in out
    assert "secretperson" not in out
    assert not re.search(r"<(link|script|img|iframe)\b|\bsrc=|\bhref=", out)  # nothing fetched from elsewhere
    checker = _TagBalance()
    checker.feed(out)
    assert checker.stack == [] and checker.errors == []
    assert ("7" in out) and ("3" in out)
    md = gonogo("notice", path, "--lang", lang, check_rc=0).stdout
    assert r"\<script\>alert(1)\</script\>" in md and r"No \*posting\* \<here\> \& \[there\](http://evil.test)" in md


def test_notice_for_a_policy_that_inspects_everything(tmp_path: Path) -> None:
    path = tmp_path / "all.yaml"
    path.write_text("version: 1\ndefault: block\nprivacy: {audit_log: off}\nrules:\n"
                    "  - {name: everything warns, action: warn}\n", "utf-8")
    out = gonogo("notice", path, check_rc=0).stdout
    assert "the gateway decrypts and inspects all web traffic that passes through it" in out
    assert "passed through without being decrypted" not in out
    assert "There is no audit log" in out and "No time is counted" in out


class _TagBalance(html.parser.HTMLParser):
    VOID = frozenset({"meta", "br", "link", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


# -- the command modules -----------------------------------------------------------------------------------

def test_missing_command_modules_are_simply_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    core = tuple(entry for entry in cli.COMMANDS if entry[0].rsplit(".", 1)[1] in ("check", "explain", "notice"))
    monkeypatch.setattr(cli, "COMMANDS", (*core, ("proxy_addons.does_not_exist", "add_nothing"),
                                          ("proxy_addons.policy", "add_missing_function")))
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) == {"check", "explain", "notice"}
    assert "missing_function" in (parser.epilog or "")
    assert cli.main(["check", str(EXAMPLE_POLICY)]) == 0


def test_every_command_is_offered() -> None:
    """A command whose module fails to import disappears from the CLI; CI must notice that."""
    done = gonogo("--help")
    for command in ("check", "explain", "notice", "run", "quota", "audit", "ca"):
        assert re.search(rf"^\s+{command}\b", done.stdout, re.MULTILINE), (command, done.stdout)
    assert "unavailable" not in done.stdout.lower()


def test_python_dash_m_runs_the_same_command() -> None:
    """`make run` starts the proxy as `python -m proxy_addons.cli run ...`."""
    done = subprocess.run([sys.executable, "-m", "proxy_addons.cli", "--help"], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\s+run\b", done.stdout, re.MULTILINE) and "unavailable" not in done.stdout.lower()


# -- settings shared through the environment -----------------------------------------------------------------

def test_explain_needs_no_user_for_a_client_known_by_address() -> None:
    done = gonogo("explain", EXAMPLE_POLICY, "--ip", "10.30.0.7", "--url", "https://www.facebook.com/", "--at",
                  "2026-11-26T10:00", check_rc=0)
    assert "who         (anonymous) from 10.30.0.7; groups: customer-service" in done.stdout
    done = gonogo("explain", EXAMPLE_POLICY, "--url", "facebook.com", check_rc=2)
    assert "give --user U, --ip IP or both" in done.stderr


def test_commands_take_the_policy_from_gonogo_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Set once (systemd environment file, compose): every command finds the proxy's policy without retyping it."""
    assert "which policy?" in gonogo("check", check_rc=2).stderr
    monkeypatch.setenv("GONOGO_POLICY", str(EXAMPLE_POLICY))
    assert "valid policy" in gonogo("check", check_rc=0).stdout
    assert "# Social media at work" in gonogo("notice", check_rc=0).stdout
    assert "decision    ALLOW" in gonogo("explain", "--user", "anna", "--url", "facebook.com", check_rc=0).stdout
    other = tmp_path / "other.yaml"
    other.write_text("version: 1\nrules: []\n", "utf-8")
    assert str(other) in gonogo("check", other, check_rc=0).stdout  # the command line wins
    # argparse wraps help text, also inside a path at a hyphen: compare without any white space
    helped = "".join(gonogo("check", "--help", check_rc=0).stdout.split())
    assert "".join(f"(default $GONOGO_POLICY, now {EXAMPLE_POLICY})".split()) in helped
    for name in ("GONOGO_POLICY", "GONOGO_STATE", "GONOGO_STATE_DIR", "GONOGO_CONFDIR"):
        assert name in gonogo("--help", check_rc=0).stdout and name in gonogo("run", "--help", check_rc=0).stdout
