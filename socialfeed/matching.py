"""Which brands a post concerns: official authorship (METRICS.md §1) and mentions (METRICS.md §2).

A ``BrandDirectory`` is built once per ingest batch from the brands' official accounts and tracking terms, so
matching a post costs a few dictionary look-ups and one regular expression per brand with terms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from incidents.models import OfficialAccount, TrackingTerm

# An @handle: X (letters, digits, _), Bluesky (dotted domain handles) and Mastodon (user or user@instance).
_HANDLE_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.\-]+[A-Za-z0-9])?)")


def handles_in(text: str) -> set[str]:
    """Lower-cased handles written as @handle in ``text`` (whole handles only: "@ondine" is not in "@ondinex")."""
    found = set()
    for match in _HANDLE_RE.finditer(text or ""):
        handle = match.group(1).lower()
        found.add(handle)
        if "@" in handle:  # "@user@instance" also names the local account "user"
            found.add(handle.split("@", 1)[0])
    return found


@dataclass
class _BrandTerms:
    brand_id: int
    pattern: re.Pattern


@dataclass
class BrandDirectory:
    """Official accounts and tracking terms of every brand, indexed for matching."""

    # (platform, lower handle) -> (account id, brand id); (platform, user id) -> (account id, brand id)
    by_handle: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    by_user_id: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    terms: list[_BrandTerms] = field(default_factory=list)
    # brand id -> set of (platform, user id) of its accounts, for "is this author one of B's accounts?"
    account_user_ids: dict[int, set[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> BrandDirectory:
        directory = cls()
        for account in OfficialAccount.objects.all().only("id", "brand_id", "platform", "handle", "platform_user_id"):
            key = (account.id, account.brand_id)
            handle = account.handle.lower().lstrip("@")
            directory.by_handle[(account.platform, handle)] = key
            if "@" in handle:
                directory.by_handle.setdefault((account.platform, handle.split("@", 1)[0]), key)
            if account.platform_user_id:
                directory.by_user_id[(account.platform, account.platform_user_id)] = key
                directory.account_user_ids.setdefault(account.brand_id, set()).add(
                    (account.platform, account.platform_user_id)
                )
        grouped: dict[int, list[TrackingTerm]] = {}
        for term in TrackingTerm.objects.all().only("brand_id", "term", "kind"):
            grouped.setdefault(term.brand_id, []).append(term)
        for brand_id, terms in grouped.items():
            directory.terms.append(_BrandTerms(brand_id, _terms_pattern(terms)))
        return directory

    def official_account_of(self, *, platform: str, author_id: str, author_handle: str) -> tuple[int, int] | None:
        """(account id, brand id) when the author is one of a brand's official accounts (METRICS.md §1)."""
        if author_id and (platform, author_id) in self.by_user_id:
            return self.by_user_id[(platform, author_id)]
        if author_handle:
            return self.by_handle.get((platform, author_handle.lower().lstrip("@")))
        return None

    def is_brand_user(self, *, brand_id: int, platform: str, user_id: str) -> bool:
        return bool(user_id) and (platform, user_id) in self.account_user_ids.get(brand_id, set())

    def brands_by_handle(self, *, platform: str, text: str) -> set[int]:
        """METRICS.md §2 (a): brands whose official @handle on this platform appears in the text."""
        return {self.by_handle[(platform, h)][1] for h in handles_in(text) if (platform, h) in self.by_handle}

    def brands_by_listed(self, *, platform: str, handles: tuple[str, ...] | list[str],
                         ids: tuple[str, ...] | list[str]) -> set[int]:
        """METRICS.md §2 (a) from the accounts the platform itself lists as mentioned (Mastodon's ``mentions``,
        Bluesky's mention facets, X's entities): by user id first, then by the full handle as listed. A Mastodon
        ``acct`` without a domain is an account of the instance Hotline reads, so it matches that instance's
        official account; ``user@other.instance`` matches only an official account of that very instance."""
        found = {self.by_user_id[(platform, i)][1] for i in ids if (platform, i) in self.by_user_id}
        for handle in handles:
            key = (platform, handle.lower().lstrip("@"))
            if key in self.by_handle:
                found.add(self.by_handle[key][1])
        return found

    def brands_by_term(self, *, text: str) -> set[int]:
        """METRICS.md §2 (c): brands one of whose tracking terms appears as a whole word (case-insensitive)."""
        if not text:
            return set()
        return {t.brand_id for t in self.terms if t.pattern.search(text)}


def _terms_pattern(terms: list[TrackingTerm]) -> re.Pattern:
    alternatives = []
    for term in terms:
        word = re.escape(term.term.strip().lstrip("#$"))
        if term.kind == TrackingTerm.Kind.HASHTAG:
            alternatives.append(rf"(?<![\w#])#{word}(?![\w])")
        elif term.kind == TrackingTerm.Kind.CASHTAG:
            alternatives.append(rf"(?<![\w$])\${word}(?![\w])")
        else:
            # A keyword is a whole word, also inside a hashtag (#Ondine), but not inside a handle (@ondine_fr).
            alternatives.append(rf"(?<![\w@]){word}(?![\w])")
    return re.compile("|".join(alternatives), re.IGNORECASE)
