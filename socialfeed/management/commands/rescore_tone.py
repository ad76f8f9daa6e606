"""``manage.py rescore_tone [--since ISO]``: score stored posts again with the current default analyser.

Bounded work: posts are read in id order, ``--batch-size`` at a time, each batch written with bulk_update in
its own transaction, so an interrupted run keeps what it did and a rerun simply does it again (idempotent).
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from incidents.date_inputs import DateInputError, parse_moment
from socialfeed.locks import mention_writes_serialise
from socialfeed.models import Mention, Post
from socialfeed.rollups import rollups_refresh
from socialfeed.tone import categorise, is_complaint
from socialfeed.tone.analysers import analyser_named


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
        parser.add_argument("--analyser", default="default", help="default, hotline-linear or vader.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (e.g. in cron logs).")

    def handle(self, *args, since: str | None, batch_size: int, analyser: str, no_progress: bool, **options):
        try:
            tone_analyser = analyser_named(analyser)
        except ValueError as error:
            raise CommandError(str(error)) from error
        posts = Post.objects.all()
        if since:
            posts = posts.filter(created_at__gte=_since(since))
        total = posts.count()
        done = last_id = 0
        with tqdm(total=total, unit="post", disable=no_progress, file=self.stderr) as progress:
            while True:
                batch = list(
                    posts.filter(pk__gt=last_id).order_by("pk").only("pk", "text", "lang", "official_kind")[:batch_size]
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
        by_id = {}
        for post in batch:
            tone = tone_analyser.analyse(post.text, lang_hint=post.lang)
            post.sentiment_score = tone.score
            post.sentiment_label = tone.label
            post.tone_analyser = tone.analyser
            if post.official_kind:
                post.category = categorise(post.text, tone.lang)
            by_id[post.pk] = (post, tone)
        mentions = list(Mention.objects.filter(post_id__in=by_id).only("pk", "post_id", "brand_id", "created_at"))
        for mention in mentions:
            post, tone = by_id[mention.post_id]
            mention.sentiment_label = tone.label
            mention.complaint = is_complaint(post.text, label=tone.label, lang=tone.lang)
        with transaction.atomic():
            mention_writes_serialise()
            Post.objects.bulk_update(batch, ["sentiment_score", "sentiment_label", "tone_analyser", "category"])
            Mention.objects.bulk_update(mentions, ["sentiment_label", "complaint"])
            # The board's minute rollups count complaints and sentiment labels: they follow in the same transaction.
            rollups_refresh(brand_ids_minutes={(m.brand_id, m.created_at) for m in mentions})
