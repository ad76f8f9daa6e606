"""``manage.py train_tone [--tier fast|accurate]``: rebuild a tone model file from the shared labelled data,
reproducibly (the same data gives the same bytes; a test checks it).

``--tier fast`` (the default) writes socialfeed/tone/model.json: the n-gram model and the word table distilled
from the encoder. ``--tier accurate`` writes socialfeed/tone/accurate.json: the accurate tier's linear head on
the encoder's vectors of the training posts. Both need the optional extra (requirements-accurate.txt) to
embed; vectors are kept in $HOTLINE_TONE_EMBEDDING_CACHE when it is set (a file outside the repository), so a
second run embeds nothing.
"""
from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from socialfeed.tone.analysers import MODEL_PATH
from socialfeed.tone.training import default_data_dir, serialise, train


class Command(BaseCommand):
    help = "Train a tone model on the TRAIN splits in ../shared/data: the fast tier (model.json) or the accurate head."

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, default=None, help="Shared data folder (default: ../shared/data).")
        parser.add_argument("--tier", choices=("fast", "accurate"), default="fast",
                            help="fast: model.json (default); accurate: the encoder head, accurate.json.")
        parser.add_argument("--out", type=Path, default=None, help="Model file to write (default: the committed one).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar while embedding.")

    def handle(self, *args, data: Path | None, tier: str = "fast", out: Path | None = None, no_progress=False,
               **options):
        from socialfeed.tone.accurate import HEAD_PATH, train_head
        from socialfeed.tone.encoder import available

        data = data or default_data_dir()
        if not data.is_dir():
            raise CommandError(f"shared data folder not found: {data} (set HOTLINE_SHARED_DATA or pass --data)")
        if not available():
            raise CommandError("train_tone embeds words and posts with the encoder, an optional extra: "
                               "pip install -r requirements-accurate.txt")
        started = time.monotonic()
        with tqdm(unit="text", desc="embedding", disable=no_progress, file=self.stderr) as progress:
            if tier == "fast":
                out = out or MODEL_PATH
                model = train(data, progress=progress.update)
            else:
                out = out or HEAD_PATH
                model = train_head(data, progress=progress.update)
        payload = serialise(model)
        out.write_bytes(payload)
        if tier == "fast":
            summary = (f"{len(model['weights']):,} features, {len(model.get('words', {})):,} words in the word "
                       f"table, version {model['version']}, {model['trained_on']:,} training posts")
        else:
            summary = f"head version {model['version']} on {model['encoder']}"
        self.stdout.write(f"wrote {out} ({len(payload):,} bytes, {summary}) in {time.monotonic() - started:.1f} s")
