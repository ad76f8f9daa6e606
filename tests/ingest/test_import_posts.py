"""manage.py import_posts: real files in, response times checked against an independent reading of METRICS.md."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from socialfeed.models import Mention, Post

TWCS = "twcs/twcs_random_sample_divya-gh.csv"
IBM = "ibm_twitter_customer_care_cdp/dev.json"
HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"


def _run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import_posts", *args, "--no-progress", stdout=out, stderr=err)
        return out.getvalue(), err.getvalue(), None
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc


def _handles(text):
    import re

    return {h.lower() for h in re.findall(r"(?<![\w@])@(\w+)", text)}


@pytest.mark.django_db
def test_it_imports_twcs_and_its_response_times_match_an_independent_reading(data_slices):
    out, _, error = _run("--format", "twcs", str(data_slices / TWCS))
    rows = {r["tweet_id"]: r for r in csv.DictReader(open(data_slices / TWCS, encoding="utf-8"))}
    assert error is None and f"stored {len(rows)}" in out
    brands = {r["author_id"] for r in rows.values() if r["inbound"] == "False"}
    parent = {tid: (r["in_response_to_tweet_id"] or "").removesuffix(".0") for tid, r in rows.items()}

    def root(tid):
        while parent[tid] in rows:
            tid = parent[tid]
        return parent[tid] or tid

    def when(tid):
        return datetime.strptime(rows[tid]["created_at"], "%a %b %d %H:%M:%S %z %Y")

    by_author_root, replies_by_brand = defaultdict(set), defaultdict(list)
    for t, q in rows.items():
        by_author_root[(q["author_id"], root(t))].add(t)
        if q["author_id"] in brands:
            replies_by_brand[q["author_id"]].append(t)
    expected = {}
    for tid, r in rows.items():
        for brand in brands - {r["author_id"]}:  # another brand's post can mention this one too (§2)
            mentioned = brand.lower() in _handles(r["text"]) or rows.get(parent[tid], {}).get("author_id") == brand
            if not mentioned:
                continue
            targets = {t for t in by_author_root[(r["author_id"], root(tid))] if when(t) >= when(tid)}
            answers = [when(t) for t in replies_by_brand[brand] if parent[t] in targets
                       and rows[parent[t]]["author_id"] != brand and when(t) >= when(tid)]
            expected[(tid, brand)] = (min(answers) - when(tid)).total_seconds() if answers else None
    stored = {(m.post.platform_id, m.brand.name): m.frt_seconds for m in Mention.objects.select_related("post", "brand")}
    assert stored == expected
    assert sum(v is not None for v in expected.values()) >= 1  # the sample holds a few answered pairs


@pytest.mark.django_db
def test_it_imports_ibm_conversations_and_times_each_agent_reply(data_slices):
    out, err, error = _run("--format", "ibm-cdp", str(data_slices / IBM))
    assert error is None, err
    dialogs = json.load(open(data_slices / IBM, encoding="utf-8"))
    seen = defaultdict(int)
    for d in dialogs:
        for t in d["dialogContent"]:
            seen[t["tweet_ID"]] += 1
    checked = 0
    for d in dialogs:
        turns = d["dialogContent"]
        if any(seen[t["tweet_ID"]] > 1 for t in turns):
            continue  # the same tweet quoted in two dialogs: its conversation is ambiguous, leave it out
        agent = next((t["agent"] for t in turns if t.get("agent")), d["dialogHeader"]["company"])
        first = turns[0]
        if agent is None or "client" not in first or agent.lower() not in _handles(first["message"]):
            continue
        # The dialog is a chain: the agent's closing reply answers the last turn; if the customer wrote every turn,
        # that reply is the first response to the first turn (METRICS.md §3, a burst answered once).
        if any("client" not in t for t in turns):
            continue
        reply_id = d["agentURL"]["tweet_ID"]
        reply_at = datetime.fromtimestamp(((int(reply_id) >> 22) + 1288834974657) / 1000, tz=UTC)
        start = datetime.fromisoformat(first["datetime"].replace("Z", "+00:00"))
        mention = Mention.objects.get(post__platform_id=first["tweet_ID"], brand__name=agent)
        assert mention.first_response.platform_id == reply_id
        assert mention.frt_seconds == pytest.approx((reply_at - start).total_seconds(), abs=1e-3)
        checked += 1
    assert checked >= 60  # of the slice's 120 dialogs, 67 are plain chains


@pytest.mark.django_db
def test_rerunning_the_same_file_stores_nothing_new(data_slices):
    _run("--format", "ibm-cdp", str(data_slices / IBM))
    posts, mentions = Post.objects.count(), Mention.objects.count()
    out, _, _ = _run("--format", "ibm-cdp", str(data_slices / IBM))
    assert "stored 0" in out
    assert (Post.objects.count(), Mention.objects.count()) == (posts, mentions)


@pytest.mark.django_db
def test_bad_rows_are_named_by_line_and_reason_while_good_rows_are_kept(tmp_path):
    path = tmp_path / "posts.csv"
    good = '1,BrandCare,False,Tue Oct 31 22:10:47 +0000 2017,"We are on it",,2\n'
    path.write_bytes((HEADER + good
                      + '2,111,True,yesterday,"@BrandCare down",1,\n'          # bad date
                      + 'x3,111,True,Tue Oct 31 22:00:00 +0000 2017,"hi",,\n'   # bad id
                      + '4,111,True,Tue Oct 31 22:00:00 +0000 2017,"short row"\n'  # wrong column count
                      ).encode() + b'5,111,True,Tue Oct 31 22:00:00 +0000 2017,"caf\xe9",,\n'  # broken UTF-8
                     + b'6,111,True,Tue Oct 31 22:01:00 +0000 2017,"' + b"a" * 10_000_000 + b'",,\n'  # 10 MB line
                     + b'7,111,True,Tue Oct 31 22:05:00 +0000 2017,"@BrandCare still down",,\n')
    out, err, error = _run("--format", "twcs", str(path))
    assert error is not None and "5 row(s) were rejected" in str(error)
    assert "line 3: created_at 'yesterday' is not a date" in err
    assert "line 4: tweet_id 'x3' is not a tweet id" in err
    assert "line 5: expected 7 columns, found 5" in err
    assert "line 6: not valid UTF-8" in err
    assert "line 7: line is longer than" in err
    assert sorted(Post.objects.values_list("platform_id", flat=True)) == ["1", "7"]
    _run("--format", "twcs", str(path))
    assert Post.objects.count() == 2


@pytest.mark.django_db
def test_it_rejects_tweet_ids_written_with_other_than_ascii_digits(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(HEADER
                    + '1,BrandCare,False,Tue Oct 31 22:10:47 +0000 2017,"We are on it",,\n'
                    + '١٢٣,111,True,Tue Oct 31 22:00:00 +0000 2017,"@BrandCare down",,\n'    # Arabic-Indic digits
                    + '²,111,True,Tue Oct 31 22:00:00 +0000 2017,"@BrandCare down",,\n'      # superscript two
                    + '4,111,True,Tue Oct 31 22:00:00 +0000 2017,"@BrandCare down",,１\n', encoding="utf-8")
    out, err, error = _run("--format", "twcs", str(path))
    assert error is not None and "3 row(s) were rejected" in str(error)
    assert "line 3: tweet_id '١٢٣' is not a tweet id" in err
    assert "line 4: tweet_id '²' is not a tweet id" in err
    assert "line 5: in_response_to_tweet_id '１' is not a tweet id" in err
    assert list(Post.objects.values_list("platform_id", flat=True)) == ["1"]
    pages = tmp_path / "pages.jsonl"
    pages.write_text(json.dumps({"data": [{"id": "٣", "text": "hi"}, {"id": "3", "text": "hi"}]}) + "\n",
                     encoding="utf-8")
    _, err, error = _run("--format", "x-jsonl", str(pages))
    assert "line 1: tweet id '٣' is not an id" in err and Post.objects.filter(platform_id="3").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "line 1: not valid UTF-8"),
    (b"id,user,date\n1,2,3\n", "line 1: missing column(s) tweet_id, author_id, inbound, created_at"),
])
def test_a_file_that_is_not_a_twcs_csv_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    _, _, error = _run("--format", "twcs", str(path))
    assert error is not None and message in str(error)
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_x_jsonl_pages_are_read_with_their_author_expansion(tmp_path, data_slices):
    recorded = json.load(open(data_slices / "tweepy_cassettes/decoded_v2_client/test_client_search_recent_tweets.json"))
    page = recorded[0]["body"]
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps(page) + "\n{not json\n", encoding="utf-8")
    out, err, error = _run("--format", "x-jsonl", str(path))
    assert "line 2: not valid JSON" in err and error is not None
    assert Post.objects.count() == len(page["data"])
    users = {u["id"]: u["username"] for u in page.get("includes", {}).get("users", [])}
    if users:
        stored = Post.objects.get(platform_id=page["data"][0]["id"])
        assert stored.author_handle == users[page["data"][0]["author_id"]]
