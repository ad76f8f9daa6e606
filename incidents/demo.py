"""The demo scenario: two mobile operators, one messaging outage of two days, two very different answers.

Written for Hotline's demo (every brand, handle and text here is invented). *Ondine Mobile* answers customers
within minutes, apologises, posts updates and a workaround; *Brisant Télécom* stays silent, keeps posting
promotions in French and finally apologises by SMS. Ondine's CEO apologises in a video and Ondine offers its
customers a goodwill gesture in the app: messages sent outside the platforms, recorded by the comms team as
off-platform communications. Customers write in French and English.

Everything is generated from a seed and an anchor time, so the scenario is the same on every machine and a
rerun produces the same posts (same ids: nothing is duplicated). Posts up to the anchor are loaded at once;
later ones are played back in real time by the demo replay source (``socialfeed.clients.replay``), through
the same ingestion pipeline as real platforms.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from socialfeed.normalised import NormalisedPost

SEED = 2026
HISTORY_DAYS = 21              # quiet weeks before the outage, for baselines and weekly summaries
OUTAGE_STARTED_HOURS_AGO = 44  # the outage began this long before the anchor and is still going on
REPLAY_HOURS = 6               # how long the live part plays after the anchor

ONDINE = {"slug": "ondine-mobile", "name": "Ondine Mobile", "handle": "OndineMobile", "user_id": "700000001",
          "bluesky": "ondinemobile.bsky.social"}
BRISANT = {"slug": "brisant-telecom", "name": "Brisant Télécom", "handle": "BrisantTelecom", "user_id": "700000002",
           "bluesky": "brisant.bsky.social"}

_FIRST = ["camille", "lucas", "ines", "hugo", "lea", "nathan", "chloe", "jules", "manon", "theo", "sarah", "adam",
          "emma", "noah", "olivia", "liam", "mia", "ethan", "zoe", "leo", "jade", "louis", "alice", "paul"]
_SUFFIX = ["_r", "", "_b", "92", "_paris", "_lyon", "75", "_m", "_dev", "31", "_k", "_v"]

_COMPLAINTS_FR = [
    "{h} plus aucun SMS ne part depuis ce matin, c'est une panne ?",
    "{h} toujours rien, mes messages ne partent pas 😡",
    "{h} ça ne marche pas depuis hier soir, vous avez une estimation ?",
    "Panne de messagerie chez {b} ? Impossible d'envoyer un texto",
    "{h} coupure de la messagerie à Lyon aussi, c'est long…",
    "{h} je paie mon forfait pour rien, toujours pas de SMS",
    "{h} bonjour, mes MMS ne marchent plus du tout",
]
_COMPLAINTS_EN = [
    "{h} messaging is down for me too, any update?",
    "{h} still no texts going through. This is ridiculous",
    "{h} my SMS are not working since yesterday, is there an outage?",
    "Is {b} down? Can't send a single message",
    "{h} two days without texts, seriously?",
]
_THANKS = [
    "{h} merci pour la réponse rapide 👍", "{h} thanks, that workaround helped!", "{h} ok merci pour l'info",
    "{h} ça remarche chez moi, merci !",
]
_ROUTINE = [
    "{h} comment changer mon forfait ?", "{h} how do I activate roaming for my trip?",
    "{h} ma facture de ce mois est plus élevée, pourquoi ?", "{h} is 5G available in Nantes yet?",
    "{h} bonjour, comment récupérer mon code PUK ?", "{h} great coverage on the train today 👌",
]
_ONDINE_REPLIES = [
    "@{u} Bonjour, nous sommes désolés : une panne touche la messagerie. Nos équipes sont mobilisées, on vous tient informé ici. ^Léa",
    "@{u} Sorry for the trouble: our messaging platform has an outage and engineers are on it. Wi-Fi calling still carries texts in the meantime. ^Sam",
    "@{u} Bonjour, l'incident est identifié (un serveur de routage des SMS). En attendant, les messages passent via l'appel Wi-Fi. ^Léa",
    "@{u} We're sorry: texts are delayed while we fix a routing fault. We'll post here as soon as it's solved. ^Sam",
    "@{u} Merci de votre patience, la messagerie revient progressivement. Redémarrez votre mobile si besoin. ^Yanis",
]
_ONDINE_ROUTINE_REPLIES = [
    "@{u} Bonjour ! Tout se passe dans votre espace client, rubrique Forfait. ^Léa",
    "@{u} Hi! You can switch roaming on from the app, under Options. Have a good trip! ^Sam",
]
_ONDINE_UPDATES = [
    (0.6, "Incident en cours : l'envoi de SMS et MMS est perturbé. Nos équipes sont mobilisées, prochain point dans 2 h. Toutes nos excuses."),
    (1.5, "Messaging outage: texts and MMS are failing for many customers. We're sorry and our engineers are on it. Next update in 2 hours."),
    (4.0, "Point incident : la cause est identifiée (serveur de routage des SMS). Astuce : activez l'appel Wi-Fi, vos messages passent."),
    (9.0, "Update: the cause is identified. Workaround: turn on Wi-Fi calling and your texts will go through. Next update at 8 pm."),
    (20.0, "Point incident : un correctif est en cours de déploiement, retour progressif de la messagerie région par région."),
    (32.0, "Update: the fix is rolling out; messaging is back for 60% of customers. Thank you for your patience, and sorry again."),
    (42.0, "Point incident : la messagerie revient progressivement. Si besoin, redémarrez votre mobile. Prochain point à 18 h."),
]
_BRISANT_PROMOS = [
    (3.0, "🎁 -50 % sur nos forfaits 5G ce week-end seulement ! Rendez-vous en boutique."),
    (8.0, "Nouveau : Facebook par SMS ! Mettez à jour votre statut par simple SMS au 3232, gratuit tout ce mois-ci 📲"),
    (14.0, "New phones in store: trade in your old handset and save €200! 📱"),
    (20.0, "Gagnez vos places pour le concert de Nadia Rivière samedi à Lyon ! RT + follow pour participer 🎤"),
    (26.0, "Jeu concours : gagnez un smartphone en partageant ce post ! #Brisant"),
    (38.0, "Black Friday early access: our best fibre deal ever, today only 🔥"),
]

# Messages sent outside the platforms (METRICS.md §1 off-platform communications): (brand slug, channel,
# hours after the start, text, link, category; "" lets the category rules read the text).
DEMO_COMMUNICATIONS = [
    ("ondine-mobile", "video", 30.0,
     "Vidéo de notre directrice générale : toutes nos excuses pour la panne de messagerie, ce qui s'est passé et "
     "ce que nous faisons pour la réparer.", "https://www.ondine-mobile.example/video/excuses-panne-messagerie", ""),
    ("ondine-mobile", "in_app", 36.0,
     "Geste commercial : 5 Go offerts à tous les clients touchés par la panne de messagerie, pour nous faire "
     "pardonner.", "", "apology"),
    ("brisant-telecom", "sms", 40.0,
     "Brisant Télécom vous présente ses excuses pour la panne de messagerie de ces deux derniers jours.", "", ""),
]


@dataclass
class _Ids:
    next_id: int = 1_860_000_000_000_000_000

    def take(self) -> str:
        self.next_id += random.Random(self.next_id).randint(1, 9_000)
        return str(self.next_id)


def _customer(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)}{rng.choice(_SUFFIX)}"


def _customer_id(handle: str) -> str:
    return str(800_000_000 + (sum(ord(c) * 31 ** i for i, c in enumerate(handle)) % 90_000_000))


def outage_start(anchor: datetime) -> datetime:
    return anchor - timedelta(hours=OUTAGE_STARTED_HOURS_AGO)


def scenario_posts(*, anchor: datetime, seed: int = SEED) -> Iterator[NormalisedPost]:
    """Every post of the scenario, history, outage and live part, sorted by creation time."""
    rng = random.Random(seed)
    ids = _Ids()
    posts: list[NormalisedPost] = []
    start = outage_start(anchor)
    end = anchor + timedelta(hours=REPLAY_HOURS)

    def x_post(*, author: str, author_id: str, at: datetime, text: str, reply_to: NormalisedPost | None = None,
               lang: str = "") -> NormalisedPost:
        pid = ids.take()
        post = NormalisedPost(
            platform="x", platform_id=pid, author_id=author_id, author_handle=author, created_at=at, text=text,
            lang=lang, in_reply_to_id=reply_to.platform_id if reply_to else "",
            in_reply_to_author_id=reply_to.author_id if reply_to else "",
            conversation_id=(reply_to.conversation_id if reply_to else pid),
            url=f"https://x.com/{author}/status/{pid}", raw={"demo": True},
        )
        posts.append(post)
        return post

    def brand_reply(brand: dict, to: NormalisedPost, at: datetime, texts: list[str]) -> NormalisedPost:
        return x_post(author=brand["handle"], author_id=brand["user_id"], at=at, reply_to=to,
                      text=rng.choice(texts).format(u=to.author_handle))

    # Quiet weeks: routine questions; Ondine answers most within the hour, Brisant some within a day.
    t = start - timedelta(days=HISTORY_DAYS)
    while t < start:
        t += timedelta(minutes=rng.randint(20, 70))
        brand = ONDINE if rng.random() < 0.55 else BRISANT
        handle = _customer(rng)
        text = rng.choice(_ROUTINE).format(h="@" + brand["handle"], b=brand["name"])
        question = x_post(author=handle, author_id=_customer_id(handle), at=t, text=text)
        if brand is ONDINE and rng.random() < 0.85:
            brand_reply(ONDINE, question, t + timedelta(minutes=rng.randint(2, 50)), _ONDINE_ROUTINE_REPLIES)
        elif brand is BRISANT and rng.random() < 0.5:
            brand_reply(BRISANT, question, t + timedelta(hours=rng.randint(3, 30)),
                        ["@{u} Bonjour, merci de nous contacter en message privé."])

    # The outage: a burst of complaints at both operators, slowly easing, through the live part.
    t = start
    while t < end:
        hours_in = (t - start).total_seconds() / 3600
        gap = 25 if hours_in < 6 else 60 if hours_in < 30 else 90
        if t >= anchor:
            gap = 20  # the live part is dense so that the board moves while you watch
        t += timedelta(seconds=rng.randint(gap // 2, gap * 2))
        brand = ONDINE if rng.random() < 0.5 else BRISANT
        handle = _customer(rng)
        french = rng.random() < 0.65
        text = rng.choice(_COMPLAINTS_FR if french else _COMPLAINTS_EN).format(h="@" + brand["handle"],
                                                                               b=brand["name"])
        complaint = x_post(author=handle, author_id=_customer_id(handle), at=t, text=text,
                           lang="fr" if french else "en")
        if brand is ONDINE and rng.random() < 0.8:
            reply = brand_reply(ONDINE, complaint, t + timedelta(seconds=rng.randint(60, 900)), _ONDINE_REPLIES)
            if rng.random() < 0.12:
                thanks = x_post(author=handle, author_id=complaint.author_id,
                                at=reply.created_at + timedelta(minutes=3), reply_to=reply,
                                text=rng.choice(_THANKS).format(h="@" + ONDINE["handle"]))
                if rng.random() < 0.6:
                    brand_reply(ONDINE, thanks, thanks.created_at + timedelta(seconds=rng.randint(60, 600)),
                                ["@{u} Avec plaisir, bonne journée ! ^Léa", "@{u} You're welcome! ^Sam"])
        elif brand is BRISANT and rng.random() < 0.03 and hours_in > 30:
            # Brisant's rare answers never acknowledge the outage: the board shows it "not acknowledged".
            brand_reply(BRISANT, complaint, t + timedelta(hours=rng.randint(5, 20)),
                        ["@{u} Bonjour, merci de nous écrire en message privé avec votre numéro client."])

    # The minor 4G slowdown nine days before: Ondine acknowledged it and said when it was over.
    slowdown = start - timedelta(days=9, hours=3)
    for minutes, text in [(18, "Lenteurs sur l'internet mobile 4G en Île-de-France : nos équipes sont dessus, désolés."),
                          (185, "Résolu : l'internet mobile 4G est revenu à la normale. Merci de votre patience.")]:
        x_post(author=ONDINE["handle"], author_id=ONDINE["user_id"], at=slowdown + timedelta(minutes=minutes),
               text=text)
    for hours, text in _ONDINE_UPDATES:
        x_post(author=ONDINE["handle"], author_id=ONDINE["user_id"], at=start + timedelta(hours=hours), text=text)
    for hours, text in _BRISANT_PROMOS:
        x_post(author=BRISANT["handle"], author_id=BRISANT["user_id"], at=start + timedelta(hours=hours), text=text)
    posts.sort(key=lambda p: (p.created_at, p.platform_id))
    return iter(posts)


# --- Loading the scenario -----------------------------------------------------------------------------------------

DEMO_TEAM = "Demo operators"
DEMO_PASSWORD = "hotline-demo"
# ``demo`` is the only administrator (a superuser: every page, the admin, exports); the others have one role each.
DEMO_USERS = [("demo", "admin"), ("comms", "comms"), ("manager", "manager"), ("analyst", "analyst")]
REPLAY_SOURCE_NAME = "Demo replay (live outage chatter)"


class DemoRefused(Exception):
    """The demo must not run here: it creates a superuser whose password is published in the README."""


def demo_allowed() -> None:
    """Raise DemoRefused under production settings (``settings.PRODUCTION``, set by config.settings.production)."""
    from django.conf import settings

    if getattr(settings, "PRODUCTION", False):
        raise DemoRefused(
            "The demo creates a superuser 'demo' whose password 'hotline-demo' is published: it never runs under "
            "production settings (config.settings.production). Use config.settings.local, the default of manage.py.")


_serving_demo = False  # set by ``run_demo`` (``make demo``), the only way the login page shows the demo logins


def demo_serving_starts() -> None:
    demo_allowed()
    global _serving_demo
    _serving_demo = True


def demo_logins() -> list[tuple[str, str]]:
    """(login, role) of the demo users the login page lists: only while ``run_demo`` serves, never in production,
    and only the demo users that exist and are active."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    if not _serving_demo or getattr(settings, "PRODUCTION", False):
        return []
    active = set(get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS], is_active=True)
                 .values_list("username", flat=True))
    return [(username, role) for username, role in DEMO_USERS if username in active]


