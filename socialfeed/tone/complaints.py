"""Failure reports in English and French (METRICS.md §6 complaint).

A complaint is a mention whose sentiment is negative OR that reports a failure. The failure half is a phrase
list rather than a model because a customer writing "still no signal" is reporting an outage whatever the
tone of the rest of the sentence, and ops people need to see exactly why a post counted.
"""
from __future__ import annotations

import re

# Word-bounded so that "download" or "panneau" do not count as "down" / "panne".
_FAILURE_EN = [
    r"down", r"is down", r"went down", r"outages?", r"not working", r"isn'?t working", r"doesn'?t work",
    r"does not work", r"don'?t work", r"won'?t (?:work|load|connect)", r"stopped working", r"no (?:signal|service)",
    r"no (?:internet|wifi|wi-fi|connection|network|power|electricity|dial ?tone|data)", r"can'?t connect",
    r"cannot connect", r"unable to (?:connect|log ?in|access|load)", r"can'?t (?:log ?in|access|load|call)",
    r"keeps? (?:crashing|dropping|disconnecting)", r"crash(?:ed|es|ing)?", r"broken", r"disconnected",
    r"blackout", r"power (?:is )?out", r"lost (?:power|connection|signal|service)", r"error \d+",
    r"not loading", r"still (?:down|nothing|no\b)", r"dead zone", r"offline",
]
_FAILURE_FR = [
    r"pannes?", r"en panne", r"coupures?", r"coupée?s?", r"ne (?:marche|fonctionne|charge) (?:pas|plus)",
    r"(?:marche|fonctionne) (?:pas|plus)", r"toujours rien", r"toujours pas", r"plus de (?:réseau|reseau|connexion|internet|tv|télé|tele|signal|service|wifi|ligne)",
    r"pas de (?:réseau|reseau|connexion|internet|tv|télé|tele|signal|service|wifi|ligne)",
    r"aucun (?:réseau|reseau|signal|service)", r"aucune connexion", r"hors service", r"hs",
    r"dysfonctionnements?", r"perturbations?", r"impossible de (?:se connecter|me connecter|téléphoner|telephoner|appeler)",
    r"déconnexions?", r"deconnexions?", r"déconnecté(?:e|s)?", r"deconnecte(?:e|s)?", r"bug(?:ue|gé|ge)?s?",
    r"incident", r"ça rame", r"ca rame", r"rame", r"injoignable",
]
_FAILURE = re.compile(r"(?<![\w'])(?:" + "|".join(_FAILURE_EN + _FAILURE_FR) + r")(?![\w'])", re.IGNORECASE)


def reports_failure(text: str) -> bool:
    """True when the text reports a service failure in English or French (METRICS.md §6 complaint)."""
    return bool(text) and _FAILURE.search(text.replace("’", "'")) is not None


def failure_phrase(text: str) -> str:
    """The first failure phrase found ("" when none): what the live board shows as the reason."""
    match = _FAILURE.search((text or "").replace("’", "'"))
    return match.group(0) if match else ""
