"""The messages a local Slack received, drawn as a Slack-like HTML page (for the README's screenshot).

The README shows what an alert looks like from a real payload, not a mock-up: docs/screenshots.py
records what nba-dq posted to tests/slack_server.py and this module draws it. Messages are grouped
into threads by thread_ts, chat.update replaces the message it names (marked "edited"), and Block
Kit's header, section, context, divider and actions blocks are drawn with the subset of mrkdwn nba-dq
writes: *bold*, _italic_, ~strike~, `code`, ```blocks```, <url|text> links and <@user> mentions.
Everything from a payload is HTML-escaped before any markup is added, so a hostile value stays text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

POST, UPDATE, WEBHOOK = "chat.postMessage", "chat.update", "webhook"
_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_ANGLE = re.compile(r"<([^<>\n]+)>")  # Slack's links and mentions; a literal < or > arrives as &lt; / &gt;
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![A-Za-z0-9_])_(?!\s)([^_\n]+?)(?<!\s)_(?![A-Za-z0-9_])")
# Slack folds a long message behind "Show more" in the channel: so does the page (its full text stays in it).
LONG_MESSAGE = 1000  # characters of the message's text
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")


@dataclass(frozen=True)
class Posted:
    """One request Slack received: the Web API method (or WEBHOOK), its JSON body, and for a post the
    ts Slack answered with."""

    method: str
    body: dict[str, Any]
    ts: str = ""


@dataclass
class Message:
    body: dict[str, Any]
    ts: str
    edited: bool = False
    replies: list[Message] = field(default_factory=list)


def threads(posts: Iterable[Posted]) -> list[Message]:
    """Top-level messages in the order posted, each with its thread's replies; updates applied in place.
    A reply or update naming a message that was never posted is shown as a message of its own rather
    than dropped."""
    top: list[Message] = []
    by_ts: dict[str, Message] = {}
    for post in posts:
        if post.method == UPDATE and post.body.get("ts") in by_ts:
            target = by_ts[post.body["ts"]]
            target.body = {**target.body, **{k: v for k, v in post.body.items() if k in ("text", "blocks")}}
            target.edited = True
            continue
        message = Message(post.body, post.ts)
        if post.ts:
            by_ts[post.ts] = message
        parent = by_ts.get(str(post.body.get("thread_ts", "")))
        if parent is not None and parent is not message:
            parent.replies.append(message)
        else:
            top.append(message)
    return top


def mrkdwn(text: str) -> str:
    """Slack mrkdwn (as nba-dq writes it) as HTML."""
    parts = []
    last = 0
    for match in _CODE_BLOCK.finditer(text):
        parts.append(_inline(text[last : match.start()].removesuffix("\n")))  # a block starts its own line
        parts.append(f"<pre>{_plain(match.group(1))}</pre>")
        last = match.end() + (text[match.end() : match.end() + 1] == "\n")
    parts.append(_inline(text[last:]))
    return "".join(parts)


def _inline(text: str) -> str:
    parts = []
    last = 0
    for match in _INLINE_CODE.finditer(text):
        parts.append(_links(text[last : match.start()]))
        parts.append(f"<code>{_plain(match.group(1))}</code>")
        last = match.end()
    parts.append(_links(text[last:]))
    return "".join(parts)


def _links(text: str) -> str:
    parts = []
    last = 0
    for match in _ANGLE.finditer(text):
        parts.append(_formatted(text[last : match.start()]))
        parts.append(_angle(match.group(1)))
        last = match.end()
    parts.append(_formatted(text[last:]))
    return "".join(parts)


def _angle(inner: str) -> str:
    """<url|text>, <url>, <@U123>, <!subteam^S123> or <!here>."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{_plain(label or target[1:])}</span>'
    if target.startswith("!"):
        name = label or target[1:].replace("subteam^", "")
        return f'<span class="mention">@{_plain(name)}</span>'
    return f'<a href="{_plain(target)}">{_formatted(label) if label else _plain(target)}</a>'


def _formatted(text: str) -> str:
    escaped = _plain(text)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    escaped = _ITALIC.sub(r"<i>\1</i>", escaped)
    escaped = _STRIKE.sub(r"<s>\1</s>", escaped)
    return escaped.replace("\n", "<br>")


def _plain(text: str) -> str:
    """Slack's own entities undone, then escaped for HTML: the text exactly as a reader sees it."""
    return html.escape(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), quote=True)


