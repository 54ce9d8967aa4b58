"""The README's pictures: both exist and are shown, and the page they are taken of draws what Slack
received (docs/img/alert-thread.json, recorded by `make screenshots` from real runs) as Slack would."""

from __future__ import annotations

import html
import json
import re

from docs.slack_page import POST, UPDATE, Posted, mrkdwn, render_page, threads
from warehouse.settings import PROJECT_ROOT

IMAGES = ("docs/img/alert-thread.png", "docs/img/landing.png")
RECORDING = PROJECT_ROOT / "docs/img/alert-thread.json"


def test_the_readme_shows_both_pictures_and_they_are_small_pngs() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    for image in IMAGES:
        assert f"]({image})" in readme, image
        data = (PROJECT_ROOT / image).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 400_000, (image, len(data))


def test_a_recorded_payloads_text_is_drawn_with_its_formatting() -> None:
    posts = [Posted(**post) for post in json.loads(RECORDING.read_text())]
    assert any(post.method == POST for post in posts)
    page = render_page(posts, "nba-dq-alerts")
    replaced = {post.body.get("ts") for post in posts if post.method == UPDATE}
    assert replaced, "the recording resolves an incident: its opening message is updated"
    for post in posts:
        if post.method == POST and post.ts in replaced:  # Slack shows what chat.update made of it
            continue
        blocks = post.body.get("blocks", [])
        for block in blocks:
            if block["type"] == "header":
                assert html.escape(block["text"]["text"]) in page
            if block["type"] != "section":
                continue
            text = block["text"]["text"]
            for code in re.findall(r"```\n?(.*?)\n?```", text, re.S):  # tables: preformatted, as typed
                assert f"<pre>{html.escape(code)}</pre>" in page
            prose = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.S)
            for bold in re.findall(r"(?<![\w*])\*([^*\n]+?)\*(?![\w*])", prose):
                assert f"<b>{html.escape(bold)}</b>" in page
            for url in re.findall(r"<(https?://[^>|]+)", prose):
                assert f'href="{html.escape(url)}"' in page
    outside_code = re.sub(r"<pre>.*?</pre>|<code>.*?</code>|<style>.*?</style>", "", page, flags=re.S)
    assert "```" not in page and "*" not in outside_code  # no markup left undrawn


def test_replies_thread_under_their_message_and_an_update_replaces_it() -> None:
    opened = {"channel": "#alerts", "text": "*player_coverage* failed", "blocks": []}
    posts = [
        Posted(POST, opened, ts="1.000001"),
        Posted(POST, {"channel": "#alerts", "text": "other incident"}, ts="1.000002"),
        Posted(POST, {"channel": "C1", "thread_ts": "1.000001", "text": "now 160 missing, was 78"}, ts="1.000003"),
        Posted(POST, {"channel": "C1", "thread_ts": "1.000001", "text": "_resolved_"}, ts="1.000004"),
        Posted(UPDATE, {"channel": "C1", "ts": "1.000001", "text": "~player_coverage~ resolved"}),
    ]
    first, second = threads(posts)
    assert [reply.body["text"] for reply in first.replies] == ["now 160 missing, was 78", "_resolved_"]
    assert first.edited and first.body["text"] == "~player_coverage~ resolved" and not second.replies
    page = render_page(posts, "alerts")
    assert "<s>player_coverage</s> resolved" in page and "(edited)" in page and "2 replies" in page
    assert page.index("now 160 missing") < page.index("other incident")  # the thread sits under its message


def test_mrkdwn_subset_and_hostile_text() -> None:
    text = "*bold* _it_ `a_b*c` <https://x.test/p?a=1&amp;b=2|the page> <@U42> &lt;script&gt;alert(1)&lt;/script&gt;"
    drawn = mrkdwn(text + "\n```\nplayer  &lt;b&gt;\n```\nafter")
    assert "<b>bold</b> <i>it</i> <code>a_b*c</code>" in drawn
    assert (
        '<a href="https://x.test/p?a=1&amp;b=2">the page</a>' in drawn and '<span class="mention">@U42</span>' in drawn
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in drawn and "<script>" not in drawn
    assert drawn.endswith("<pre>player  &lt;b&gt;</pre>after")
    assert mrkdwn("player_coverage and snake_case_names") == "player_coverage and snake_case_names"
