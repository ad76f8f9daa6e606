"""Which tone tier a set of mentions was read by (METRICS.md §6): the board and the reports say it beside their
tone figures, because the accurate tier re-reads posts in the background and reaches them over time."""
from __future__ import annotations

from django.db.models import Count, Q


def mention_tiers(mentions) -> dict[str, int]:
    """{"total", "accurate", "fast"} counts of a Mention queryset: read by the accurate tier (the encoder) or
    still carrying the fast tier's inline reading."""
    from socialfeed.tone.accurate import EncoderToneAnalyser

    counts = mentions.aggregate(
        total=Count("id"), accurate=Count("id", filter=Q(post__tone_analyser__startswith=f"{EncoderToneAnalyser.name}/")))
    return {"total": counts["total"], "accurate": counts["accurate"], "fast": counts["total"] - counts["accurate"]}