def demo_users_create() -> dict:
    """The demo team's four logins (DEMO_USERS, password DEMO_PASSWORD), by user name; refused under production
    settings."""
    from incidents.models import Team
    from incidents.services import user_create

    demo_allowed()
    Team.objects.get_or_create(name=DEMO_TEAM)
    return {username: user_create(username=username, password=DEMO_PASSWORD, role=role, teams=[DEMO_TEAM],
                                  email=f"{username}@hotline.invalid")
            for username, role in DEMO_USERS}


def demo_load(*, now: datetime, fresh: bool = False, progress=lambda n: None) -> dict:
    """Create (or find) the demo team, brands, users and incidents, and ingest the scenario up to its anchor.

    Rerunnable: a second run finds everything in place and stores no post twice. ``fresh`` deletes the demo
    brands' data first and anchors the scenario at ``now`` again, so the outage is "live" once more.
    """
    from django.db import transaction

    from incidents.models import (
        AlertChannel,
        Brand,
        DigestSubscription,
        Incident,
        IncidentEvent,
        OfficialAccount,
        Team,
        TrackingTerm,
    )
    from incidents.services import communication_record
    from socialfeed.models import Post, Source
    from socialfeed.services import posts_ingest

    demo_allowed()

    if fresh:
        with transaction.atomic():
            brands = Brand.objects.filter(slug__in=[ONDINE["slug"], BRISANT["slug"]])
            Post.objects.filter(raw__demo=True).delete()
            brands.delete()
    with transaction.atomic():
        team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
        made = {}
        for spec, terms in ((ONDINE, ["Ondine"]), (BRISANT, ["Brisant"])):
            brand, _ = Brand.objects.get_or_create(
                slug=spec["slug"], defaults={"name": spec["name"], "time_zone": "Europe/Paris", "languages": ["fr", "en"]})
            OfficialAccount.objects.get_or_create(brand=brand, platform="x", handle=spec["handle"],
                                                  defaults={"platform_user_id": spec["user_id"]})
            OfficialAccount.objects.get_or_create(brand=brand, platform="bluesky", handle=spec["bluesky"])
            for term in terms:
                TrackingTerm.objects.get_or_create(brand=brand, term=term, kind=TrackingTerm.Kind.KEYWORD)
            team.brands.add(brand)
            made[spec["slug"]] = brand
        users = demo_users_create()
        # The manager reads the weekly digests of both operators.
        for brand in made.values():
            DigestSubscription.objects.get_or_create(user=users["manager"], brand=brand,
                                                     defaults={"time_zone": "Europe/Paris"})
        # Alerts of the demo team go to the comms inbox; the demo's console e-mail backend prints them.
        AlertChannel.objects.get_or_create(team=team, kind=AlertChannel.Kind.EMAIL, target="comms@hotline.invalid",
                                           defaults={"language": "fr"})
        ondine, brisant = made[ONDINE["slug"]], made[BRISANT["slug"]]
        source = Source.objects.filter(kind=Source.Kind.REPLAY, brand=ondine).first()
        if source is None:
            anchor = now.replace(second=0, microsecond=0)
            source = Source.objects.create(
                name=REPLAY_SOURCE_NAME, platform="x", kind=Source.Kind.REPLAY, brand=ondine,
                query=f"seed={SEED};anchor={anchor.isoformat()}", interval_seconds=5, cursor=anchor.isoformat(),
            )
        from socialfeed.clients.replay import parse_query

        seed, anchor = parse_query(source.query)
        start = outage_start(anchor)
        demo_user = made and ondine.teams.first().members.filter(username="comms").first()
        if not ondine.incidents.exists():
            incident = Incident.objects.create(
                brand=ondine, title="Messagerie SMS/MMS hors service — SMS and MMS outage", started_at=start,
                severity=Incident.Severity.CRITICAL, status=Incident.Status.MONITORING,
                affected_services="SMS, MMS", affected_regions="France", created_by=demo_user)
            for hours, status, note in [(0.5, "investigating", "Pic de plaintes sur X, messagerie en panne."),
                                        (4, "identified", "Serveur de routage SMS en cause."),
                                        (32, "monitoring", "Correctif déployé, retour progressif.")]:
                IncidentEvent.objects.create(incident=incident, kind="status", status=status, text=note,
                                             author=demo_user, at=start + timedelta(hours=hours))
            Incident.objects.create(
                brand=ondine, title="Lenteurs data 4G — slow mobile data", severity=Incident.Severity.MINOR,
                status=Incident.Status.RESOLVED, started_at=start - timedelta(days=9, hours=3),
                ended_at=start - timedelta(days=9), affected_services="4G data", created_by=demo_user)
        if not brisant.incidents.exists():
            Incident.objects.create(
                brand=brisant, title="Messagerie hors service — messaging outage", started_at=start,
                severity=Incident.Severity.CRITICAL, status=Incident.Status.INVESTIGATING,
                affected_services="SMS, MMS", affected_regions="France", created_by=demo_user)
        for slug, channel, hours, text, url, category in DEMO_COMMUNICATIONS:
            incident = made[slug].incidents.filter(started_at=start).first()
            if incident is not None and not incident.communications.filter(channel=channel).exists():
                communication_record(incident=incident, channel=channel, sent_at=start + timedelta(hours=hours),
                                     text=text, url=url, category=category, author=demo_user)
    stored = 0
    batch = []
    for post in scenario_posts(anchor=anchor, seed=seed):
        if post.created_at > anchor:
            break
        batch.append(post)
        if len(batch) == 1000:
            # announce=False: the history loads in order, and an alert check per batch would raise and clear
            # alerts on a half-loaded past. The demo's beat checks everything once it runs.
            stored += posts_ingest(posts=batch, announce=False).stored
            progress(len(batch))
            batch = []
    if batch:
        stored += posts_ingest(posts=batch, announce=False).stored
        progress(len(batch))
    return {"anchor": anchor, "stored": stored, "users": [u for u, _ in DEMO_USERS], "password": DEMO_PASSWORD}
