"""The English column of the one translation table (see table.py)."""

from __future__ import annotations

EN: dict[str, str | tuple[str, str]] = {
    "footer": "gonogo, the company's social-media policy gateway",
    "status.link": "See what applies to you",
    "per.day": "day",
    "per.week": "week",
    "block.title": "Blocked: {host}",
    "block.heading": "This site is not available right now",
    "block.lead": "{host} is blocked for you by the company's social-media policy.",
    "label.site": "Site",
    "label.rule": "Rule",
    "label.category": "Category",
    "label.why": "Why",
    "label.returns": "Access returns",
    "label.used": "Time used",
    "label.details": "Technical detail",
    "rule.default": "the policy's default",
    "why.block": "Rule “{rule}” blocks this site for you.",
    "why.quota": (
        "The {limit} minute per {per} of rule “{rule}” is used up.",
        "The {limit} minutes per {per} of rule “{rule}” are used up.",
    ),
    "why.default": "No rule allows this site, and the policy blocks everything no rule allows.",
    "returns.none": "No end time: this rule applies at all times.",
    "used.day": (
        "{used} of {limit} minute today",
        "{used} of {limit} minutes today",
    ),
    "used.week": (
        "{used} of {limit} minute this week",
        "{used} of {limit} minutes this week",
    ),
    "when.today": "today at {time}",
    "when.tomorrow": "tomorrow at {time}",
    "when.weekday": "{weekday} at {time}",
    "when.date": "{weekday} {day} {month} {year} at {time}",
    "text.blocked": "Blocked by the social-media policy: {host}.",
    "continue.click": "Continue by clicking the link on the warning page itself.",
    "text.returns": "Access returns {when}.",
    "text.used": "Used: {used}.",
    "text.more": "See what applies to you: {url}",
    # requests and tunnels the gateway refuses whatever the policy says (integrity)
    "integrity.two_hosts": "This request names its site twice (two Host headers); the gateway does not forward it.",
    "integrity.bad_host": "This request names its site in a way the gateway cannot read; it is not forwarded.",
    "integrity.own_service": "{target} is one of the gateway's own services; the gateway does not connect to it.",
    "integrity.network": "The gateway does not connect to {target}: it is the gateway itself, loopback, link-local "
                       "or a network the gateway keeps apart.",
    "integrity.port": "The gateway opens tunnels to port {ports} only, not to {target}.",
    "warn.title": "Before you continue: {host}",
    "warn.heading": "A moment, please",
    "warn.lead": "The company's social-media policy asks you to confirm before you visit {host}.",
    "warn.button": "Continue to {host}",
    "warn.means": (
        "Continuing lets you use this site for {minutes} minute (rule “{rule}”) without this "
        "question. Your choice is recorded as a continue.",
        "Continuing lets you use this site for {minutes} minutes (rule “{rule}”) without this "
        "question. Your choice is recorded as a continue.",
    ),
    "warn.until": "This reminder applies until {when}.",
    "warn.back": "Not needed after all? Just close this tab or go back.",
    "status.title": "What applies to you",
    "status.heading": "What the social-media policy means for you",
    "status.who": "Who the proxy thinks you are",
    "status.user": "User",
    "status.address": "Address",
    "status.anonymous": "not identified, so the rules for everyone apply",
    "status.groups": "Groups",
    "status.no_groups": "none",
    "status.rules": "Rules that apply to you",
    "status.order": "The first rule that matches a visit decides.",
    "status.no_rules": "No rule applies to you.",
    "status.now": "in force now",
    "status.default.allow": "Everything else: allowed.",
    "status.default.block": "Everything else: blocked.",
    "status.default.warn": "Everything else: a reminder first.",
    "status.trials": "Trial rules (only counted, never enforced)",
    "status.budgets": "Time left",
    "status.no_budgets": "No time-boxed budget applies to you.",
    "col.budget": "Budget",
    "col.used": "Used",
    "col.left": "Left",
    "col.limit": "Limit",
    "col.resets": "Starts again",
    "minutes": "{n} min",
    "rule.line": "{targets}: {action}",
    "targets.all": "every site",
    "targets.category": "category “{name}”",
    "targets.more": "{count} more",
    "action.allow": "allowed",
    "action.block": "blocked",
    "action.warn": (
        "a reminder first; after you continue, no reminder for {minutes} minute",
        "a reminder first; after you continue, no reminder for {minutes} minutes",
    ),
    "action.timebox": (
        "limited to {minutes} minute per {per} (budget “{budget}”)",
        "limited to {minutes} minutes per {per} (budget “{budget}”)",
    ),
    "cond.when": "during {schedules}",
    "cond.methods": "only for {methods} requests (sending, not reading)",
    "cond.paths": "only on pages {paths}",
    "privacy.heading": "Privacy: what is recorded, and what never is",
    "privacy.counted": "What is counted",
    "privacy.minutes": "For time-boxed sites: the minutes in which you were active, per budget, so "
                       "the limit can be enforced. They are deleted when the budget starts again.",
    "privacy.metrics": (
        "Totals per group and category for reports. They never contain your name or address; a group "
        "with fewer than {n} person is reported as “other”.",
        "Totals per group and category for reports. They never contain your name or address; a group "
        "with fewer than {n} people is reported as “other”.",
    ),
    "privacy.audit.pseudonymous": (
        "Blocks, reminders, continues and used-up budgets go into an audit log (at most once per site per "
        "minute) with the time, the "
        "rule and the site's name (never the full address), under a pseudonym instead of your name. "
        "Kept {days} day.",
        "Blocks, reminders, continues and used-up budgets go into an audit log (at most once per site per "
        "minute) with the time, the "
        "rule and the site's name (never the full address), under a pseudonym instead of your name. "
        "Kept {days} days.",
    ),
    "privacy.audit.named": (
        "Blocks, reminders, continues and used-up budgets go into an audit log (at most once per site per "
        "minute) with the time, the "
        "rule, the site's name (never the full address) and your user name. Kept {days} day.",
        "Blocks, reminders, continues and used-up budgets go into an audit log (at most once per site per "
        "minute) with the time, the "
        "rule, the site's name (never the full address) and your user name. Kept {days} days.",
    ),
    "privacy.audit.off": "No audit log is kept.",
    "privacy.never": "What is never recorded",
    "privacy.urls": "Full addresses (URLs), page contents, what you type, post or send, passwords.",
    "privacy.passthrough": "Sites no rule covers: their traffic passes the proxy without being decrypted.",
    "notice.title": "Social media at work: our agreements",
    "notice.intro": "{org} runs a web gateway that applies these agreements. This text is written from the policy "
                    "the gateway enforces ({file}, version {version}), so it says what the gateway really does. "
                    "All times are {zone} time.",
    "notice.order": "Where agreements overlap, the one that comes first in the policy applies.",
    "notice.free": "What is free",
    "notice.limited": "What is limited, and by how much",
    "notice.confirm": "What asks you to confirm first",
    "notice.blocked": "What is not allowed",
    "notice.trials": "Trial rules (not enforced)",
    "notice.when": "When",
    "notice.whom": "For whom",
    "notice.counted": "What is counted",
    "notice.never": "What is recorded, and what never is",
    "notice.everyone": "Everyone",
    "notice.members": "Members of {groups}",
    "notice.at_any_time": "at any time",
    "notice.during": "during {schedules}",
    "notice.sites_of": ("sites in the category {names}", "sites in the categories {names}"),
    "notice.more": "and {count} more: see the appendix",
    "notice.categories": "Categories",
    "notice.categories_intro": "The agreements name sites by category. The appendix names every site of each.",
    "notice.category_count": ("{n} site", "{n} sites"),
    "notice.appendix": "Appendix: every site of each category",
    "notice.appendix_intro": "A site includes its subdomains: facebook.com covers www.facebook.com too.",
    "notice.appendix_category": ("{name}: {n} site", "{name}: {n} sites"),
    "notice.appendix_from_lists": (
        "This category has {n} site, from the published lists below; each names every one of them:",
        "This category has {n} sites, from the published lists below; each names every one of them:"),
    "notice.appendix_list": "{where} (license {license})",
    "notice.appendix_list_no_license": "{where}",
    "notice.appendix_sources": "Sources:",
    "notice.every_site": "every site",
    "notice.writes": "posting and changing things ({methods} requests) on {what}",
    "notice.methods": "{methods} requests to {what}",
    "notice.paths": "{what}, on pages matching {paths}",
    "notice.free_item": "{what}, {when}.",
    "notice.limited_item": (
        "{what}, {when}: at most {minutes} minute per {per}.",
        "{what}, {when}: at most {minutes} minutes per {per}.",
    ),
    "notice.shared_budget": "This budget ({pool}) is shared with: {others}.",
    "notice.confirm_item": (
        "{what}, {when}: a reminder asks you to confirm first; after you continue you are not asked "
        "again for {minutes} minute.",
        "{what}, {when}: a reminder asks you to confirm first; after you continue you are not asked "
        "again for {minutes} minutes.",
    ),
    "notice.blocked_item": "{what}, {when}.",
    "notice.trial_item": "Being tried out: {action} {what}, {when}, for {whom}. A trial rule blocks and limits "
                         "nothing; the gateway only counts how often it would have applied.",
    "notice.trial_block": "blocking",
    "notice.trial_allow": "allowing",
    "notice.trial_warn": "a reminder before visiting",
    "notice.trial_timebox": (
        "a time limit of {minutes} minute per {per} on",
        "a time limit of {minutes} minutes per {per} on",
    ),
    "notice.default_allow": "Sites not named in these agreements are not limited.",
    "notice.default_block": "Sites not named in these agreements are blocked.",
    "notice.nothing": "Nothing.",
    "notice.title_org": "Social media at work: the agreements of {org}",
    "notice.the_company": "The company",
    "notice.gateway": "What the gateway sees",
    "notice.decrypts": "To apply these agreements, the gateway decrypts your connections to the sites they cover "
                       "(the appendix lists them all), so it sees which pages you open there. Your device "
                       "accepts this because the company installed its own certificate on it.",
    "notice.minutes_kept": "For time-limited sites the gateway keeps the minutes in which you were active under "
                           "your user name (or your device's network address when you are not signed in), so it "
                           "can apply the limit. They are deleted when the limit starts again.",
    "notice.help": "Your overview, questions and more time",
    "notice.status_page": "The page {url} shows what applies to you: the groups the gateway puts you in, the "
                          "agreements in force now and the minutes you have left. Open it in a browser that "
                          "uses the gateway.",
    "notice.block_page": "When a site is blocked or limited, the page you see instead says which agreement "
                         "applies and when the site is available again.",
    "notice.contact": "Questions about these agreements? Ask {contact}.",
    "notice.no_contact": "Questions about these agreements? Ask your manager.",
    "notice.more_time": "Need more time on a time-limited site for your work? Ask {contact}: an administrator "
                        "can give you extra minutes for the current day or week.",
    "notice.ask_exception": "Where an agreement above says so, you can also ask for an exception yourself, from "
                            "the page that blocks the site; your status page ({url}) shows what IT decided, and "
                            "there you can withdraw a request you no longer need.",
    "notice.your_manager": "your manager",
    "window": "{days}, {start}–{end}",
    "window.overnight": "{days}, {start} until {end} the next morning",
    "window.all_day": "{days}, all day",
    "days.every": "every day",
    "days.range": "{first} to {last}",
    "and": "and",
    "window.holidays": " (also on holidays)",
    "holidays.public": "public holidays ({country})",
    "holidays.dates": "the company's days off: {dates}",
    "notice.holidays_rule": "These times do not apply on {which}.",
    "notice.holidays_except": "These times do not apply on {which}, except those marked “also on holidays”.",
    "notice.no_schedule": "The agreements above apply at any time; there are no time windows.",
    "notice.groups_intro": "Agreements name these groups:",
    "notice.groups_how_users": "Which groups you are in follows from your user name at the gateway.",
    "notice.groups_how_both": "Which groups you are in follows from your user name at the gateway or "
                              "from the network you work from.",
    "notice.groups_how_subnets": "Which groups you are in follows from the network you work from.",
    "notice.groups_none": "The agreements apply to everyone alike; there are no groups.",
    "notice.groups_everyone": "Agreements for everyone apply to people in no group too.",
    # the company directory and group files (`gonogo check`, `check --online`, `explain`, the notice)
    "notice.groups_how_directory": "Groups named after the company directory follow from your account there, as the "
                                   "gateway last read it.",
    "group.source.users": "named in the policy",
    "group.source.file": "listed in {file}",
    "group.source.subnet": "address in {subnet}",
    "group.source.directory": "member of {dn} in the directory",
    "summary.group.directory": "directory group {dn}",
    "summary.group.file": "group file {file}",
    "summary.directory": "groups from {url} (base {base}, people {filter}, membership {membership}); read again "
                         "every {refresh}, each answer within {timeout}",
    "online.bound": "{url}: bound as {who}; membership read by {strategy}",
    "online.anonymous": "anonymous",
    "online.members": ("{group}: {count} member ({dn})", "{group}: {count} members ({dn})"),
    "online.missing": "{group}: the directory has no group {dn}",
    "online.unreachable": "{url}: cannot check the directory: {why}",
    "online.no_directory": "the policy reads no groups from a directory; nothing to check online",
    "explain.directory_offline": "directory not asked (--offline): directory groups left out",
    "explain.directory_failed": "directory unreachable ({why}): directory groups left out",
    "notice.active_minutes": "Time is counted in active minutes: a minute of the clock in which you "
                             "make at least one request to a time-limited site counts as one minute. "
                             "More requests in a minute that is already counted cost nothing.",
    "notice.used_up": "When your minutes are used up, the time-limited sites are blocked until the limit starts "
                      "again; the minute you are in can be used to its end.",
    "notice.period_day": "A limit per day starts again every day at 00:00 ({zone} time).",
    "notice.period_week": "A limit per week starts again every Monday at 00:00 ({zone} time).",
    "notice.no_counting": "No time is counted: none of the agreements is a time limit.",
    "notice.continue_counted": "When you continue past a reminder, the gateway remembers that under your user "
                               "name (or your device's address) for the minutes named above, so it does not ask "
                               "again.",
    "notice.passthrough": "Sites that no agreement covers are passed through without being decrypted:"
                          " the gateway does not see which pages you visit there, and keeps no record"
                          " of them.",
    "notice.inspect_catch_all": "Because the agreement “{rule}” applies to every site, the gateway decrypts and "
                                "inspects all web traffic that passes through it.",
    "notice.inspect_default": "Because everything not named here is blocked, the gateway decrypts and inspects all "
                              "web traffic that passes through it.",
    "notice.no_urls": "Full web addresses (URLs, with their paths and search terms) are never stored;"
                      " at most the name of the site.",
    "notice.metrics": (
        "Dashboards and metrics never name a person: they count per group, and a group with fewer "
        "than {size} person is shown as 'other'.",
        "Dashboards and metrics never name a person: they count per group, and a group with fewer "
        "than {size} people is shown as 'other'.",
    ),
    "notice.audit_off": "There is no audit log of individual decisions.",
    "notice.audit_pseudonymous": (
        "When you are blocked, see a reminder, continue past one or use up a time limit, the gateway "
        "writes an audit record (at most one per site per minute) with the time, the agreement and the "
        "site name, under a pseudonym (a code, not your name). Records are deleted after {days} day.",
        "When you are blocked, see a reminder, continue past one or use up a time limit, the gateway "
        "writes an audit record (at most one per site per minute) with the time, the agreement and the "
        "site name, under a pseudonym (a code, not your name). Records are deleted after {days} days.",
    ),
    "notice.audit_named": (
        "When you are blocked, see a reminder, continue past one or use up a time limit, the gateway "
        "writes an audit record (at most one per site per minute) with the time, the agreement, the site "
        "name and your user name. Records are deleted after {days} day.",
        "When you are blocked, see a reminder, continue past one or use up a time limit, the gateway "
        "writes an audit record (at most one per site per minute) with the time, the agreement, the site "
        "name and your user name. Records are deleted after {days} days.",
    ),
    # counts, with singular and plural
    "count.minutes": ("{n} minute", "{n} minutes"),
    "count.days": ("{n} day", "{n} days"),
    "count.domains": ("{n} domain", "{n} domains"),
    "count.users": ("{n} user", "{n} users"),
    "count.subnets": ("{n} subnet", "{n} subnets"),
    "count.people": ("{n} person", "{n} people"),
    "count.seconds": ("{n} second", "{n} seconds"),
    "count.hours": ("{n} hour", "{n} hours"),
    "count.weeks": ("{n} week", "{n} weeks"),
    "count.entries": ("{n} entry", "{n} entries"),
    "count.skipped": ("{n} line skipped", "{n} lines skipped"),
    "count.exceptions": ("{n} exception", "{n} exceptions"),
    "count.unsupported": ("{n} URL entry not supported", "{n} URL entries not supported"),
    # category lists (`gonogo check`, the notice's appendix)
    "lists.detected": "{format} (detected)",
    "lists.skipped_line": "skipped line {line}: {text}",
    "lists.license": "license {license}",
    "lists.no_license": "no license given",
    "lists.refresh": "fetched every {interval}",
    "lists.not_cached": "no copy yet: not in force until fetched",
    "holidays.not_on": "not on {which}",
    # why a rule decided or did not match (the engine's reasons, `gonogo explain`)
    "reason.allow": "allowed by rule '{rule}'",
    "reason.block": "blocked by rule '{rule}'",
    "reason.continued": "continued past the warning of rule '{rule}'",
    "reason.warn": "rule '{rule}' asks you to confirm first",
    "reason.timebox": (
        "time-boxed by rule '{rule}': {left} of {limit} minute left this {per}",
        "time-boxed by rule '{rule}': {left} of {limit} minutes left this {per}",
    ),
    "reason.used_up": (
        "the {limit} minute per {per} of rule '{rule}' is used up",
        "the {limit} minutes per {per} of rule '{rule}' are used up",
    ),
    "reason.default": "no rule matches; the policy's default is {default}",
    "mismatch.groups": "not in {groups}",
    "mismatch.host": "{host} is not in {targets}",
    "mismatch.method": "method {method} is not {methods}",
    "mismatch.path": "path {path} does not match {paths}",
    "mismatch.outside": "outside {schedules}",
    "target.category": "category {name}",
    "schedule.never": "never",
    # time-box counting (policy/attention.py): `gonogo explain`, `gonogo check`, the notice
    "counting.requests": "counts: every request to this site spends a minute (counting: requests)",
    "counting.navigate": "counts: a page load shows attention",
    "counting.render": "counts: it loads something shown on the page (an image, video, style, script, ...)",
    "counting.client-message": "counts: a WebSocket message the person sent",
    "counting.server-push": "does not count: a message the server pushed is not attention",
    "counting.background.over": "counts: background requests moved {kb} KB this minute, at least the {threshold} KB"
                                " that make a minute count",
    "counting.background.under": "does not count: background requests (fetch/XHR) count only once they move "
                                 "{threshold} KB in a minute ({kb} KB so far)",
    "counting.unknown.requests": "counts: the client sends no Sec-Fetch-* headers, and every such request counts "
                                 "(counting_without_fetch_metadata: requests)",
    "counting.unknown.never": "does not count: the client sends no Sec-Fetch-* headers, and such requests never "
                              "count (counting_without_fetch_metadata: never)",
    "counting.summary.attention": "attention: page loads, what renders, WebSocket messages sent; background "
                                  "requests from {threshold} KB a minute; clients without Sec-Fetch-*: {unknown}",
    "counting.summary.requests": "requests: every request to a time-boxed site",
    "counting.unknown_summary.requests": "every request counts",
    "counting.unknown_summary.never": "never counts",
    "notice.attention": "A minute counts only when you are using the site: when you open a page, when "
                        "something is loaded to show on it (pictures, video, the next posts as you scroll), "
                        "or when you send a message or reaction. A tab left open that only checks for news in "
                        "the background does not use your time, unless it moves as much data as a video does "
                        "(at least {threshold} KB in a minute).",
    "notice.attention_unknown": "Apps and programs that do not say why they ask (no Sec-Fetch headers) "
                                "count every request.",
    "notice.requests_counted": "For {names}, every request counts, also from a tab left open in the background.",
    "notice.heads_up": (
        "For {names}: when only {count} minute is left, the first page you open shows a notice once, "
        "so the end of your time does not surprise you.",
        "For {names}: when {count} minutes or fewer are left, the first page you open shows a notice once, "
        "so the end of your time does not surprise you.",
    ),
    # the heads-up page before a budget ends (quota heads_up)
    "headsup.title": ("{left} minute left: {host}", "{left} minutes left: {host}"),
    "headsup.heading.day": ("{left} minute left today", "{left} minutes left today"),
    "headsup.heading.week": ("{left} minute left this week", "{left} minutes left this week"),
    "headsup.lead": "The company's social-media policy gives you {amount} per {per} on {host} (rule “{rule}”). "
                    "Your time starts again {when}.",
    "headsup.button": "Continue to {host}",
    "headsup.once": "You see this notice once per {per}; after that, the site is blocked when the time is used up.",
}
