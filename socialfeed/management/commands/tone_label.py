"""``manage.py tone_label --in CSV --text-column COL --out CSV [--analyser fast|accurate]``: add tone columns to
any CSV, streaming, with the analyser that ingestion (fast) or the ``tone`` queue (accurate) uses."""
from __future__ import annotations

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from socialfeed.tone import is_complaint
from socialfeed.tone.analysers import analyser_named
from socialfeed.tone.encoder import EncoderMissing

ADDED = ["sentiment_score", "sentiment_label", "lang", "complaint", "tone_analyser"]
# Rows are scored this many at a time (the accurate tier embeds a batch in one call); memory stays bounded.
CHUNK = 256


class Command(BaseCommand):
    help = ("Copy a CSV adding sentiment_score, sentiment_label, lang, complaint (true/false) and tone_analyser, "
            "streaming.")

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="in_path", required=True, help="CSV to read ('-' for standard input).")
        parser.add_argument("--text-column", required=True, help="Name of the column holding the post text.")
        parser.add_argument("--out", dest="out_path", required=True, help="CSV to write ('-' for standard output).")
        parser.add_argument("--analyser", default="fast",
                            help="fast (the default, as ingestion), accurate (needs requirements-accurate.txt) or vader.")

    def handle(self, *args, in_path: str, text_column: str, out_path: str, analyser: str = "fast", **options):
        try:
            tone_analyser = analyser_named(analyser)
        except (ValueError, EncoderMissing) as error:
            raise CommandError(str(error)) from error
        # Streamed in and out CHUNK rows at a time, so a multi-gigabyte export never sits in memory.
        csv.field_size_limit(sys.maxsize)
        source = sys.stdin if in_path == "-" else open(in_path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        try:
            reader = csv.DictReader(source)
            columns = reader.fieldnames or []
            if text_column not in columns:
                raise CommandError(
                    f"column {text_column!r} is not in {in_path}; its columns are: {', '.join(columns) or '(none)'}"
                )
            target = sys.stdout if out_path == "-" else open(out_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            try:
                fieldnames = columns + [c for c in ADDED if c not in columns]
                writer = csv.DictWriter(target, fieldnames=fieldnames)
                writer.writeheader()
                rows = 0
                chunk: list[dict] = []
                for row in reader:
                    chunk.append(row)
                    if len(chunk) == CHUNK:
                        rows += self._write(writer, chunk, text_column, tone_analyser)
                        chunk = []
                rows += self._write(writer, chunk, text_column, tone_analyser)
            finally:
                if target is not sys.stdout:
                    target.close()
        finally:
            if source is not sys.stdin:
                source.close()
        if out_path != "-":
            self.stdout.write(f"labelled {rows:,} rows into {out_path}")

    @staticmethod
    def _write(writer, chunk: list[dict], text_column: str, tone_analyser) -> int:
        texts = [row.get(text_column) or "" for row in chunk]
        for row, text, tone in zip(chunk, texts, tone_analyser.analyse_many(texts), strict=True):
            row.update(
                sentiment_score=f"{tone.score:.4f}",
                sentiment_label=tone.label,
                lang=tone.lang,
                complaint="true" if is_complaint(text, label=tone.label, lang=tone.lang) else "false",
                tone_analyser=tone.analyser,
            )
            writer.writerow(row)
        return len(chunk)
