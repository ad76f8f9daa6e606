"""``manage.py evaluate_tone``: the default analyser and VADER side by side on every validation set, and
the category accuracy table on the hand-labelled official posts."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialfeed.tone.analysers import load_model, vader_analyser
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
    help = "Print accuracy, macro-F1 and confusion matrices (default vs VADER) and the category table."

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, default=None, help="Shared data folder (default: ../shared/data).")

    def handle(self, *args, data: Path | None, **options):
        data = data or default_data_dir()
        if not data.is_dir():
            raise CommandError(f"shared data folder not found: {data} (set HOTLINE_SHARED_DATA or pass --data)")
        default, vader = load_model(), vader_analyser()
        out = self.stdout.write
        for name, examples in validation_sets(data).items():
            truth = [e.label for e in examples]
            mine_labels, theirs_labels = predictions(default, examples), predictions(vader, examples)
            mine, theirs = scores(truth, mine_labels), scores(truth, theirs_labels)
            low, high = macro_f1_difference_interval(truth, mine_labels, theirs_labels)
            out(f"\n== {name}: {mine.n} posts")
            out(f"{'':22}{default.analyser_id:>30}{vader.analyser_id:>30}")
            out(f"{'accuracy':22}{mine.accuracy:>30.3f}{theirs.accuracy:>30.3f}")
            out(f"{'macro-F1':22}{mine.macro_f1:>30.3f}{theirs.macro_f1:>30.3f}")
            out(f"lead in macro-F1 over VADER: {mine.macro_f1 - theirs.macro_f1:+.3f}, "
                f"95% paired bootstrap interval [{low:+.3f}, {high:+.3f}]")
            out("confusion (rows = truth, columns = predicted neg/neu/pos)")
            for i, label in enumerate(LABELS):
                left = " ".join(f"{v:>6}" for v in mine.confusion[i])
                right = " ".join(f"{v:>6}" for v in theirs.confusion[i])
                out(f"  {_SHORT[label]:20}{left:>30}{right:>30}")
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
