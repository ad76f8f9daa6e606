"""A 700-post X burst polled by a real ``celery -A config worker`` on Redis and PostgreSQL: every post stored
once, however many polls it takes; the worker reads the local X server through X_API_BASE_URL."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import OfficialAccount
from socialfeed.models import Post, Source
from tests.celery_worker import database_url, wait_for
from tests.polling.conftest import BRAND_X_ID

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_stores_a_700_post_burst_whole_over_successive_polls(x_server, brand, tmp_path, run_keys):
    account = OfficialAccount.objects.create(brand=brand, platform="x", handle="ondine_mobile",
                                             platform_user_id=BRAND_X_ID)
    source = Source.objects.create(name="Ondine mentions on X", platform="x", kind="mentions", brand=brand,
                                   official_account=account, cursor=x_server_cursor(x_server))
    x_server.burst(700, mention_of=BRAND_X_ID, start=timezone.now() - timedelta(minutes=40))
    # The run's own key prefix on REDIS_URL: nothing is flushed; run_keys deletes exactly its keys afterwards.
    broker = run_keys.broker("hotline-burst-test")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url(),
           "X_BEARER_TOKEN": "test-bearer", "X_API_BASE_URL": x_server.url, "DB_CONN_MAX_AGE": "0"}
    worker = run_keys.worker(name="burst", env=env, log=tmp_path / "burst.log", wait_limit=40)
    try:
        worker.wait_ready()
        for n in range(1, 5):
            broker.send_task("socialfeed.tasks.poll_source", args=[source.pk],
                             kwargs={"requested_at": timezone.now().isoformat()})
            wait_for(lambda n=n: worker.finished_tasks() >= n, what=f"poll {n} to finish", limit=60)
            source.refresh_from_db()
            if not source.backfill_cursor:
                break
        assert n == 2, worker.text()  # 500 in the first poll, the last 200 in the second
        assert Post.objects.filter(source=source).count() == 700
        assert Post.objects.values("platform_id").distinct().count() == 700
        assert source.posts_stored == 700 and source.complete_up_to is not None
    finally:
        worker.stop()


def x_server_cursor(server) -> str:
    """A cursor from an earlier poll, half an hour before the burst."""
    from tests.platform_servers import snowflake

    return snowflake(timezone.now() - timedelta(minutes=45))
