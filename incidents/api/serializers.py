"""The shapes the API answers with, and so its OpenAPI description. Output only: writes go through the pages'
forms (``writes.py``). Times are ISO 8601 in UTC unless a field says "local"; durations are seconds; a share is
0 to 1; ``null`` means "no value" (an empty set, not yet acknowledged…), never 0. Figures follow docs/METRICS.md,
section by section as each help text says.
"""
from __future__ import annotations

from rest_framework import serializers

from incidents import reports
from incidents.models import Incident, OffPlatformCommunication
from socialfeed.models import Mention, Post

from .pagination import page_serializer


def _seconds(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


# --- Brands --------------------------------------------------------------------------------------------------

class OfficialAccountSerializer(serializers.Serializer):
    platform = serializers.CharField()
    handle = serializers.CharField()


class TargetsSerializer(serializers.Serializer):
    """The brand's METRICS.md §8 targets (incidents/targets.py), durations in seconds."""

    first_response_target_s = serializers.FloatField(
        help_text="T of METRICS.md §4 'answered within T' and §8 breaches (default 3600).")
    update_cadence_s = serializers.FloatField(help_text="Longest an ongoing incident should go without an "
                                                        "outage-related broadcast (default 3600).")
    acknowledgement_target_s = serializers.FloatField(help_text="Time to acknowledge before an alert "
                                                                "(default 1800).")
    spike_threshold = serializers.FloatField(help_text="METRICS.md §7 spike ratio that raises an alert (default 5).")
    unanswered_breach_count = serializers.IntegerField(help_text="Unanswered breaches in an incident before an "
                                                                 "alert.")
    is_default = serializers.BooleanField(help_text="True while the brand has not set targets of its own.")


class OpeningSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 Monday … 6 Sunday.")
    opens = serializers.CharField(help_text="HH:MM on the brand's clocks.")
    closes = serializers.CharField(help_text="HH:MM on the brand's clocks (24:00 is midnight at the end).")


class BusinessHoursSerializer(serializers.Serializer):
    """The brand's business hours (METRICS.md §4 business-hours FRT); none: open all the time."""

    always_open = serializers.BooleanField()
    weekly = OpeningSerializer(many=True)
    holidays = serializers.ListField(child=serializers.DateField(), help_text="Days closed, in the brand's zone.")


class BrandSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="The brand's time zone: pages show its times there.")
    languages = serializers.ListField(child=serializers.CharField())
    official_accounts = OfficialAccountSerializer(many=True)
    tracking_terms = serializers.ListField(child=serializers.CharField(),
                                           help_text="Keywords, #hashtags and $cashtags (METRICS.md §2 c).")
    targets = TargetsSerializer()
    business_hours = BusinessHoursSerializer()


# --- Incidents -----------------------------------------------------------------------------------------------

