"""The demo scenario is rerunnable, and the docker-compose stack is described once for web, worker and beat."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from incidents.demo import demo_load
from incidents.models import Brand, Incident
from socialfeed.models import Mention, Post

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_the_demo_loads_twice_without_duplicating_anything():
    first = demo_load(now=NOW)
    counts = (Brand.objects.count(), Incident.objects.count(), Post.objects.count(), Mention.objects.count())
    second = demo_load(now=NOW)
    assert second["stored"] == 0 and first["stored"] > 1000
    assert (Brand.objects.count(), Incident.objects.count(), Post.objects.count(), Mention.objects.count()) == counts
    # The story holds: one operator answers most customers, the other almost none.
    ondine = Mention.objects.filter(brand__slug="ondine-mobile")
    brisant = Mention.objects.filter(brand__slug="brisant-telecom")
    assert ondine.filter(answered=True).count() / ondine.count() > 0.6
    assert brisant.filter(answered=True).count() / brisant.count() < 0.2


def test_docker_compose_shares_one_hotline_service_for_web_worker_and_beat():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "tone-worker", "beat"}
    hotline = compose["x-hotline"]
    for name in ("web", "worker", "tone-worker", "beat"):
        assert services[name]["image"] == hotline["image"] and services[name]["environment"] == hotline["environment"]
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:3] == ["celery", "-A", "config"]
    assert services["tone-worker"]["command"][3:6] == ["worker", "-Q", "tone"]
    for name in ("postgres", "redis", "web", "worker", "tone-worker"):
        assert "healthcheck" in services[name]
    assert (REPO / ".env.example").is_file()
