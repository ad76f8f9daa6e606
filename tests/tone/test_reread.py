"""The accurate tier's background re-read (socialfeed/tone/reread.py): what it picks first, that it never hands
a post out twice, and that results, mentions and the board's rollups change together.

These run with or without the optional extra: the re-read takes any analyser behind the tone interface, and
here it is VADER (a real analyser, installed with Hotline). The accurate tier itself is tested in
test_accurate.py, which skips without its extra."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from incidents.models import Incident
from socialfeed.models import Mention, MinuteRollup, Post
from socialfeed.tone import reread
from socialfeed.tone.analysers import load_model, vader_analyser

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
NOW = datetime(2025, 3, 9, 12, tzinfo=UTC)


def _mention(brand, n: int, when: datetime, text: str, *, analyser: str | None = None) -> Post:
    fast = load_model().analyse(text)
    post = Post.objects.create(platform="x", platform_id=str(n), created_at=when, text=text,
                               sentiment_score=fast.score, sentiment_label=fast.label,
                               tone_analyser=analyser or fast.analyser)
    Mention.objects.create(post=post, brand=brand, created_at=when, matched_by="handle",
                           sentiment_label=fast.label, complaint=fast.label == "negative")
    return post


@pytest.fixture
def two_outages(make_brand):
    """An old outage of Ondine Mobile and a newer one of Brisant Télécom, with mentions in and out of both."""
    ondine, brisant = make_brand("Ondine Mobile"), make_brand("Brisant Télécom")
    Incident.objects.create(brand=ondine, title="Data down", started_at=T0, ended_at=T0 + timedelta(hours=2))
    newer = T0 + timedelta(days=3)
    Incident.objects.create(brand=brisant, title="Fibre cut", started_at=newer, ended_at=newer + timedelta(hours=2))
    old_in = [_mention(ondine, i, T0 + timedelta(minutes=i), f"still no signal {i}") for i in range(1, 4)]
    new_in = [_mention(brisant, 10 + i, newer + timedelta(minutes=i), f"fibre down again {i}") for i in range(1, 4)]
    outside = [_mention(ondine, 20 + i, T0 - timedelta(days=1, minutes=i), f"hello {i}") for i in range(1, 3)]
    return old_in, new_in, outside


def test_it_reads_the_newest_incident_first_then_the_older_then_the_rest(two_outages):
    old_in, new_in, outside = two_outages
    order = reread._candidates("vader/x", NOW, 100)
    newest_first = lambda posts: [p.pk for p in sorted(posts, key=lambda p: p.created_at, reverse=True)]  # noqa: E731
    assert order == newest_first(new_in) + newest_first(old_in) + newest_first(outside)


def test_it_never_hands_the_same_post_out_twice_and_retakes_a_dead_workers_claim(two_outages, monkeypatch):
    monkeypatch.setattr(reread, "BATCH", 2)
    first = reread.claim_next(analyser_id="vader/x", now=NOW, batches=2)
    assert [len(b) for b in first] == [2, 2]
    # The lookahead is full: nothing more is claimed until a batch is read or a claim expires.
    assert reread.claim_next(analyser_id="vader/x", now=NOW, batches=2) == []
    later = NOW + timedelta(seconds=10)
    reread.reread(first[0], vader_analyser())
    second = reread.claim_next(analyser_id=vader_analyser().analyser_id, now=later, batches=2)
    claimed = [pk for batch in first + second for pk in batch]
    assert len(claimed) == len(set(claimed)) == 6
    # A worker that died holding a claim: after CLAIM_SECONDS its posts are claimed again.
    expired = NOW + timedelta(seconds=reread.CLAIM_SECONDS + 1)
    again = reread.claim_next(analyser_id=vader_analyser().analyser_id, now=expired, batches=10)
    assert set(first[1]) <= {pk for batch in again for pk in batch}


def test_it_stores_the_new_reading_with_its_version_and_the_board_counts_follow(two_outages):
    _, new_in, _ = two_outages
    post = new_in[0]
    Post.objects.filter(pk=post.pk).update(text="Thank you so much, wonderful support, all fixed!")
    post.refresh_from_db()
    assert Mention.objects.get(post=post).sentiment_label != "positive"  # the stale reading, before the re-read
    vader = vader_analyser()
    assert reread.reread([post.pk], vader) == 1
    post.refresh_from_db()
    mention = Mention.objects.get(post=post)
    assert post.tone_analyser == vader.analyser_id and post.sentiment_label == "positive"
    assert post.tone_queued_at is None
    assert mention.sentiment_label == "positive" and not mention.complaint
    rollup = MinuteRollup.objects.get(brand=mention.brand, minute=mention.created_at.replace(second=0))
    assert rollup.positive == Mention.objects.filter(brand=mention.brand, created_at__gte=rollup.minute,
                                                     created_at__lt=rollup.minute + timedelta(minutes=1),
                                                     sentiment_label="positive").count() == 1
    # Read once: a second re-read of the same post by the same analyser does nothing.
    assert reread.reread([post.pk], vader) == 0


def test_it_never_writes_a_reading_over_a_text_it_did_not_read(two_outages):
    _, new_in, _ = two_outages
    post = Post.objects.get(pk=new_in[0].pk)
    results = vader_analyser().analyse_many(["Thank you, wonderful!"])
    post.text = "Thank you, wonderful!"  # what the re-read read; meanwhile the stored post was edited
    reread.tone_results_store([post], results)
    post.refresh_from_db()
    assert post.tone_analyser.startswith("hotline-linear/") and post.text.startswith("fibre down again")


def test_rescore_tone_names_the_missing_extra_or_an_unknown_analyser(db, monkeypatch):
    from socialfeed.tone import accurate, encoder

    monkeypatch.setattr(encoder, "available", lambda: False)
    accurate.accurate_analyser.cache_clear()
    try:
        with pytest.raises(CommandError, match="requirements-accurate.txt"):
            call_command("rescore_tone", analyser="accurate", no_progress=True)
    finally:
        accurate.accurate_analyser.cache_clear()
    with pytest.raises(CommandError, match="use fast, accurate"):
        call_command("rescore_tone", analyser="bert", no_progress=True)
