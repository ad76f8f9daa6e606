"""``manage.py train_tone``: rebuild the tone model file from the shared labelled data, reproducibly."""
from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialfeed.tone.analysers import MODEL_PATH
from socialfeed.tone.training import default_data_dir, serialise, train


class Command(BaseCommand):
    help = "Train the default tone model on the TRAIN splits in ../shared/data and write socialfeed/tone/model.json."

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, default=None, help="Shared data folder (default: ../shared/data).")
        parser.add_argument("--out", type=Path, default=MODEL_PATH, help="Model file to write.")

    def handle(self, *args, data: Path | None, out: Path, **options):
        data = data or default_data_dir()
        if not data.is_dir():
            raise CommandError(f"shared data folder not found: {data} (set HOTLINE_SHARED_DATA or pass --data)")
        started = time.monotonic()
        model = train(data)
        payload = serialise(model)
        out.write_bytes(payload)
        self.stdout.write(
            f"wrote {out} ({len(payload):,} bytes, {len(model['weights']):,} features, version {model['version']}, "
            f"{model['trained_on']:,} training posts) in {time.monotonic() - started:.1f} s"
        )
