"""The directory asked once, for the command line: `gonogo check --online` (bind, then every named group with
its member count or its absence) and `gonogo explain --user` (the person's directory groups)."""

from __future__ import annotations

from ..policy import Policy
from ..policy.wording import text
from .client import DirectoryClient, DirectoryError
from .names import dn_key


def directory_groups(policy: Policy, user: str) -> tuple[str, ...]:
    """The names of the policy's `directory:` groups `user` is in, asked now; raises DirectoryError."""
    settings = policy.identity.directory
    named = [g for g in policy.groups.values() if g.directory]
    if settings is None or not named:
        return ()
    client = DirectoryClient(settings)
    try:
        keys = client.user_groups(user, [g.directory for g in named if g.directory])
    finally:
        client.close()
    return tuple(g.name for g in named if g.directory and dn_key(g.directory) in keys)


def check_online(policy: Policy, lang: str = "en") -> tuple[list[str], bool]:
    """Lines reporting the bind and every named group, and whether all is well (bound, every group exists)."""
    settings = policy.identity.directory
    named = [g for g in policy.groups.values() if g.directory]
    if settings is None:
        return [text(lang, "online.no_directory")], True
    client = DirectoryClient(settings)
    try:
        strategy = client.strategy()
        reports = {dn_key(r.dn): r for r in client.groups([g.directory for g in named if g.directory])}
    except DirectoryError as exc:
        return [text(lang, "online.unreachable", url=settings.url, why=str(exc))], False
    finally:
        client.close()
    who = settings.bind_dn or text(lang, "online.anonymous")
    lines = [text(lang, "online.bound", url=settings.url, who=who, strategy=strategy)]
    ok = True
    for group in named:
        assert group.directory is not None
        members = reports[dn_key(group.directory)].members
        if members is None:
            ok = False
            lines.append(text(lang, "online.missing", group=group.name, dn=group.directory))
        else:
            lines.append(text(lang, "online.members", count=len(members), group=group.name, dn=group.directory))
    return lines, ok
