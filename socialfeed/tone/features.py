"""Turning a post into the features the tone model reads: words, word pairs and character shapes.

Done by hand in plain Python (no vectoriser object) so that scoring one post is a few hundred dict lookups
— fast enough to run on every post at ingestion — and so that training and scoring cannot drift apart: both
call :func:`post_features`.
"""
from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# French elisions glue a pronoun or article to the next word: "j'adore", "c'est", "qu'il", "l'appli".
_ELISION = re.compile(r"\b(?:[ljdmnts]|qu|jusqu|lorsqu|puisqu)'(?=\w)")
_REPEAT = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(
    r"[a-zàâäçéèêëîïôöùûüÿñœæ]+(?:n't)?|[!?]+|:\)|:\(|:-\)|:-\(|;\)|:d\b|<3|"
    r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2764]"
)
# Words after which, until punctuation, meaning flips: "not good", "ne marche pas", "never again".
_NEGATORS = frozenset(
    "not no never nothing nobody none nor cannot can't don't doesn't didn't isn't aren't wasn't weren't won't "
    "wouldn't couldn't shouldn't haven't hasn't hadn't ain't without ne n pas jamais rien aucun aucune personne "
    "sans plus ni"
    .split()
)
_CLAUSE_END = frozenset({"!", "?", "but", "mais", "though", "however", "pourtant", "cependant"})
_SARCASM = re.compile(r"\b(?:yeah right|thanks a lot|great job|just great|love (?:it )?when|so much for|merci bien|bravo|génial|genial)\b")


def _ascii_fold(text: str) -> str:
    # Accents are kept for the words (they carry meaning: "pété") but char n-grams see both spellings alike,
    # because tweets drop accents half of the time.
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("`", "'")
    text = _URL.sub(" _url ", text)
    text = _HANDLE.sub(" _user ", text)
    text = _NUMBER.sub(" 0 ", text)
    text = _REPEAT.sub(r"\1\1", text)
    return _ELISION.sub(lambda m: m.group(0)[:-1] + " ", text)


def post_features(text: str, lang: str = "") -> list[str]:
    """The feature strings of one post. Repeats are kept: they are counted, then scaled by the model."""
    norm = normalise(text)
    tokens = _TOKEN.findall(norm)
    features: list[str] = []
    add = features.append
    negated = False
    previous = "<s>"
    for token in tokens:
        if token in _CLAUSE_END or token[0] in "!?":
            negated = False
        word = "NOT_" + token if negated and token[0].isalpha() and token not in _NEGATORS else token
        add("w:" + word)
        add("b:" + previous + " " + word)
        previous = word
        if token in _NEGATORS or token.endswith("n't"):
            negated = True
    if tokens:
        add("b:" + previous + " </s>")
    if "!" in norm:
        add("p:exclaim")
    if "?" in norm:
        add("p:question")
    if _SARCASM.search(norm):
        add("p:sarcasm")
    if sum(1 for c in text if c.isupper()) > 8 and text.upper() == text:
        add("p:shouting")
    if lang:
        add("l:" + lang)
    folded = " " + " ".join(_ascii_fold(t) for t in tokens if t[0].isalpha()) + " "
    for n in (3, 4, 5):
        for i in range(len(folded) - n + 1):
            gram = folded[i : i + n]
            if gram.strip():
                add("c:" + gram)
    return features