class PhaseSerializer(serializers.Serializer):
    """METRICS.md §4 aggregates over the mentions created in one §5 phase."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mentions = serializers.IntegerField()
    per_hour = serializers.FloatField(allow_null=True, help_text="Mentions per hour (METRICS.md §7 volume).")
    answered = serializers.IntegerField()
    reply_rate = serializers.FloatField(allow_null=True)
    answered_within_target = serializers.FloatField(allow_null=True, help_text=(
        "Share of mentions answered within the brand's first-response target (METRICS.md §4)."))
    median_frt_s = _seconds("Median first response time of the answered mentions (METRICS.md §4).")
    p90_frt_s = _seconds("p90 first response time of the answered mentions (METRICS.md §4).")
    km_median_s = _seconds("Median time to reply, silence included (Kaplan–Meier, METRICS.md §4); null when "
                           "not reached or the set is empty.")
    km_not_reached_over_s = _seconds("When the silence-counted median is not reached: the longest time "
                                     "observed ('not reached (over …)').")
    business_median_frt_s = _seconds("Median business-hours FRT (METRICS.md §4): the part of each wait inside "
                                     "the brand's business hours.")
    business_p90_frt_s = _seconds("p90 business-hours FRT.")
    business_answered_within_target = serializers.FloatField(allow_null=True, help_text=(
        "Share answered within the target counted in business hours."))


class PhasesSerializer(serializers.Serializer):
    before = PhaseSerializer(help_text="The 7 days before the outage.")
    during = PhaseSerializer(help_text="The outage window.")
    after = PhaseSerializer(help_text="The 7 days after it ended, or until now.")


class IncidentFiguresSerializer(serializers.Serializer):
    """Every METRICS.md §5 figure of the incident, and the §4/§6 aggregates over its window, as of ``as_of``."""

    as_of = serializers.DateTimeField(help_text="The moment these figures are true at (now).")
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(help_text="The end of the outage window; now while it goes on.")
    ongoing = serializers.BooleanField()
    elapsed_s = serializers.FloatField()
    acknowledged = serializers.BooleanField()
    tta_s = _seconds("Time to acknowledge (METRICS.md §5); null: not acknowledged yet.")
    acknowledged_via = serializers.CharField(help_text="What acknowledged it: 'X reply', 'SMS'…; '' when not yet.")
    first_update_s = _seconds("Time to first public update (METRICS.md §5); null: none yet.")
    first_update_via = serializers.CharField()
    longest_silence_s = serializers.FloatField(help_text="Longest silence between outage-related broadcasts.")
    since_last_update_s = _seconds("Since last update (ongoing incidents only, else null).")
    last_update_at = serializers.DateTimeField(allow_null=True)
    last_update_via = serializers.CharField()
    off_message_count = serializers.IntegerField(help_text="Promotional broadcasts inside the window.")
    mentions = serializers.IntegerField()
    answered = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    reply_rate = serializers.FloatField(allow_null=True)
    median_frt_s = _seconds("Median FRT over the window's answered mentions.")
    p90_frt_s = _seconds("p90 FRT over the window's answered mentions.")
    answered_within_target = serializers.FloatField(allow_null=True)
    first_response_target_s = serializers.FloatField(help_text="T of 'answered within T' for this brand.")
    business_median_frt_s = _seconds("Median business-hours FRT (METRICS.md §4): the part of each wait inside "
                                     "the brand's business hours.")
    business_p90_frt_s = _seconds("p90 business-hours FRT.")
    business_answered_within_target = serializers.FloatField(allow_null=True, help_text=(
        "Share answered within the target counted in business hours."))
    km_median_s = _seconds("Median time to reply, silence included; null when not reached or empty.")
    km_not_reached_over_s = _seconds("When not reached: the longest time observed.")
    complaints = serializers.IntegerField()
    net_sentiment = serializers.FloatField(allow_null=True, help_text="Customers' net sentiment (METRICS.md §6).")
    oldest_unanswered_wait_s = _seconds("How long the oldest unanswered mention of the window has waited.")
    phases = PhasesSerializer()


class IncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    title = serializers.CharField()
    severity = serializers.ChoiceField(choices=Incident.Severity.choices)
    status = serializers.ChoiceField(choices=Incident.Status.choices)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="null while the outage goes on.")
    ongoing = serializers.BooleanField(source="is_ongoing")
    affected_services = serializers.CharField()
    affected_regions = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    board_url = serializers.CharField(help_text="The live board's page.")
    overlapping_incidents = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="The brand's other incidents whose window overlaps this one: what falls in the overlap counts "
                  "in both.")
    figures = IncidentFiguresSerializer()


class TimelineEntrySerializer(serializers.Serializer):
    """A note, a status change or an off-platform communication recorded on the incident, in time order."""

    id = serializers.CharField(help_text="'event:<n>' or 'communication:<n>'.")
    kind = serializers.ChoiceField(choices=[("note", "note"), ("status", "status"),
                                            ("communication", "communication")])
    at = serializers.DateTimeField(help_text="When it really happened (or was sent).")
    text = serializers.CharField()
    status = serializers.CharField(help_text="The new status of a status change; '' otherwise.")
    author = serializers.CharField(help_text="Who recorded it; '' when unknown.")
    channel = serializers.CharField(help_text="A communication's channel; '' otherwise.")
    category = serializers.CharField(help_text="A communication's METRICS.md §6 category; '' otherwise.")


class CommunicationSerializer(serializers.Serializer):
    """An off-platform communication (METRICS.md §1): a broadcast of the brand marked with its channel."""

    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    incident = serializers.IntegerField(source="incident_id", allow_null=True)
    channel = serializers.ChoiceField(choices=OffPlatformCommunication.Channel.choices)
    sent_at = serializers.DateTimeField()
    text = serializers.CharField()
    url = serializers.CharField()
    category = serializers.ChoiceField(choices=OffPlatformCommunication.Category.choices)
    outage_related = serializers.BooleanField()
    recorded_by = serializers.CharField(help_text="Who recorded it; '' when unknown.")
    recorded_at = serializers.DateTimeField()


class UnansweredSerializer(serializers.Serializer):
    """An unanswered mention of the incident's window (METRICS.md §3), oldest first."""

    id = serializers.IntegerField()
    platform = serializers.CharField(source="post.platform")
    post_id = serializers.CharField(source="post.platform_id")
    url = serializers.CharField(source="post.url")
    author_handle = serializers.CharField(source="post.author_handle")
    text = serializers.CharField(source="post.text")
    created_at = serializers.DateTimeField()
    waiting_s = serializers.FloatField(help_text="How long the customer has waited so far.")
    complaint = serializers.BooleanField()


# --- Mentions and official posts ----------------------------------------------------------------------------

