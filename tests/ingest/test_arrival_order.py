"""METRICS.md §3 kept incrementally must equal a full recomputation, whatever order posts arrive in."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.models import Brand, OfficialAccount, TrackingTerm
from socialfeed.models import Mention, Post
from socialfeed.normalised import NormalisedPost
from socialfeed.services import posts_ingest, responses_recompute

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BRAND_ID = "900"
CUSTOMERS = ["c1", "c2", "c3"]


@st.composite
def threads(draw):
    """A small forest of conversations between customers and the brand, with times in any order."""
    n = draw(st.integers(min_value=1, max_value=14))
    posts = []
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=i - 1))) if i else None
        author = draw(st.sampled_from(CUSTOMERS + [BRAND_ID, BRAND_ID]))
        minute = draw(st.integers(min_value=0, max_value=40))
        tag = draw(st.sampled_from(["@OndineMobile ", "", "#ondine "]))
        posts.append((i, parent, author, minute, tag))
    order = draw(st.permutations(range(n)))
    cuts = draw(st.lists(st.integers(min_value=1, max_value=max(n - 1, 1)), max_size=3))
    return posts, order, sorted(set(cuts))


def _normalised(spec):
    by_id = {p[0]: p for p in spec}
    out = []
    for i, parent, author, minute, tag in spec:
        out.append(NormalisedPost(
            platform="x", platform_id=f"p{i}", author_id=author, author_handle="OndineMobile" if author == BRAND_ID else author,
            created_at=T0 + timedelta(minutes=minute), text=f"{tag}message {i}",
            in_reply_to_id=f"p{parent}" if parent is not None else "",
            in_reply_to_author_id=by_id[parent][2] if parent is not None else "",
        ))
    return out


def expected_first_responses(spec):
    """A straightforward reading of METRICS.md §1–3 over the full set of posts."""
    by_id = {p[0]: p for p in spec}

    def root(i):
        while by_id[i][1] is not None:
            i = by_id[i][1]
        return i

    def time(i):
        return by_id[i][3]

    def is_official(i):
        return by_id[i][2] == BRAND_ID

    def is_reply(i):  # official post replying to a post that is not the brand's own
        return is_official(i) and by_id[i][1] is not None and not is_official(by_id[i][1])

    expected = {}
    for i, parent, author, minute, tag in spec:
        if is_official(i):
            continue
        mentioned = bool(tag) or (parent is not None and is_official(parent))
        if not mentioned:
            continue
        targets = {j for j in by_id if by_id[j][2] == author and root(j) == root(i) and time(j) >= minute}
        responses = [(time(k), f"p{k}") for k in by_id
                     if is_reply(k) and by_id[k][1] in targets and time(k) >= minute]
        if responses:
            first = min(responses)
            expected[f"p{i}"] = (True, (first[0] - minute) * 60.0, first[1])
        else:
            expected[f"p{i}"] = (False, None, None)
    return expected


def _stored():
    return {
        m.post.platform_id: (m.answered, m.frt_seconds, m.first_response.platform_id if m.first_response else None)
        for m in Mention.objects.select_related("post", "first_response")
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=threads())
def test_first_responses_do_not_depend_on_arrival_order(django_db_blocker, case):
    spec, order, cuts = case
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            brand = Brand.objects.create(name="Ondine Mobile", slug="ondine")
            OfficialAccount.objects.create(brand=brand, platform="x", handle="OndineMobile", platform_user_id=BRAND_ID)
            TrackingTerm.objects.create(brand=brand, term="ondine", kind="hashtag")
            posts = _normalised(spec)
            shuffled = [posts[i] for i in order]
            bounds = [0, *cuts, len(shuffled)]
            for start, end in zip(bounds, bounds[1:], strict=False):
                posts_ingest(posts=shuffled[start:end])
            incremental = _stored()
            assert incremental == expected_first_responses(spec)
            assert responses_recompute() == 0  # a full recomputation changes nothing
            transaction.set_rollback(True)


def test_recompute_responses_restores_tampered_figures(db):
    brand = Brand.objects.create(name="Ondine Mobile", slug="ondine")
    OfficialAccount.objects.create(brand=brand, platform="x", handle="OndineMobile", platform_user_id=BRAND_ID)
    posts_ingest(posts=_normalised([(0, None, "c1", 0, "@OndineMobile "), (1, 0, BRAND_ID, 9, "")]))
    Mention.objects.update(answered=False, frt_seconds=None, first_response=None, first_response_at=None)
    assert responses_recompute() == 1
    assert Mention.objects.get().frt_seconds == 540
    assert Post.objects.get(platform_id="p1").official_kind == "reply"
