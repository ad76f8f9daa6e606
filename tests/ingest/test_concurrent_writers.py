"""Several writers of mentions at once — two workers storing batches, a tone rescore — leave first responses
(METRICS.md §3) and the board's minute rollups exactly as one writer storing everything in turn would."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from socialfeed.models import Mention, MinuteRollup, Post
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WAIT_LIMIT_S = 10


def _post(pid: str, author: str, minutes: int, text: str, reply_to: str = "", reply_to_author: str = "",
          handle: str | None = None) -> NormalisedPost:
    return NormalisedPost(platform="x", platform_id=pid, author_id=author, author_handle=handle or author,
                          created_at=T0 + timedelta(minutes=minutes), text=text, in_reply_to_id=reply_to,
                          in_reply_to_author_id=reply_to_author, conversation_id="1")


def _waiting_on_a_lock(thread: threading.Thread) -> bool:
    """True once another session waits on a lock (or the thread is already done: then it did not wait)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND pid <> pg_backend_pid() AND datname = current_database()")
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_and_its_mention_stored_by_two_workers_at_once_still_count_as_answered(make_brand):
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="OndineMobile", user_id="900")
    reply_stored, release_reply = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker_with_the_reply() -> None:
        # The official account's source: its batch is stored but not yet committed when the mention arrives.
        try:
            with transaction.atomic():
                posts_ingest(posts=[_post("2", "900", 4, "@c1 sorry, our engineers are on it", reply_to="1",
                                          reply_to_author="c1", handle="OndineMobile")])
                reply_stored.set()
                release_reply.wait(WAIT_LIMIT_S)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
            reply_stored.set()
        finally:
            connection.close()

    def worker_with_the_mention() -> None:
        try:
            posts_ingest(posts=[_post("1", "c1", 0, "@OndineMobile no signal since this morning")])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=worker_with_the_reply)
    first.start()
    assert reply_stored.wait(WAIT_LIMIT_S)
    second = threading.Thread(target=worker_with_the_mention)
    second.start()
    waited = _waiting_on_a_lock(second)
    release_reply.set()
    first.join(WAIT_LIMIT_S)
    second.join(WAIT_LIMIT_S)
    assert not errors, errors

    mention = Mention.objects.get(brand=brand)
    assert mention.answered and mention.frt_seconds == 240
    assert mention.first_response == Post.objects.get(platform_id="2")
    rollup = MinuteRollup.objects.get(brand=brand)
    assert (rollup.mentions, rollup.answered) == (1, 1)
    assert waited, "the second batch did not wait for the first one's transaction"


@pytest.mark.django_db
def test_rescoring_tone_moves_the_boards_complaint_and_sentiment_counts(make_brand):
    brand = make_brand(name="Ondine Mobile", slug="ondine", handle="OndineMobile", user_id="900")
    posts_ingest(posts=[_post("1", "c1", 0, "@OndineMobile toujours rien, ça ne marche pas"),
                        _post("2", "c2", 0, "@OndineMobile merci, tout est revenu, super !")])
    # As if an older analyser had scored them the other way round.
    Post.objects.update(sentiment_label="neutral", tone_analyser="old/0")
    Mention.objects.update(sentiment_label="neutral", complaint=False)
    MinuteRollup.objects.update(complaints=0, negative=0, positive=0)

    call_command("rescore_tone", no_progress=True, stdout=open("/dev/null", "w"))

    rollup = MinuteRollup.objects.get(brand=brand)
    assert (rollup.mentions, rollup.complaints, rollup.negative, rollup.positive) == (2, 1, 1, 1)
