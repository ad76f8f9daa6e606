"""METRICS.md §7 spikes: complaint volume against a brand's normal hours, and the incidents Hotline suggests
opening when complaints spike with no incident covering them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from socialfeed.models import MinuteRollup
from socialfeed.selectors import quantile

from .figures import PHASE
from .models import Brand, Incident
from .targets import targets_by_brand

UTC = dt.UTC


# The ratio that makes a spike is the brand's spike threshold (METRICS.md §8, default 5; incidents.targets).
SPIKE_MIN_COMPLAINTS = 10  # and enough complaints that a quiet brand's two tweets are no outage
SPIKE_LOOKBACK_HOURS = 3


@dataclass(frozen=True)
class SuggestedIncident:
    brand: Brand
    detected_start: dt.datetime
    complaints: int
    baseline: float
    ratio: float
    threshold: float = 5.0


def _hourly_complaints(brand_id: int, lo: dt.datetime, hi: dt.datetime) -> dict[dt.datetime, int]:
    rows = (MinuteRollup.objects.filter(brand_id=brand_id, minute__gte=lo, minute__lt=hi)
            .annotate(h=TruncHour("minute", tzinfo=UTC)).values("h").annotate(n=Sum("complaints")).order_by())
    return {r["h"].astimezone(UTC): r["n"] or 0 for r in rows}


def _median(values: list[float]) -> float:
    return quantile(sorted(values), 0.5) or 0.0


def spike_ratio(*, brand_id: int, hour: dt.datetime, hourly: dict[dt.datetime, int] | None = None) -> tuple[int, float, float]:
    """METRICS.md §7 spike ratio of complaints for one UTC hour: (complaints, baseline, ratio), the baseline
    being the median hourly complaint volume over the 7 days before the hour's day."""
    day = hour.replace(hour=0)
    if hourly is None:
        hourly = _hourly_complaints(brand_id, day - PHASE, hour + dt.timedelta(hours=1))
    baseline = _median([hourly.get(day - PHASE + i * dt.timedelta(hours=1), 0) for i in range(7 * 24)])
    volume = hourly.get(hour, 0)
    return volume, baseline, volume / max(baseline, 1)


def suggested_incidents(*, brands, now: dt.datetime | None = None) -> list[SuggestedIncident]:
    """Complaint spikes (METRICS.md §7, at or above the brand's §8 spike threshold) in the last hours of brands
    that have no incident covering them."""
    now = now or timezone.now()
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    suggestions = []
    brands = list(brands)
    thresholds = {brand_id: t.spike_threshold for brand_id, t in targets_by_brand(brands).items()}
    for brand in brands:
        threshold = thresholds[brand.pk]
        first_hour = current - dt.timedelta(hours=SPIKE_LOOKBACK_HOURS - 1)
        hourly = _hourly_complaints(brand.id, first_hour.replace(hour=0) - PHASE, current + dt.timedelta(hours=1))
        spiking = []
        for i in range(SPIKE_LOOKBACK_HOURS):
            hour = first_hour + i * dt.timedelta(hours=1)
            volume, baseline, ratio = spike_ratio(brand_id=brand.id, hour=hour, hourly=hourly)
            if volume >= SPIKE_MIN_COMPLAINTS and ratio >= threshold:
                spiking.append((hour, volume, baseline, ratio))
        if not spiking:
            continue
        hour, volume, baseline, ratio = spiking[0]
        # The detected start: the first minute of the first spiking hour whose complaints alone exceed a
        # normal minute's share of the baseline, so the banner names when it started, not the hour's top.
        per_minute = max(baseline, 1) / 60
        first_minute = (MinuteRollup.objects.filter(brand_id=brand.id, minute__gte=hour,
                                                    minute__lt=hour + dt.timedelta(hours=1),
                                                    complaints__gt=per_minute)
                        .order_by("minute").values_list("minute", flat=True).first()) or hour
        covered = Incident.objects.filter(brand=brand).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=first_minute)).exists()
        if not covered:
            suggestions.append(SuggestedIncident(brand=brand, detected_start=first_minute, complaints=volume,
                                                 baseline=baseline, ratio=ratio, threshold=threshold))
    return suggestions
