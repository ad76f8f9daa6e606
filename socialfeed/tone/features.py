"""Turning a post into the features the tone model reads: words, word pairs, character shapes and two
sentiment lexicons.

Done by hand in plain Python (no vectoriser object) so that training and scoring cannot drift apart: both
call :func:`post_features`. What depends on one word alone (its character n-grams, its lexicon valence) is
computed once per distinct word and cached, because customer posts reuse the same few thousand words: that
is what keeps scoring above 2,000 posts a second on one core, VADER's pass over English posts included.

Lexicons: English words get VADER's valence (vaderSentiment's own ``vader_lexicon.txt``, read from the
installed package, no download); French words get the adjective polarities of the PDDL-licensed lexicon of
De Smedt & Daelemans shipped with textblob-fr, kept here as ``fr_lexicon.tsv`` (3,950 single words,
polarity averaged over senses). They carry what 1,800 labelled general-domain tweets per language cannot
teach a model: the polarity of words it has rarely or never seen.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

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
# VADER's own damping of a negated word's valence ("not good" is milder than "bad").
_NEGATED_VALENCE = -0.74
# French lexicon polarities are in [-1, 1], VADER's valences in [-4, 4]: put them on the same footing.
_FR_LEXICON_SCALE = 3.0
FR_LEXICON_PATH = Path(__file__).resolve().parent / "fr_lexicon.tsv"
# Names of the dense lexicon columns, in the order post_features returns them and the model file stores them.
DENSE_FEATURES = ("lex:en_pos", "lex:en_neg", "lex:fr_pos", "lex:fr_neg")
# What the second stage of the model reads besides the first stage's three logits, in the order
# :func:`stack_features` returns them: VADER's own reading of an English post (its rules for boosters, "but",
# capitals and punctuation carry what 1,800 general-domain tweets cannot teach), the lexicon sums, the language.
STACK_FEATURES = ("vader:neg", "vader:pos", "vader:compound", *DENSE_FEATURES, "lang:fr", "lang:en")


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


@lru_cache(maxsize=1)
def _lexicons() -> tuple[dict[str, float], dict[str, float]]:
    import vaderSentiment

    english: dict[str, float] = {}
    vader_file = Path(vaderSentiment.__file__).resolve().parent / "vader_lexicon.txt"
    for line in vader_file.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            english[parts[0]] = float(parts[1])
    french: dict[str, float] = {}
    for line in FR_LEXICON_PATH.read_text(encoding="utf-8").splitlines():
        word, polarity = line.split("\t")
        french[word] = float(polarity) * _FR_LEXICON_SCALE
    return english, french


@lru_cache(maxsize=200_000)
def word_shape(token: str) -> tuple[tuple[str, ...], float, float]:
    """What one token contributes whatever its context: character 3-5-grams of the accent-folded word padded
    with spaces, and its English and French lexicon valence (0.0 when unlisted)."""
    english, french = _lexicons()
    if token[0].isalpha():
        padded = " " + _ascii_fold(token) + " "
        grams = tuple("c:" + padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    else:
        grams = ()
    return grams, english.get(token, 0.0), french.get(token, 0.0)


def post_parts(text: str, lang: str = "") -> tuple[list[str], list[str], list[str], tuple[float, float, float, float]]:
    """A post cut into what the model reads: its tokens, the word and word-pair features that depend on their
    context (negation), the post-level features, and the dense lexicon features named by
    :data:`DENSE_FEATURES` (log(1 + summed positive / negative valence), from the French lexicon when the post
    is French, from VADER's otherwise; a negated word's valence flips).

    Each token also brings its character n-grams (:func:`word_shape`), which do not depend on context.
    """
    norm = normalise(text)
    tokens = _TOKEN.findall(norm)
    contextual: list[str] = []
    add = contextual.append
    negated = False
    previous = "<s>"
    french = lang == "fr"
    positive = negative = 0.0
    for token in tokens:
        if token in _CLAUSE_END or token[0] in "!?":
            negated = False
        flipped = negated and token[0].isalpha() and token not in _NEGATORS
        word = "NOT_" + token if flipped else token
        add("w:" + word)
        add("b:" + previous + " " + word)
        previous = word
        if token in _NEGATORS or token.endswith("n't"):
            negated = True
        _, en_valence, fr_valence = word_shape(token)
        valence = fr_valence if french else en_valence
        if valence:
            if flipped:
                valence *= _NEGATED_VALENCE
            if valence > 0:
                positive += valence
            else:
                negative -= valence
    extra: list[str] = []
    if tokens:
        add("b:" + previous + " </s>")
    if "!" in norm:
        extra.append("p:exclaim")
    if "?" in norm:
        extra.append("p:question")
    if _SARCASM.search(norm):
        extra.append("p:sarcasm")
    if text.upper() == text and sum(1 for c in text if c.isupper()) > 8:  # the cheap test first
        extra.append("p:shouting")
    if lang:
        extra.append("l:" + lang)
    positive, negative = math.log1p(positive), math.log1p(negative)
    dense = (0.0, 0.0, positive, negative) if french else (positive, negative, 0.0, 0.0)
    return tokens, contextual, extra, dense


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def stack_features(text: str, lang: str, dense: tuple[float, float, float, float]) -> tuple[float, ...]:
    """The second stage's inputs named by :data:`STACK_FEATURES`. VADER reads English only, so a French post
    gets zeros there rather than VADER's noise; it reads the raw text, capitals and punctuation included."""
    if lang == "fr" or not text:
        neg = pos = compound = 0.0
    else:
        vader = _vader().polarity_scores(text)
        neg, pos, compound = vader["neg"], vader["pos"], vader["compound"]
    return (neg, pos, compound, *dense, float(lang == "fr"), float(lang == "en"))


def post_features(text: str, lang: str = "") -> tuple[list[str], tuple[float, float, float, float]]:
    """The sparse feature strings of one post (repeats kept: each occurrence counts) and its dense lexicon
    features. Training reads this; the analyser reads the same parts through a per-word cache of column
    numbers, and a test checks that both see the same features."""
    tokens, contextual, extra, dense = post_parts(text, lang)
    features = contextual
    for token in tokens:
        features.extend(word_shape(token)[0])
    features.extend(extra)
    return features, dense
