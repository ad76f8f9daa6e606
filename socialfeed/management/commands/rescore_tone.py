"""``manage.py rescore_tone [--since ISO] [--analyser fast|accurate|vader]``: score stored posts again.

``--analyser accurate`` is the accurate tier's re-read done in the foreground, with the same code the ``tone``
queue's workers run (socialfeed/tone/reread.py): results, mentions and the board's rollups in one transaction.

Bounded work: posts are read in id order, ``--batch-size`` at a time, each batch written with bulk_update in
its own transaction, so an interrupted run keeps what it did and a rerun simply does it again (idempotent).
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from incidents.date_inputs import DateInputError, parse_moment
from socialfeed.models import Post
from socialfeed.tone.analysers import analyser_named
from socialfeed.tone.encoder import EncoderMissing
from socialfeed.tone.reread import tone_results_store


def _since(value: str):
    """An ISO date or date-time within the dates Hotline supports (incidents.date_inputs); a date is UTC midnight."""
    try:
        return parse_moment(value, field="--since")[0]
    except DateInputError as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = "Re-score sentiment, tone analyser, official categories and mention complaints of stored posts."

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None, help="Only posts created at or after this ISO date/time.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--analyser", default="default",
                            help="fast (the default), accurate (needs requirements-accurate.txt) or vader.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in cron logs).")

    def handle(self, *args, since: str | None, batch_size: int, analyser: str, no_progress: bool, **options):
        try:
            tone_analyser = analyser_named(analyser)
        except (ValueError, EncoderMissing) as error:
            raise CommandError(str(error)) from error
        posts = Post.objects.all()
        if since:
            posts = posts.filter(created_at__gte=_since(since))
        total = posts.count()
        done = last_id = 0
        with tqdm(total=total, unit="post", disable=no_progress, file=self.stderr) as progress:
            while True:
                batch = list(
                    posts.filter(pk__gt=last_id).order_by("pk").only("pk", "text", "lang", "official_kind", "category")[:batch_size]
                )
                if not batch:
                    break
                last_id = batch[-1].pk
                self._rescore(batch, tone_analyser)
                done += len(batch)
                progress.update(len(batch))
        self.stdout.write(f"rescored {done:,} posts with {tone_analyser.analyser_id}")

    @staticmethod
    def _rescore(batch: list[Post], tone_analyser) -> None:
        results = tone_analyser.analyse_many([p.text for p in batch], [p.lang for p in batch])
        tone_results_store(batch, results)