def _blocks(body: dict[str, Any]) -> str:
    blocks = body.get("blocks")
    if not blocks:
        return f'<div class="section">{mrkdwn(str(body.get("text", "")))}</div>'
    drawn = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            drawn.append(f'<div class="header">{_plain(block["text"]["text"])}</div>')
        elif kind == "section":
            texts = [block["text"]] if block.get("text") else []
            texts += block.get("fields", [])
            drawn += [f'<div class="section">{_text(text)}</div>' for text in texts]
        elif kind == "context":
            drawn.append(f'<div class="context">{" ".join(_text(e) for e in block.get("elements", []))}</div>')
        elif kind == "divider":
            drawn.append("<hr>")
        elif kind == "actions":
            buttons = [_button(element) for element in block.get("elements", []) if element.get("type") == "button"]
            drawn.append(f'<div class="actions">{"".join(buttons)}</div>')
    return "".join(drawn)


def _text(element: dict[str, Any]) -> str:
    if element.get("type") == "plain_text":
        return _plain(str(element.get("text", "")))
    return mrkdwn(str(element.get("text", "")))


def _button(element: dict[str, Any]) -> str:
    style = element.get("style", "")
    return f'<span class="button {_plain(style)}">{_plain(element["text"]["text"])}</span>'


def _clock(ts: str) -> str:
    try:
        return f"{datetime.fromtimestamp(float(ts), timezone.utc):%H:%M}"
    except ValueError:
        return ""


def _message(message: Message, reply: bool = False) -> str:
    edited = ' <span class="edited">(edited)</span>' if message.edited else ""
    time = f'<span class="time">{_clock(message.ts)}</span>'
    meta = f'<div class="meta"><b>nba-dq</b> <span class="app">APP</span> {time}{edited}</div>'
    long = len(str(message.body.get("text", ""))) > LONG_MESSAGE
    drawn = (
        f'<div class="long">{_blocks(message.body)}</div><a class="more">Show more</a>'
        if long
        else _blocks(message.body)
    )
    content = f'<div class="content">{meta}{drawn}</div>'
    body = f'<div class="message{" reply" if reply else ""}"><div class="avatar">dq</div>{content}</div>'
    if not message.replies:
        return body
    count = len(message.replies)
    replies = "".join(_message(child, reply=True) for child in message.replies)
    label = f'<div class="replies-label">{count} {"reply" if count == 1 else "replies"}</div>'
    return f'{body}<div class="thread">{label}{replies}</div>'


def render_page(posts: Sequence[Posted], title: str) -> str:
    """The whole page: each channel's messages (in the order first posted to), threads open beneath them.
    A webhook's message names no channel: it is shown under `title`."""
    channels: dict[str, list[Message]] = {}
    for message in threads(posts):
        channels.setdefault(str(message.body.get("channel") or title).lstrip("#"), []).append(message)
    drawn = "".join(
        f'<div class="channel"># {_plain(channel)}</div><div class="messages">{"".join(map(_message, messages))}</div>'
        for channel, messages in channels.items()
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{_plain(title)}</title><style>{_STYLE}</style></head>
<body>{drawn}</body></html>
"""


_STYLE = """
body { font-family: Lato, "Helvetica Neue", Arial, sans-serif; font-size: 15px; color: #1d1c1d; margin: 0;
  background: #fff; width: 860px; }
.channel { font-weight: 900; font-size: 18px; padding: 14px 20px; border-bottom: 1px solid #ddd; }
.messages { padding: 8px 0; }
.message { display: flex; padding: 8px 20px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff; font-weight: 700;
  display: flex; align-items: center; justify-content: center; margin-right: 10px; flex: none; font-size: 13px; }
.content { flex: 1; min-width: 0; }
.meta { margin-bottom: 2px; } .app { background: #e8e8e8; color: #616061; font-size: 10px; padding: 1px 3px;
  border-radius: 2px; font-weight: 700; } .time, .edited { color: #616061; font-size: 12px; }
.header { font-weight: 900; font-size: 17px; margin: 4px 0; }
.section { margin: 4px 0; line-height: 1.45; }
.context { color: #616061; font-size: 12.5px; margin: 4px 0; }
pre { background: #f8f8f8; border: 1px solid #ddd; border-radius: 4px; padding: 6px 8px; font-size: 12px;
  margin: 4px 0; white-space: pre; overflow: hidden; }
code { color: #e01e5a; background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 3px;
  font-size: 12px; }
a { color: #1264a3; text-decoration: none; } .mention { color: #1264a3; background: #e8f5fa; padding: 0 2px; }
.actions { margin: 6px 0; } .button { display: inline-block; border: 1px solid #bbb; border-radius: 4px;
  padding: 3px 12px; margin-right: 8px; font-weight: 700; font-size: 13px; }
.button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.button.danger { color: #e01e5a; border-color: #e01e5a; }
.thread { margin-left: 66px; border-left: 3px solid #e8e8e8; }
.replies-label { color: #1264a3; font-weight: 700; font-size: 13px; padding: 4px 12px; }
.message.reply { padding-left: 12px; }
.long { max-height: 260px; overflow: hidden; } .more { display: block; color: #1264a3; font-size: 13px; }
hr { border: none; border-top: 1px solid #ddd; }
"""
