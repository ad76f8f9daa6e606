"""A brand's figures week by week, with a chart and download buttons that keep the page's range."""
from __future__ import annotations

import re

from django.urls import reverse

from incidents.models import Team

from .conftest import at


def test_it_shows_each_week_of_the_range_with_a_chart(client, make_brand, make_user, conversation):
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile", user_id="900")
    user = make_user(username="ana", role="analyst", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(brand)
    conversation(handle="ondine_mobile", user_id="900", when=at("2026-11-03 09:00:00"), reply_after_s=300, pid=1)
    client.force_login(user)
    html = client.get(reverse("reports:brand", args=["ondine-mobile"]),
                      {"from": "2026-W44", "to": "2026-W46"}).content.decode()
    weeks = re.findall(r'<tr data-week="([^"]+)">', html)
    assert weeks == ["2026-W44", "2026-W45", "2026-W46"]
    w45 = re.search(r'<tr data-week="2026-W45">(.*?)</tr>', html, re.S).group(1)
    assert 'data-figure="reply_rate">100.0 %<' in w45 and 'data-figure="median_frt_s">5 min 00 s<' in w45
    w44 = re.search(r'<tr data-week="2026-W44">(.*?)</tr>', html, re.S).group(1)
    assert 'data-figure="reply_rate">—<' in w44
    assert '<svg class="week-chart"' in html
    # The download form keeps the brand and the page's range (Monday 00:00 to Monday 00:00, brand time).
    assert 'name="brand" value="ondine-mobile"' in html
    assert 'value="2026-10-26T00:00:00+01:00"' in html and 'value="2026-11-16T00:00:00+01:00"' in html
    assert "style=" not in html


def test_it_hides_the_download_buttons_from_a_manager(client, make_brand, make_user):
    brand = make_brand(name="Ondine Mobile", handle="ondine_mobile")
    user = make_user(username="maud", role="manager", teams=["Telecom"])
    Team.objects.get(name="Telecom").brands.add(brand)
    client.force_login(user)
    html = client.get(reverse("reports:brand", args=["ondine-mobile"])).content.decode()
    assert "Download" not in html
    assert client.get(reverse("reports:export", args=["mentions"])).status_code == 403