class MentionSerializer(serializers.Serializer):
    """A (post, brand) mention (METRICS.md §2) with its first response (§3) and tone (§6)."""

    id = serializers.IntegerField()
    brand = serializers.CharField(source="brand.slug")
    platform = serializers.CharField(source="post.platform")
    post_id = serializers.CharField(source="post.platform_id")
    url = serializers.CharField(source="post.url")
    author_id = serializers.CharField(source="post.author_id")
    author_handle = serializers.CharField(source="post.author_handle")
    created_at = serializers.DateTimeField()
    text = serializers.CharField(source="post.text")
    lang = serializers.CharField(source="post.lang")
    matched_by = serializers.ChoiceField(choices=Mention.MatchedBy.choices)
    sentiment_score = serializers.FloatField(source="post.sentiment_score", allow_null=True)
    sentiment_label = serializers.CharField(source="post.sentiment_label")
    complaint = serializers.BooleanField()
    answered = serializers.BooleanField()
    first_response_post_id = serializers.CharField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    frt_s = serializers.FloatField(source="frt_seconds", allow_null=True)
    incident = serializers.IntegerField(allow_null=True, help_text="The incident whose window holds it (the "
                                                                   "latest one that started, when they overlap).")


class OfficialPostSerializer(serializers.Serializer):
    """An official post of a brand (METRICS.md §1), described by its §6 category, never by sentiment."""

    id = serializers.IntegerField()
    brand = serializers.CharField(source="official_brand.slug")
    platform = serializers.CharField()
    post_id = serializers.CharField(source="platform_id")
    url = serializers.CharField()
    author_handle = serializers.CharField()
    created_at = serializers.DateTimeField()
    text = serializers.CharField()
    lang = serializers.CharField()
    official_kind = serializers.ChoiceField(choices=[("reply", "reply"), ("broadcast", "broadcast")])
    category = serializers.ChoiceField(choices=[("", "")] + list(Post.Category.choices))
    outage_related = serializers.BooleanField()
    off_message = serializers.BooleanField(help_text="A promotional broadcast inside an outage window (§5).")
    incident = serializers.IntegerField(allow_null=True)
    in_reply_to_id = serializers.CharField()
    conversation_id = serializers.CharField()


# --- Weekly figures and the league table --------------------------------------------------------------------

class BrandWeekSerializer(serializers.Serializer):
    """One brand's METRICS.md §4 and §6 figures over one ISO week, as of the week's end (or now, so far)."""

    brand = serializers.CharField(source="brand.slug")
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W10.")
    time_zone = serializers.CharField(source="zone", help_text="The zone the week is counted in.")
    week_start_local = serializers.CharField(help_text="Monday 00:00 in that zone, ISO 8601 with its offset.")
    week_end_local = serializers.CharField(help_text="The next Monday 00:00 there (the week is [start, end)).")
    as_of = serializers.DateTimeField(help_text="The moment the figures are true at: the week's end, or now.")
    so_far = serializers.BooleanField(help_text="True while the week is not over.")
    mentions = serializers.IntegerField()
    answered = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    reply_rate = serializers.FloatField(allow_null=True)
    answered_within_target = serializers.FloatField(allow_null=True)
    first_response_target_s = serializers.FloatField(source="target_s", help_text="T of 'answered within T'.")
    median_frt_s = _seconds("Median FRT of the week's answered mentions.")
    p90_frt_s = _seconds("p90 FRT of the week's answered mentions.")
    km_median_s = _seconds("Median time to reply, silence included; null when not reached or empty.")
    km_not_reached_over_s = _seconds("When not reached: the longest time observed.")
    business_median_frt_s = _seconds("Median business-hours FRT (METRICS.md §4): the part of each wait inside "
                                     "the brand's business hours.")
    business_p90_frt_s = _seconds("p90 business-hours FRT.")
    business_answered_within_target = serializers.FloatField(allow_null=True, help_text=(
        "Share answered within the target counted in business hours."))
    complaints = serializers.IntegerField()
    net_sentiment = serializers.FloatField(allow_null=True)
    incidents = serializers.ListField(child=serializers.IntegerField(),
                                      help_text="Ids of the incidents whose window overlaps the week.")


ChangesSerializer = type("ChangesSerializer", (serializers.Serializer,), {
    "__doc__": "This week's figure minus the week before's; null when either has no value.",
    **{name: serializers.FloatField(allow_null=True) for name in reports.COMPARABLE}})


class LeagueRowSerializer(serializers.Serializer):
    brand = serializers.CharField()
    name = serializers.CharField()
    week = BrandWeekSerializer()
    changes = ChangesSerializer()


class LeagueSerializer(serializers.Serializer):
    """The weekly page's league table: one row per brand, sorted."""

    week = serializers.CharField()
    time_zone = serializers.CharField()
    week_start_local = serializers.CharField()
    week_end_local = serializers.CharField()
    as_of = serializers.DateTimeField()
    so_far = serializers.BooleanField()
    sort = serializers.CharField()
    rows = LeagueRowSerializer(many=True)


class BrandWeeksSerializer(serializers.Serializer):
    results = BrandWeekSerializer(many=True)


class IndexSerializer(serializers.Serializer):
    """Where everything is."""

    version = serializers.CharField()
    schema = serializers.CharField()
    docs = serializers.CharField()
    routes = serializers.DictField(child=serializers.CharField())


IncidentPage = page_serializer(IncidentSerializer, "IncidentPage")
MentionPage = page_serializer(MentionSerializer, "MentionPage")
OfficialPostPage = page_serializer(OfficialPostSerializer, "OfficialPostPage")
UnansweredPage = page_serializer(UnansweredSerializer, "UnansweredPage")
