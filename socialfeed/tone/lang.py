"""Language of short, noisy posts, without any download at run time.

Short customer posts defeat general-purpose detectors: "@united flight cancelled again" has one stopword.
So two cheap signals vote: function words (stopwords, the strongest cue) and character shapes typical of
French (accents, elisions). English and French are what the tone model reads; the other languages listed
are only there so that, say, a Spanish post is recognised as not-English and scored neutral instead of
being scored wrongly. Too little evidence gives "" (unknown), which the analysers treat as "read it with
the bilingual model" — never as a confident guess.
"""
from __future__ import annotations

import re

SUPPORTED = ("en", "fr")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an and or but is are was were be been being am i you he she it we they me my your our their this that "
        "these those to of in on at for with from by not no do does did don't didn't can't cannot won't isn't aren't "
        "wasn't have has had what why how when where who which there here just so very still again please thanks "
        "thank will would should could can get got been im i'm it's you're we're they're if then than all any out up "
        "about into over after before now today yet only also too"
        .split()
    ),
    "fr": frozenset(
        "le la les un une des du de et ou mais est sont était être suis es sommes êtes ai as avons avez ont je tu il "
        "elle nous vous ils elles on me te se mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet "
        "cette ces qui que quoi dont où pour par avec sans dans sur sous chez pas plus ne ni rien jamais toujours "
        "encore déjà très trop aussi bien mal merci bonjour bonsoir alors donc car si oui non depuis quand comme "
        "c'est j'ai ça ca au aux y en fait faire peut va vais tout tous toute toutes même après avant aujourd'hui"
        .split()
    ),
    "es": frozenset(
        "el la los las un una unos unas y o pero es son está están estoy fue ser yo tú él ella nosotros ustedes "
        "ellos mi mis tu tus su sus este esta estos estas que qué por para con sin en del al muy también gracias "
        "hola porque cuando donde pero nada todo hay tiene tengo"
        .split()
    ),
    "de": frozenset(
        "der die das ein eine einen und oder aber ist sind war ich du er sie wir ihr mein dein sein nicht kein "
        "mit von zu auf für bei aus nach wie was warum wann wo auch noch schon sehr danke bitte heute immer"
        .split()
    ),
    "it": frozenset(
        "il lo gli una uno e ma è sono era io tu lui lei noi voi loro mio tuo suo che per con senza nel della "
        "delle degli anche molto grazie ciao perché quando dove sempre ancora oggi"
        .split()
    ),
    "pt": frozenset(
        "o os as um uma uns umas e ou mas é são está estão estou foi eu você ele ela nós eles meu minha seu sua "
        "que por para com sem em do da dos das no na muito também obrigado obrigada olá porque quando onde não"
        .split()
    ),
    "nl": frozenset(
        "de het een en of maar is zijn was ik jij je hij zij wij jullie mijn jouw niet geen met van voor op aan "
        "bij uit naar hoe wat waarom wanneer waar ook nog al erg dank bedankt vandaag altijd"
        .split()
    ),
}
# Words shared by several languages ("a", "en", "de", "la"...) count for none: they cannot tell them apart.
_SEEN: dict[str, int] = {}
for _words in _STOPWORDS.values():
    for _w in _words:
        _SEEN[_w] = _SEEN.get(_w, 0) + 1
_WORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _WORD_LANGS.setdefault(_w, ())
        _WORD_LANGS[_w] = _WORD_LANGS[_w] + (_lang,)

_TOKEN = re.compile(r"[a-zàâäçéèêëîïôöùûüÿñœæß']+")
_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
_FRENCH_ELISION = re.compile(r"\b(?:[ljdmnts]|qu|jusqu|lorsqu|puisqu)'[a-zàâéèêîôûh]")
_FRENCH_CHARS = re.compile(r"[éèêàçùâîôûœë]")
_ENGLISH_SHAPE = re.compile(r"\b\w+(?:'s|'t|'re|'ve|'ll|'m|'d)\b|\b\w+ing\b")

_HINT_ALIASES = {"und": "", "zxx": "", "qme": "", "qht": "", "qam": "", "qct": "", "art": "", "in": "id"}


def normalise_hint(hint: str) -> str:
    """A platform language tag ("en", "fr-FR", "und") as an ISO 639-1 code, or "" when it says nothing."""
    code = (hint or "").strip().lower().replace("_", "-").split("-")[0]
    code = _HINT_ALIASES.get(code, code)
    return code if len(code) == 2 and code.isalpha() else ""


def detect_language(text: str) -> str:
    """Best guess of a post's language as an ISO 639-1 code, "" when there is too little to tell."""
    cleaned = _URL_OR_HANDLE.sub(" ", (text or "").lower().replace("’", "'"))
    votes: dict[str, float] = {}
    for token in _TOKEN.findall(cleaned):
        langs = _WORD_LANGS.get(token)
        if langs is None and "'" in token:
            # "j'ai" / "l'appli" are French; "don't" is found whole above.
            head = token.split("'", 1)[0]
            langs = ("fr",) if head in {"l", "j", "d", "m", "n", "t", "s", "c", "qu", "jusqu", "lorsqu"} else None
        if langs:
            share = 1.0 / len(langs)
            for lang in langs:
                votes[lang] = votes.get(lang, 0.0) + share
    votes["fr"] = votes.get("fr", 0.0) + 0.5 * len(_FRENCH_ELISION.findall(cleaned)) + 0.3 * min(
        len(_FRENCH_CHARS.findall(cleaned)), 4
    )
    votes["en"] = votes.get("en", 0.0) + 0.5 * min(len(_ENGLISH_SHAPE.findall(cleaned)), 4)
    ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
    best, best_votes = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_votes < 1.0 or best_votes < runner_up * 1.3:
        return ""
    return best
