"""One small client per platform, all handing back NormalisedPost (socialfeed.normalised).

``client_for(source)`` builds the right client from settings; ``fetch_source(source=...)`` runs one fetch
with the source's kind, query, official account and cursor. Credentials come from Django settings only.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from socialfeed.clients.base import (
    FetchResult,
    NotConfigured,
    PlatformClient,
    SourceError,
    configuration_status,
    missing_settings,
)

if TYPE_CHECKING:
    from socialfeed.models import Source

__all__ = ["FetchResult", "NotConfigured", "SourceError", "client_for", "configuration_status",
           "fetch_source", "missing_settings", "source_query"]


def client_for(source: Source) -> PlatformClient:
    """The client for ``source.platform``; raises NotConfigured (with what it needs) before any network call."""
    if source.kind == "replay":  # the demo scenario, played back in real time: needs no credentials
        from socialfeed.clients.replay import ReplayClient

        return ReplayClient()
    return client_for_platform(source.platform)


def client_for_platform(platform: str) -> PlatformClient:
    missing = missing_settings(platform)
    if missing:
        raise NotConfigured(platform, missing)
    if platform == "x":
        from socialfeed.clients.x import XClient

        return XClient.from_settings()
    if platform == "mastodon":
        from socialfeed.clients.mastodon import MastodonClient

        return MastodonClient.from_settings()
    if platform == "bluesky":
        from socialfeed.clients.bluesky import BlueskyClient

        return BlueskyClient.from_settings()
    if platform == "reddit":
        from socialfeed.clients.reddit import RedditClient

        return RedditClient.from_settings()
    from socialfeed.clients.statusfeed import StatusFeedClient

    return StatusFeedClient.from_settings()


def source_query(source: Source) -> str:
    """The source's own query, or for an X search with none, one built from the brand's handles and terms."""
    if source.query or source.kind != "search" or source.platform != "x":
        return source.query
    from socialfeed.clients.x import search_query

    handles = source.brand.official_accounts.filter(platform="x").values_list("handle", flat=True)
    terms = []
    for term in source.brand.tracking_terms.all():
        prefix = {"hashtag": "#", "cashtag": "$"}.get(term.kind, "")
        terms.append(term.term if term.term.startswith(prefix) else f"{prefix}{term.term}")
    return search_query(handles=list(handles), terms=terms)


def fetch_source(*, source: Source, client: PlatformClient | None = None, since_id: str | None = None,
                 until: str = "", page_budget: int | None = None, deadline: float | None = None,
                 not_before: datetime | None = None) -> FetchResult:
    """One fetch for ``source`` from its cursor (or ``since_id``), down to ``until`` when resuming a gap.

    Raises SourceError or NotConfigured; stores nothing.
    """
    client = client or client_for(source)
    account = source.official_account
    return client.fetch(
        kind=source.kind,
        query=source_query(source),
        account_handle=account.handle if account else "",
        account_user_id=account.platform_user_id if account else "",
        since_id=source.cursor if since_id is None else since_id,
        until=until, page_budget=page_budget, deadline=deadline, not_before=not_before,
    )
