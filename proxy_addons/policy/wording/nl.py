"""The Dutch column of the one translation table (see table.py)."""

from __future__ import annotations

NL: dict[str, str | tuple[str, str]] = {
    "footer": "gonogo, de socialmediagateway van het bedrijf",
    "status.link": "Bekijk wat voor jou geldt",
    "per.day": "dag",
    "per.week": "week",
    "block.title": "Geblokkeerd: {host}",
    "block.heading": "Deze site is nu niet beschikbaar",
    "block.lead": "{host} is voor jou geblokkeerd door het socialmediabeleid van het bedrijf.",
    "label.site": "Site",
    "label.rule": "Regel",
    "label.category": "Categorie",
    "label.why": "Waarom",
    "label.returns": "Weer beschikbaar",
    "label.used": "Gebruikte tijd",
    "label.details": "Technisch detail",
    "rule.default": "de standaard van het beleid",
    "why.block": "Regel “{rule}” blokkeert deze site voor jou.",
    "why.quota": (
        "De {limit} minuut per {per} van regel “{rule}” is op.",
        "De {limit} minuten per {per} van regel “{rule}” zijn op.",
    ),
    "why.default": "Geen regel staat deze site toe, en het beleid blokkeert alles wat geen regel toestaat.",
    "returns.none": "Geen eindtijd: deze regel geldt altijd.",
    "used.day": (
        "{used} van {limit} minuut vandaag",
        "{used} van {limit} minuten vandaag",
    ),
    "used.week": (
        "{used} van {limit} minuut deze week",
        "{used} van {limit} minuten deze week",
    ),
    "when.today": "vandaag om {time}",
    "when.tomorrow": "morgen om {time}",
    "when.weekday": "{weekday} om {time}",
    "when.date": "{weekday} {day} {month} {year} om {time}",
    "text.blocked": "Geblokkeerd door het socialmediabeleid: {host}.",
    "continue.click": "Ga verder door op de link op de waarschuwingspagina zelf te klikken.",
    "text.returns": "Weer beschikbaar {when}.",
    "text.used": "Gebruikt: {used}.",
    "text.more": "Bekijk wat voor jou geldt: {url}",
    # verzoeken en tunnels die de gateway altijd weigert (integriteit)
    "integrity.two_hosts": "Dit verzoek noemt zijn site twee keer (twee Host-headers); de gateway stuurt het niet "
                           "door.",
    "integrity.bad_host": "Dit verzoek noemt zijn site op een manier die de gateway niet kan lezen; het wordt niet "
                        "doorgestuurd.",
    "integrity.own_service": "{target} is een dienst van de gateway zelf; de gateway maakt er geen verbinding mee.",
    "integrity.network": "De gateway maakt geen verbinding met {target}: dat is de gateway zelf, loopback, link-local "
                       "of een netwerk dat de gateway afschermt.",
    "integrity.port": "De gateway opent alleen tunnels naar poort {ports}, niet naar {target}.",
    "warn.title": "Voordat je verdergaat: {host}",
    "warn.heading": "Even een moment",
    "warn.lead": "Het socialmediabeleid van het bedrijf vraagt je te bevestigen voordat je {host} bezoekt.",
    "warn.button": "Doorgaan naar {host}",
    "warn.means": (
        "Als je doorgaat, kun je deze site {minutes} minuut gebruiken (regel “{rule}”) zonder deze "
        "vraag. Je keuze wordt vastgelegd als ‘doorgegaan’.",
        "Als je doorgaat, kun je deze site {minutes} minuten gebruiken (regel “{rule}”) zonder deze "
        "vraag. Je keuze wordt vastgelegd als ‘doorgegaan’.",
    ),
    "warn.until": "Deze herinnering geldt tot {when}.",
    "warn.back": "Toch niet nodig? Sluit dit tabblad of ga terug.",
    "status.title": "Wat voor jou geldt",
    "status.heading": "Wat het socialmediabeleid voor jou betekent",
    "status.who": "Wie de proxy denkt dat je bent",
    "status.user": "Gebruiker",
    "status.address": "Adres",
    "status.anonymous": "niet herkend, dus de regels voor iedereen gelden",
    "status.groups": "Groepen",
    "status.no_groups": "geen",
    "status.rules": "Regels die voor jou gelden",
    "status.order": "De eerste regel die bij een bezoek past, beslist.",
    "status.no_rules": "Er geldt geen regel voor jou.",
    "status.now": "nu van kracht",
    "status.default.allow": "Al het andere: toegestaan.",
    "status.default.block": "Al het andere: geblokkeerd.",
    "status.default.warn": "Al het andere: eerst een herinnering.",
    "status.trials": "Proefregels (alleen geteld, nooit gehandhaafd)",
    "status.budgets": "Resterende tijd",
    "status.no_budgets": "Voor jou geldt geen tijdsbudget.",
    "col.budget": "Budget",
    "col.used": "Gebruikt",
    "col.left": "Over",
    "col.limit": "Limiet",
    "col.resets": "Begint opnieuw",
    "minutes": "{n} min",
    "rule.line": "{targets}: {action}",
    "targets.all": "elke site",
    "targets.category": "categorie “{name}”",
    "targets.more": "nog {count}",
    "action.allow": "toegestaan",
    "action.block": "geblokkeerd",
    "action.warn": (
        "eerst een herinnering; ga je door, dan krijg je {minutes} minuut geen herinnering",
        "eerst een herinnering; ga je door, dan krijg je {minutes} minuten geen herinnering",
    ),
    "action.timebox": (
        "beperkt tot {minutes} minuut per {per} (budget “{budget}”)",
        "beperkt tot {minutes} minuten per {per} (budget “{budget}”)",
    ),
    "cond.when": "tijdens {schedules}",
    "cond.methods": "alleen voor {methods}-verzoeken (versturen, niet lezen)",
    "cond.paths": "alleen op pagina's {paths}",
    "privacy.heading": "Privacy: wat wordt vastgelegd, en wat nooit",
    "privacy.counted": "Wat wordt geteld",
    "privacy.minutes": "Voor sites met een tijdslimiet: de minuten waarin je actief was, per budget, "
                       "zodat de limiet kan gelden. Ze worden gewist als het budget opnieuw begint.",
    "privacy.metrics": (
        "Totalen per groep en categorie voor rapportages. Daarin staan nooit je naam of adres; een "
        "groep met minder dan {n} persoon telt als “overig”.",
        "Totalen per groep en categorie voor rapportages. Daarin staan nooit je naam of adres; een "
        "groep met minder dan {n} mensen telt als “overig”.",
    ),
    "privacy.audit.pseudonymous": (
        "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een auditlog (hoogstens "
        "één keer per site per minuut) met de "
        "tijd, de regel en de naam van de site (nooit het volledige adres), onder een pseudoniem in "
        "plaats van je naam. {days} dag bewaard.",
        "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een auditlog (hoogstens "
        "één keer per site per minuut) met de "
        "tijd, de regel en de naam van de site (nooit het volledige adres), onder een pseudoniem in "
        "plaats van je naam. {days} dagen bewaard.",
    ),
    "privacy.audit.named": (
        "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een auditlog (hoogstens "
        "één keer per site per minuut) met de "
        "tijd, de regel, de naam van de site (nooit het volledige adres) en je gebruikersnaam. {days}"
        " dag bewaard.",
        "Blokkades, herinneringen, doorgaan en opgebruikte budgetten komen in een auditlog (hoogstens "
        "één keer per site per minuut) met de "
        "tijd, de regel, de naam van de site (nooit het volledige adres) en je gebruikersnaam. {days}"
        " dagen bewaard.",
    ),
    "privacy.audit.off": "Er wordt geen auditlog bijgehouden.",
    "privacy.never": "Wat nooit wordt vastgelegd",
    "privacy.urls": "Volledige adressen (URL's), inhoud van pagina's, wat je typt, plaatst of "
                    "verstuurt, wachtwoorden.",
    "privacy.passthrough": "Sites waarvoor geen regel geldt: hun verkeer gaat versleuteld door de "
                           "proxy en wordt niet ontsleuteld.",
    "notice.title": "Sociale media op het werk: onze afspraken",
    "notice.intro": "{org} gebruikt een webgateway die deze afspraken toepast. Deze tekst is opgesteld uit het "
                    "beleid dat de gateway uitvoert ({file}, versie {version}), dus hij zegt wat de gateway echt "
                    "doet. Alle tijden zijn in de tijdzone {zone}.",
    "notice.order": "Waar afspraken elkaar overlappen, geldt de afspraak die als eerste in het beleid staat.",
    "notice.free": "Wat vrij is",
    "notice.limited": "Wat beperkt is, en hoeveel",
    "notice.confirm": "Waarbij je eerst moet bevestigen",
    "notice.blocked": "Wat niet mag",
    "notice.trials": "Proefregels (niet gehandhaafd)",
    "notice.when": "Wanneer",
    "notice.whom": "Voor wie",
    "notice.counted": "Wat er geteld wordt",
    "notice.never": "Wat wordt vastgelegd, en wat nooit",
    "notice.everyone": "Iedereen",
    "notice.members": "Leden van {groups}",
    "notice.at_any_time": "op elk moment",
    "notice.during": "tijdens {schedules}",
    "notice.sites_of": ("sites in de categorie {names}", "sites in de categorieën {names}"),
    "notice.more": "en nog {count}: zie de bijlage",
    "notice.categories": "Categorieën",
    "notice.categories_intro": "De afspraken noemen sites per categorie. De bijlage noemt elke site van elke "
                               "categorie.",
    "notice.category_count": ("{n} site", "{n} sites"),
    "notice.appendix": "Bijlage: alle sites per categorie",
    "notice.appendix_intro": "Een site omvat haar subdomeinen: facebook.com geldt ook voor www.facebook.com.",
    "notice.appendix_category": ("{name}: {n} site", "{name}: {n} sites"),
    "notice.appendix_from_lists": (
        "Deze categorie heeft {n} site, uit de gepubliceerde lijsten hieronder; die noemen ze allemaal:",
        "Deze categorie heeft {n} sites, uit de gepubliceerde lijsten hieronder; die noemen ze allemaal:"),
    "notice.appendix_list": "{where} (licentie {license})",
    "notice.appendix_list_no_license": "{where}",
    "notice.appendix_sources": "Bronnen:",
    "notice.every_site": "elke site",
    "notice.writes": "berichten plaatsen en wijzigen ({methods}-verzoeken) op {what}",
    "notice.methods": "{methods}-verzoeken naar {what}",
    "notice.paths": "{what}, op pagina's die passen bij {paths}",
    "notice.free_item": "{what}, {when}.",
    "notice.limited_item": (
        "{what}, {when}: hoogstens {minutes} minuut per {per}.",
        "{what}, {when}: hoogstens {minutes} minuten per {per}.",
    ),
    "notice.shared_budget": "Dit tegoed ({pool}) wordt gedeeld met: {others}.",
    "notice.confirm_item": (
        "{what}, {when}: je krijgt eerst een herinnering en bevestigt zelf; daarna word je {minutes} "
        "minuut niet opnieuw gevraagd.",
        "{what}, {when}: je krijgt eerst een herinnering en bevestigt zelf; daarna word je {minutes} "
        "minuten niet opnieuw gevraagd.",
    ),
    "notice.blocked_item": "{what}, {when}.",
    "notice.trial_item": "Wordt uitgeprobeerd: {action} {what}, {when}, voor {whom}. Een proefregel blokkeert en "
                         "beperkt niets; de gateway telt alleen hoe vaak de regel zou hebben gegolden.",
    "notice.trial_block": "blokkeren van",
    "notice.trial_allow": "toestaan van",
    "notice.trial_warn": "een herinnering bij het bezoeken van",
    "notice.trial_timebox": (
        "een tijdslimiet van {minutes} minuut per {per} op",
        "een tijdslimiet van {minutes} minuten per {per} op",
    ),
    "notice.default_allow": "Sites die niet in deze afspraken genoemd worden, zijn niet beperkt.",
    "notice.default_block": "Sites die niet in deze afspraken genoemd worden, zijn geblokkeerd.",
    "notice.nothing": "Niets.",
    "notice.title_org": "Sociale media op het werk: de afspraken van {org}",
    "notice.the_company": "Het bedrijf",
    "notice.gateway": "Wat de gateway ziet",
    "notice.decrypts": "Om deze afspraken toe te passen, ontsleutelt de gateway je verbindingen met de sites waar "
                       "ze over gaan (de bijlage noemt ze allemaal), zodat hij ziet welke pagina's je daar opent. "
                       "Je apparaat accepteert dat omdat het bedrijf er een eigen certificaat op heeft gezet.",
    "notice.minutes_kept": "Voor sites met een tijdslimiet bewaart de gateway de minuten waarin je actief was "
                           "onder je gebruikersnaam (of het netwerkadres van je apparaat als je niet bent "
                           "aangemeld), zodat de limiet kan gelden. Ze worden gewist zodra de limiet opnieuw begint.",
    "notice.help": "Je eigen overzicht, vragen en meer tijd",
    "notice.status_page": "De pagina {url} laat zien wat voor jou geldt: in welke groepen de gateway je indeelt, "
                          "welke afspraken nu gelden en hoeveel minuten je nog hebt. Open hem in een browser "
                          "die via de gateway gaat.",
    "notice.block_page": "Is een site geblokkeerd of beperkt, dan zegt de pagina die je in plaats daarvan ziet "
                         "welke afspraak geldt en wanneer de site weer beschikbaar is.",
    "notice.contact": "Vragen over deze afspraken? Vraag het aan {contact}.",
    "notice.no_contact": "Vragen over deze afspraken? Vraag het aan je leidinggevende.",
    "notice.more_time": "Heb je voor je werk meer tijd nodig op een site met een tijdslimiet? Vraag het aan "
                        "{contact}: een beheerder kan je extra minuten geven voor de lopende dag of week.",
    "notice.ask_exception": "Waar een afspraak hierboven dat zegt, kun je ook zelf een uitzondering aanvragen, op "
                            "de pagina die de site blokkeert; je eigen overzicht ({url}) laat zien wat IT besloot, en "
                            "daar kun je een aanvraag intrekken die je niet meer nodig hebt.",
    "notice.your_manager": "je leidinggevende",
    "window": "{days}, {start}–{end}",
    "window.overnight": "{days}, {start} tot {end} de volgende ochtend",
    "window.all_day": "{days}, de hele dag",
    "days.every": "elke dag",
    "days.range": "{first} tot en met {last}",
    "and": "en",
    "window.holidays": " (ook op feestdagen)",
    "holidays.public": "officiële feestdagen ({country})",
    "holidays.dates": "de vrije dagen van het bedrijf: {dates}",
    "notice.holidays_rule": "Deze tijden gelden niet op {which}.",
    "notice.holidays_except": "Deze tijden gelden niet op {which}, behalve die met “ook op feestdagen”.",
    "notice.no_schedule": "De afspraken hierboven gelden op elk moment; er zijn geen tijdvakken.",
    "notice.groups_intro": "De afspraken noemen deze groepen:",
    "notice.groups_how_users": "In welke groepen je zit, volgt uit je gebruikersnaam bij de gateway.",
    "notice.groups_how_both": "In welke groepen je zit, volgt uit je gebruikersnaam bij de gateway of"
                              " uit het netwerk waarvandaan je werkt.",
    "notice.groups_how_subnets": "In welke groepen je zit, volgt uit het netwerk waarvandaan je werkt.",
    "notice.groups_none": "De afspraken gelden voor iedereen gelijk; er zijn geen groepen.",
    "notice.groups_everyone": "Afspraken voor iedereen gelden ook voor wie in geen enkele groep zit.",
    # de bedrijfsdirectory en groepsbestanden (`gonogo check`, `check --online`, `explain`, de kennisgeving)
    "notice.groups_how_directory": "Groepen uit de bedrijfsdirectory volgen uit je account daar, zoals de gateway "
                                   "dat het laatst las.",
    "group.source.users": "genoemd in het beleid",
    "group.source.file": "vermeld in {file}",
    "group.source.subnet": "adres in {subnet}",
    "group.source.directory": "lid van {dn} in de directory",
    "summary.group.directory": "directorygroep {dn}",
    "summary.group.file": "groepsbestand {file}",
    "summary.directory": "groepen uit {url} (basis {base}, personen {filter}, lidmaatschap {membership}); opnieuw "
                         "gelezen elke {refresh}, elk antwoord binnen {timeout}",
    "online.bound": "{url}: aangemeld als {who}; lidmaatschap gelezen via {strategy}",
    "online.anonymous": "anoniem",
    "online.members": ("{group}: {count} lid ({dn})", "{group}: {count} leden ({dn})"),
    "online.missing": "{group}: de directory heeft geen groep {dn}",
    "online.unreachable": "{url}: kan de directory niet controleren: {why}",
    "online.no_directory": "het beleid leest geen groepen uit een directory; online niets te controleren",
    "explain.directory_offline": "directory niet gevraagd (--offline): directorygroepen weggelaten",
    "explain.directory_failed": "directory onbereikbaar ({why}): directorygroepen weggelaten",
    "notice.active_minutes": "Tijd wordt geteld in actieve minuten: een klokminuut waarin je minstens"
                             " één verzoek doet naar een site met een tijdslimiet, telt als één "
                             "minuut. Meer verzoeken in een minuut die al geteld is, kosten niets "
                             "extra.",
    "notice.used_up": "Zijn je minuten op, dan worden de sites met een tijdslimiet geblokkeerd tot de limiet "
                      "opnieuw begint; de minuut waarin je bezig bent, kun je nog afmaken.",
    "notice.period_day": "Een limiet per dag begint elke dag om 00:00 opnieuw (tijdzone {zone}).",
    "notice.period_week": "Een limiet per week begint elke maandag om 00:00 opnieuw (tijdzone {zone}).",
    "notice.no_counting": "Er wordt geen tijd geteld: geen van de afspraken is een tijdslimiet.",
    "notice.continue_counted": "Als je na een herinnering doorgaat, onthoudt de gateway dat onder je "
                               "gebruikersnaam (of het adres van je apparaat) voor het aantal minuten dat hierboven "
                               "staat, zodat hij het niet opnieuw vraagt.",
    "notice.passthrough": "Sites waar geen afspraak over gaat, worden doorgegeven zonder "
                          "ontsleuteling: de gateway ziet niet welke pagina's je daar bezoekt en legt"
                          " er niets van vast.",
    "notice.inspect_catch_all": "Omdat de afspraak “{rule}” voor elke site geldt, ontsleutelt en bekijkt de gateway "
                                "al het webverkeer dat erdoorheen gaat.",
    "notice.inspect_default": "Omdat alles wat hier niet genoemd wordt geblokkeerd is, ontsleutelt en bekijkt de "
                              "gateway al het webverkeer dat erdoorheen gaat.",
    "notice.no_urls": "Volledige webadressen (URL's, met paden en zoektermen) worden nooit "
                      "opgeslagen; hoogstens de naam van de site.",
    "notice.metrics": (
        "Dashboards en meetgegevens noemen nooit een persoon: ze tellen per groep, en een groep met "
        "minder dan {size} persoon wordt getoond als 'other' (overig).",
        "Dashboards en meetgegevens noemen nooit een persoon: ze tellen per groep, en een groep met "
        "minder dan {size} mensen wordt getoond als 'other' (overig).",
    ),
    "notice.audit_off": "Er is geen auditlog van afzonderlijke beslissingen.",
    "notice.audit_pseudonymous": (
        "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet opmaakt, "
        "legt de gateway dat vast in een auditlog (hoogstens één keer per site per minuut): het tijdstip, "
        "de afspraak en de naam van de site, onder een pseudoniem (een code, niet je naam). Die gegevens "
        "worden na {days} dag gewist.",
        "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet opmaakt, "
        "legt de gateway dat vast in een auditlog (hoogstens één keer per site per minuut): het tijdstip, "
        "de afspraak en de naam van de site, onder een pseudoniem (een code, niet je naam). Die gegevens "
        "worden na {days} dagen gewist.",
    ),
    "notice.audit_named": (
        "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet opmaakt, "
        "legt de gateway dat vast in een auditlog (hoogstens één keer per site per minuut): het tijdstip, "
        "de afspraak, de naam van de site en je gebruikersnaam. Die gegevens worden na {days} dag gewist.",
        "Als je geblokkeerd wordt, een herinnering ziet, daarna doorgaat of een tijdslimiet opmaakt, "
        "legt de gateway dat vast in een auditlog (hoogstens één keer per site per minuut): het tijdstip, "
        "de afspraak, de naam van de site en je gebruikersnaam. Die gegevens worden na {days} dagen gewist.",
    ),
    # counts, with singular and plural
    "count.minutes": ("{n} minuut", "{n} minuten"),
    "count.days": ("{n} dag", "{n} dagen"),
    "count.domains": ("{n} domein", "{n} domeinen"),
    "count.users": ("{n} gebruiker", "{n} gebruikers"),
    "count.subnets": ("{n} subnet", "{n} subnets"),
    "count.people": ("{n} persoon", "{n} mensen"),
    "count.seconds": ("{n} seconde", "{n} seconden"),
    "count.hours": ("{n} uur", "{n} uur"),
    "count.weeks": ("{n} week", "{n} weken"),
    "count.entries": ("{n} vermelding", "{n} vermeldingen"),
    "count.skipped": ("{n} regel overgeslagen", "{n} regels overgeslagen"),
    "count.exceptions": ("{n} uitzondering", "{n} uitzonderingen"),
    "count.unsupported": ("{n} URL-vermelding niet ondersteund", "{n} URL-vermeldingen niet ondersteund"),
    # category lists (`gonogo check`, the notice's appendix)
    "lists.detected": "{format} (herkend)",
    "lists.skipped_line": "regel {line} overgeslagen: {text}",
    "lists.license": "licentie {license}",
    "lists.no_license": "geen licentie opgegeven",
    "lists.refresh": "elke {interval} opgehaald",
    "lists.not_cached": "nog geen kopie: pas van kracht na ophalen",
    "holidays.not_on": "niet op {which}",
    # why a rule decided or did not match (the engine's reasons, `gonogo explain`)
    "reason.allow": "toegestaan door regel '{rule}'",
    "reason.block": "geblokkeerd door regel '{rule}'",
    "reason.continued": "doorgegaan na de waarschuwing van regel '{rule}'",
    "reason.warn": "regel '{rule}' vraagt eerst om bevestiging",
    "reason.timebox": (
        "tijdslimiet van regel '{rule}': nog {left} van {limit} minuut deze {per}",
        "tijdslimiet van regel '{rule}': nog {left} van {limit} minuten deze {per}",
    ),
    "reason.used_up": (
        "de {limit} minuut per {per} van regel '{rule}' is op",
        "de {limit} minuten per {per} van regel '{rule}' zijn op",
    ),
    "reason.default": "geen regel past; de standaard van het beleid is {default}",
    "mismatch.groups": "niet in {groups}",
    "mismatch.host": "{host} valt niet onder {targets}",
    "mismatch.method": "methode {method} is niet {methods}",
    "mismatch.path": "pad {path} past niet bij {paths}",
    "mismatch.outside": "buiten {schedules}",
    "target.category": "categorie {name}",
    "schedule.never": "nooit",
    # time-box counting (policy/attention.py): `gonogo explain`, `gonogo check`, the notice
    "counting.requests": "telt: elk verzoek aan deze site kost een minuut (counting: requests)",
    "counting.navigate": "telt: het openen van een pagina is aandacht",
    "counting.render": "telt: het laadt iets dat op de pagina getoond wordt (een afbeelding, video, opmaak, "
                       "script, ...)",
    "counting.client-message": "telt: een WebSocket-bericht dat de persoon verstuurde",
    "counting.server-push": "telt niet: een bericht dat de server stuurde is geen aandacht",
    "counting.background.over": "telt: achtergrondverzoeken brachten deze minuut {kb} KB over, minstens de "
                                "{threshold} KB waarmee een minuut telt",
    "counting.background.under": "telt niet: achtergrondverzoeken (fetch/XHR) tellen pas als ze {threshold} KB "
                                 "in een minuut overbrengen ({kb} KB tot nu toe)",
    "counting.unknown.requests": "telt: de client stuurt geen Sec-Fetch-*-headers, en elk zulk verzoek telt "
                                 "(counting_without_fetch_metadata: requests)",
    "counting.unknown.never": "telt niet: de client stuurt geen Sec-Fetch-*-headers, en zulke verzoeken tellen "
                              "nooit (counting_without_fetch_metadata: never)",
    "counting.summary.attention": "aandacht: pagina's openen, wat getoond wordt, verstuurde WebSocket-berichten; "
                                  "achtergrondverzoeken vanaf {threshold} KB per minuut; clients zonder "
                                  "Sec-Fetch-*: {unknown}",
    "counting.summary.requests": "verzoeken: elk verzoek aan een site met een tijdslimiet",
    "counting.unknown_summary.requests": "elk verzoek telt",
    "counting.unknown_summary.never": "telt nooit",
    "notice.attention": "Een minuut telt alleen als je de site gebruikt: als je een pagina opent, als er iets "
                        "geladen wordt om te tonen (foto's, video, de volgende berichten als je scrolt), of als je "
                        "een bericht of reactie verstuurt. Een tabblad dat open blijft en op de achtergrond alleen "
                        "naar nieuws kijkt, kost je geen tijd, tenzij het evenveel gegevens overbrengt als een "
                        "video (minstens {threshold} KB per minuut).",
    "notice.attention_unknown": "Apps en programma's die niet zeggen waarom ze iets vragen (geen Sec-Fetch-headers) "
                                "tellen elk verzoek.",
    "notice.requests_counted": "Voor {names} telt elk verzoek, ook van een tabblad dat op de achtergrond open staat.",
    "notice.heads_up": (
        "Voor {names}: als er nog maar {count} minuut over is, laat de eerste pagina die je opent één keer een "
        "melding zien, zodat het einde van je tijd je niet verrast.",
        "Voor {names}: als er nog {count} minuten of minder over zijn, laat de eerste pagina die je opent één keer "
        "een melding zien, zodat het einde van je tijd je niet verrast.",
    ),
    # the heads-up page before a budget ends (quota heads_up)
    "headsup.title": ("Nog {left} minuut: {host}", "Nog {left} minuten: {host}"),
    "headsup.heading.day": ("Nog {left} minuut over vandaag", "Nog {left} minuten over vandaag"),
    "headsup.heading.week": ("Nog {left} minuut over deze week", "Nog {left} minuten over deze week"),
    "headsup.lead": "Het socialmediabeleid van het bedrijf geeft je {amount} per {per} op {host} (regel “{rule}”). "
                    "Je tijd begint opnieuw {when}.",
    "headsup.button": "Doorgaan naar {host}",
    "headsup.once": "Je ziet deze melding één keer per {per}; daarna wordt de site geblokkeerd als de tijd op is.",
}
