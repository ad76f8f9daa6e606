"""``manage.py evaluate_tone``: the fast tier, the accurate tier (when its optional extra is installed) and VADER
side by side on every validation set, and the category accuracy table on the hand-labelled official posts."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialfeed.tone.analysers import load_model, vader_analyser
from socialfeed.tone.encoder import EmbeddingCache, default_cache_path
from socialfeed.tone.evaluation import (
    LABELS,
    OFFICIAL_POST_SETS,
    category_table,
    macro_f1_difference_interval,
    official_posts,
    outage_related_row,
    predictions,
    promotional_figures,
    scores,
)
from socialfeed.tone.training import default_data_dir, validation_sets

_SHORT = {"negative": "neg", "neutral": "neu", "positive": "pos"}


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = ("Print accuracy, macro-F1 and confusion matrices (fast tier, accurate tier, VADER) and the category "
            "table.")

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, default=None, help="Shared data folder (default: ../shared/data).")

    def handle(self, *args, data: Path | None, **options):
        data = data or default_data_dir()
        if not data.is_dir():
            raise CommandError(f"shared data folder not found: {data} (set HOTLINE_SHARED_DATA or pass --data)")
        out = self.stdout.write
        self._sentiment_tables(data, out)
        for set_name, path in OFFICIAL_POST_SETS.items():
            posts = official_posts(path)
            rows, overall = category_table(posts)
            out(f"\n== Official post categories, {set_name}: {sum(r.n for r in rows)} hand-labelled posts, "
                f"accuracy {overall:.3f}")
            out(f"  {'category':16}{'posts':>7}{'correct':>9}{'recall':>9}{'flagged':>9}{'precision':>11}")
            for r in [*rows, outage_related_row(posts)]:
                recall = f"{r.recall:.3f}" if r.recall is not None else "-"
                precision = f"{r.precision:.3f}" if r.precision is not None else "-"
                out(f"  {r.category:16}{r.n:>7}{r.correct:>9}{recall:>9}{r.predicted:>9}{precision:>11}")
            p = promotional_figures(posts)
            out(f"  promotional precision {_share(p.promotional_precision)} ({p.promotional_correct}/"
                f"{p.promotional_flagged}), recall {_share(p.promotional_recall)} ({p.promotional_correct}/"
                f"{p.promotional_n}); outage-related recall {_share(p.outage_related_recall)} "
                f"({p.outage_related_correct}/{p.outage_related_n})")

    @staticmethod
    def _analysers() -> list:
        """The fast tier, the accurate tier when it can run here, and VADER, in that order (VADER last: the
        baseline every lead is measured against)."""
        from socialfeed.tone.accurate import accurate_analyser, installed

        analysers = [load_model()]
        if installed():
            accurate = accurate_analyser()
            cache = default_cache_path()  # same vectors, embedded once ($HOTLINE_TONE_EMBEDDING_CACHE)
            analysers.append(accurate.with_cache(EmbeddingCache(cache)) if cache else accurate)
        return [*analysers, vader_analyser()]

    def _sentiment_tables(self, data: Path, out) -> None:
        analysers = self._analysers()
        *tiers, vader = analysers
        if len(tiers) == 1:
            out("(accurate tier not installed here: pip install -r requirements-accurate.txt to measure it too)")
        width = 34
        for name, examples in validation_sets(data).items():
            truth = [e.label for e in examples]
            labels = [predictions(a, examples) for a in analysers]
            table = [scores(truth, predicted) for predicted in labels]
            out(f"\n== {name}: {table[0].n} posts")
            out(f"{'':22}" + "".join(f"{a.analyser_id[:width - 2]:>{width}}" for a in analysers))
            out(f"{'accuracy':22}" + "".join(f"{t.accuracy:>{width}.3f}" for t in table))
            out(f"{'macro-F1':22}" + "".join(f"{t.macro_f1:>{width}.3f}" for t in table))
            for tier, tier_labels, tier_scores in zip(tiers, labels, table, strict=False):
                low, high = macro_f1_difference_interval(truth, tier_labels, labels[-1])
                out(f"lead of {tier.name} in macro-F1 over VADER: {tier_scores.macro_f1 - table[-1].macro_f1:+.3f}, "
                    f"95% paired bootstrap interval [{low:+.3f}, {high:+.3f}]")
            if len(tiers) == 2:
                low, high = macro_f1_difference_interval(truth, labels[1], labels[0])
                out(f"lead of the accurate tier over the fast tier: {table[1].macro_f1 - table[0].macro_f1:+.3f}, "
                    f"95% paired bootstrap interval [{low:+.3f}, {high:+.3f}]")
            out("confusion (rows = truth, columns = predicted neg/neu/pos)")
            for i, label in enumerate(LABELS):
                cells = "".join(f"{' '.join(f'{v:>6}' for v in t.confusion[i]):>{width}}" for t in table)
                out(f"  {_SHORT[label]:20}{cells}")
