"""A category's list sources as the loader reads them: local files (`files:` and `lists: [{file: ...}]`),
squidGuard / UT1 category directories, and remote lists (`lists: [{url: ...}]`) from their cached copy.

Loading never touches the network: a remote list is read from the cache directory that the gateway's
background refresh and `gonogo lists update` fill (proxy_addons.lists). With no copy yet the category
starts without that list and the loader warns. Local list files are part of the policy's sha256 (an
admin edits them like the policy); a remote list's bytes are not, so a daily refresh is no policy
change: each source's own sha256 is kept in lists.ListSource and exported as `gonogo_list_info`.
"""

from __future__ import annotations

from pathlib import Path

from .domainlists import Reading, domain_file
from .hosts import DomainIndex
from .lists import ListSource, cache_name, parse_refresh
from .lists.squidguard import domains_file, unsupported_entries
from .report import Report
from .yamlsource import LocDict, Pos

DEFAULT_REFRESH = 86400  # a remote list without `refresh:` is fetched once a day


def read_sources(report: Report, index: DomainIndex, category: str, body: LocDict) -> tuple[list[ListSource], int]:
    """Every list of one category into `index` under its tag: the sources, and how many names
    were new to the category."""
    tag = f"c:{category}"
    sources: list[ListSource] = []
    added = 0
    files = body.get("files") or []
    for i, file in enumerate(files):
        source, count = _read(report, index, tag, file, None, body["files"].item_pos[i], None)
        sources.append(source)
        added += count
    lists = body.get("lists") or []
    for i, spec in enumerate(lists):
        pos = body["lists"].item_pos[i]
        if ("url" in spec) == ("file" in spec):
            report.error(pos, f"category '{category}': a list has either url: or file:, not "
                              f"{'both' if 'url' in spec else 'neither'}")
            continue
        if "url" in spec:
            source, count = _remote(report, index, tag, spec, pos, category)
        else:
            source, count = _read(report, index, tag, spec["file"], spec.get("format"), pos, spec.get("license"))
            if "refresh" in spec:
                report.error(spec.key_pos["refresh"], f"category '{category}': refresh: is for url: lists only")
        sources.append(source)
        added += count
    return sources, added


def _read(report: Report, index: DomainIndex, tag: str, name: str, fmt: str | None, pos: Pos,
          license: str | None) -> tuple[ListSource, int]:
    path = (report.base_dir / name) if not Path(name).is_absolute() else Path(name)
    unsupported = 0
    if path.is_dir() or fmt == "squidguard":
        if not path.is_dir() or not domains_file(path).is_file():
            report.error(pos, f"cannot read domain list {name!r}: not a squidGuard/UT1 category directory "
                              "(one holding a 'domains' file)")
            return ListSource(name, "squidguard", False, 0, license=license), 0
        unsupported = unsupported_entries(path)
        path, fmt, detected = domains_file(path), "squidguard", fmt is None
    else:
        detected = fmt is None
    reading = Reading(fmt, remote=False)
    count = _fill(report, index, tag, name, pos, reading, path)
    stats = reading.stats
    return ListSource(name, reading.format or "plain", detected, stats.entries, stats.skipped, stats.exceptions,
                      unsupported, license, reading.digest.hexdigest(), samples=tuple(stats.samples)), count


def _remote(report: Report, index: DomainIndex, tag: str, spec: LocDict, pos: Pos,
            category: str) -> tuple[ListSource, int]:
    url = str(spec["url"])
    refresh = DEFAULT_REFRESH
    if "refresh" in spec:
        try:
            refresh = parse_refresh(str(spec["refresh"]))
        except ValueError as exc:
            report.error(spec.value_pos["refresh"], f"category '{category}': refresh: {exc}")
    fmt = spec.get("format")
    if fmt == "squidguard":
        report.error(spec.value_pos["format"], f"category '{category}': a remote list cannot be a squidguard "
                                               "directory; point url: at its 'domains' file with format: plain")
        fmt = "plain"
    license = spec.get("license")
    path = report.list_cache / cache_name(url)
    if not path.is_file():
        report.warn(pos, f"category '{category}': no copy of {url} yet; the category starts without it "
                         "(the gateway fetches it in the background; `gonogo lists update` fetches it now)")
        return ListSource(url, fmt or "plain", fmt is None, 0, license=license, remote=True, refresh=refresh,
                          cached=False), 0
    reading = Reading(fmt, remote=True)
    count = _fill(report, index, tag, url, pos, reading, path)
    stats = reading.stats
    return ListSource(url, reading.format or "plain", fmt is None, stats.entries, stats.skipped, stats.exceptions,
                      0, license, reading.digest.hexdigest(), remote=True, refresh=refresh,
                      samples=tuple(stats.samples)), count


def _fill(report: Report, index: DomainIndex, tag: str, name: str, pos: Pos, reading: Reading, path: Path) -> int:
    count = 0
    names = 0
    for batch in domain_file(report, name, pos, reading, path):
        names += len(batch)
        count += index.add_many(batch, tag)
    reading.stats.entries = names
    index.carve_out(reading.carve_outs, tag)
    return count
