"""``manage.py tone_label --in CSV --text-column COL --out CSV``: add tone columns to any CSV, streaming."""
from __future__ import annotations

import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from socialfeed.tone import analyse, is_complaint

ADDED = ["sentiment_score", "sentiment_label", "lang", "complaint"]


class Command(BaseCommand):
    help = "Copy a CSV adding sentiment_score, sentiment_label, lang and complaint (true/false), row by row."

    def add_arguments(self, parser):
        parser.add_argument("--in", dest="in_path", required=True, help="CSV to read ('-' for standard input).")
        parser.add_argument("--text-column", required=True, help="Name of the column holding the post text.")
        parser.add_argument("--out", dest="out_path", required=True, help="CSV to write ('-' for standard output).")

    def handle(self, *args, in_path: str, text_column: str, out_path: str, **options):
        # Row by row in and out, so a multi-gigabyte export never sits in memory.
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
                for row in reader:
                    text = row.get(text_column) or ""
                    tone = analyse(text)
                    row.update(
                        sentiment_score=f"{tone.score:.4f}",
                        sentiment_label=tone.label,
                        lang=tone.lang,
                        complaint="true" if is_complaint(text, label=tone.label, lang=tone.lang) else "false",
                    )
                    writer.writerow(row)
                    rows += 1
            finally:
                if target is not sys.stdout:
                    target.close()
        finally:
            if source is not sys.stdin:
                source.close()
        if out_path != "-":
            self.stdout.write(f"labelled {rows:,} rows into {out_path}")
