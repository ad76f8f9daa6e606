"""python manage.py import_posts --format twcs|x-jsonl|ibm-cdp PATH"""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from socialfeed.importers import FORMATS, ImportFileError, posts_import


class Command(BaseCommand):
    help = "Import posts from a file (streaming, in batches); bad rows are reported with their line number."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", dest="fmt", choices=FORMATS, required=True)
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, path, fmt, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        bar = tqdm(unit=" posts", desc=f"Importing {fmt}", disable=no_progress or not sys.stderr.isatty(),
                   file=sys.stderr)

        def rejected(r):
            self.stderr.write(f"{path}: line {r.line}: {r.reason}")

        try:
            summary = posts_import(path=path, fmt=fmt, on_rejected=rejected, on_progress=bar.update,
                                   batch_size=batch_size)
        except ImportFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        finally:
            bar.close()
        self.stdout.write(summary.line())
        if summary.rejected:
            raise CommandError(f"{summary.rejected} row(s) were rejected; the valid rows were stored.")
