"""METRICS.md §8 targets of a brand: the one place every page, alert, rollup and export reads them from.

``brand_targets(brand)`` returns a small frozen dataclass in seconds, with the METRICS.md §8 defaults for a brand
that never set its own (first-response target 1 h, update cadence 1 h, acknowledgement target 30 min, spike
threshold 5). ``brand_targets_save`` is the one write: it validates every value, refuses the whole change when
one is wrong, and re-counts the brand's "answered within target" rollups in the same transaction, so the board
never shows a share counted against another target.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import AuditEntry, Brand, BrandTargets

DEFAULT_FIRST_RESPONSE_MIN = 60  # METRICS.md §8: first-response target, default 1 hour
DEFAULT_UPDATE_CADENCE_MIN = 60  # METRICS.md §8: update cadence, default 1 hour
DEFAULT_ACKNOWLEDGEMENT_MIN = 30  # METRICS.md §8: acknowledgement target, default 30 minutes
DEFAULT_SPIKE_THRESHOLD = 5.0  # METRICS.md §8: spike ratio at or above 5
# METRICS.md §8 leaves the count to the brand; ten customers waiting past the target is Hotline's default.
DEFAULT_UNANSWERED_BREACH_COUNT = 10

FIELDS = ("first_response_target_min", "update_cadence_min", "acknowledgement_target_min", "spike_threshold",
          "unanswered_breach_count")


@dataclass(frozen=True)
class Targets:
    """A brand's METRICS.md §8 targets, durations in seconds."""

    first_response_target_s: float = DEFAULT_FIRST_RESPONSE_MIN * 60.0
    update_cadence_s: float = DEFAULT_UPDATE_CADENCE_MIN * 60.0
    acknowledgement_target_s: float = DEFAULT_ACKNOWLEDGEMENT_MIN * 60.0
    spike_threshold: float = DEFAULT_SPIKE_THRESHOLD
    unanswered_breach_count: int = DEFAULT_UNANSWERED_BREACH_COUNT
    is_default: bool = True

    @classmethod
    def of(cls, row: BrandTargets | None) -> Targets:
        if row is None:
            return cls()
        return cls(first_response_target_s=row.first_response_target_min * 60.0,
                   update_cadence_s=row.update_cadence_min * 60.0,
                   acknowledgement_target_s=row.acknowledgement_target_min * 60.0,
                   spike_threshold=float(row.spike_threshold), unanswered_breach_count=row.unanswered_breach_count,
                   is_default=False)


def _brand_id(brand: Brand | int) -> int:
    return brand if isinstance(brand, int) else brand.pk


def brand_targets(brand: Brand | int) -> Targets:
    """METRICS.md §8 targets of one brand (a Brand or its id), with the defaults where it set none."""
    return Targets.of(BrandTargets.objects.filter(brand_id=_brand_id(brand)).first())


def targets_by_brand(brands: Iterable[Brand | int]) -> dict[int, Targets]:
    """The targets of several brands in one query, by brand id."""
    ids = [_brand_id(b) for b in brands]
    rows = {row.brand_id: row for row in BrandTargets.objects.filter(brand_id__in=ids)}
    return {brand_id: Targets.of(rows.get(brand_id)) for brand_id in ids}


def first_response_target_s(brand: Brand | int) -> float:
    """T of METRICS.md §4 "answered within T": the brand's first-response target in seconds."""
    return brand_targets(brand).first_response_target_s


def update_cadence_s(brand: Brand | int) -> float:
    """METRICS.md §8 update cadence of an ongoing incident's brand, in seconds."""
    return brand_targets(brand).update_cadence_s


def targets_form_initial(brand: Brand) -> dict:
    """The brand's targets in the settings form's units (minutes, ratio, count)."""
    row = BrandTargets.objects.filter(brand=brand).first() or BrandTargets(brand=brand)
    return {name: getattr(row, name) for name in FIELDS}


@transaction.atomic
def brand_targets_save(*, brand: Brand, values: dict, author=None) -> Targets:
    """Set a brand's targets (FIELDS, in minutes, ratio and count); ValidationError naming the fields when any
    value is out of range, and then nothing is stored. A changed first-response target re-counts the brand's
    rollups before the transaction commits (METRICS.md §4 answered within T)."""
    from socialfeed.locks import mention_writes_serialise
    from socialfeed.rollups import rollups_retarget

    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown target(s): {', '.join(sorted(unknown))}.")
    # Taken before the new target is written: a batch being stored either finishes first (and is re-counted
    # below) or waits and counts against the new target.
    mention_writes_serialise()
    row = BrandTargets.objects.select_for_update().filter(brand=brand).first() or BrandTargets(brand=brand)
    before = {name: getattr(row, name) for name in FIELDS}
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean(exclude=["brand"], validate_unique=False)
    row.save()
    changes = {name: {"from": before[name], "to": getattr(row, name)} for name in FIELDS
               if before[name] != getattr(row, name)}
    if "first_response_target_min" in changes:
        rollups_retarget(brand_id=brand.pk, within_s=row.first_response_target_min * 60.0)
    if changes:
        AuditEntry.objects.create(user=author, action="brand.targets", target=f"brand:{brand.slug}",
                                  details={"changes": changes})
    return Targets.of(row)


def validation_messages(error: ValidationError, labels: dict[str, str]) -> list[str]:
    """A ValidationError's messages, each starting with the label of the field it is about."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    out = []
    for name, errors in error.message_dict.items():
        label = labels.get(name, name)
        out += [f"{label}: {message}" for message in errors]
    return out
