"""manage.py import_posts with bad rows: every valid row is stored, and the command exits non-zero naming each
bad line with its reason (a row the file format cannot hold, and a post Hotline cannot store)."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from socialfeed.models import Post, RejectedPost

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"


def _row(tweet_id, author, created="Tue Oct 31 22:10:47 +0000 2017", text="@OndineSupport no data", inbound="True",
         parent=""):
    return f'{tweet_id},{author},{inbound},{created},"{text}",,{parent}\n'


@pytest.mark.django_db
def test_it_stores_every_valid_row_and_names_each_bad_line(tmp_path):
    path = tmp_path / "twcs_with_bad_rows.csv"
    path.write_text(
        HEADER
        + _row(1, "c1")                                                     # line 2
        + _row(2, "c2", text="@OndineSupport panne\x00 totale")            # line 3: NUL, cleaned and stored
        + _row(3, "c3", created="Fri Dec 31 23:59:59 +0000 9999")          # line 4: a date Hotline cannot store
        + _row("x4", "c4")                                                  # line 5: not a tweet id
        + _row(5, "c" * 300)                                                # line 6: author id cut, full in raw
        + _row(6, "OndineSupport", inbound="False", text="@c1 on it", parent="1")  # line 7
        + _row(7, "c7", created="Mon Feb 30 10:00:00 +0000 2017"),          # line 8: no such day
        encoding="utf-8")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_posts", "--format", "twcs", str(path), "--no-progress", stdout=out, stderr=err)

    assert "3 row(s) were rejected" in str(caught.value)
    messages = err.getvalue()
    assert f"{path}: line 4: post 3: created_at" in messages and "outside the dates Hotline stores" in messages
    assert f"{path}: line 5: tweet_id 'x4' is not a tweet id" in messages
    assert f"{path}: line 8: created_at" in messages
    assert "read 7, stored 4" in out.getvalue() and "rejected 3" in out.getvalue()
    assert sorted(Post.objects.values_list("platform_id", flat=True), key=int) == ["1", "2", "5", "6"]
    assert Post.objects.get(platform_id="2").text == "@OndineSupport panne totale"
    assert Post.objects.get(platform_id="5").raw["hotline_full"]["author_id"] == "c" * 300
    # The admin lists each of them with its line and reason.
    assert sorted(RejectedPost.objects.values_list("line", flat=True)) == [4, 5, 8]

    # Rerunning the same file stores nothing new and reports the same lines.
    again_err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_posts", "--format", "twcs", str(path), "--no-progress", stdout=StringIO(),
                     stderr=again_err)
    assert Post.objects.count() == 4
    assert re.findall(r": line (\d+):", again_err.getvalue()) == ["5", "8", "4"]
