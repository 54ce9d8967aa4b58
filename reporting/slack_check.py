"""What `nba-dq doctor` says about Slack: where alerts go and, with a bot token, that the token is valid
and the bot can post to every configured channel, all checked without posting anything.

auth.test alone said "valid" for a bot that was not in its channel, whose every post then came back
`not_in_channel`. Each channel is looked up (conversations.info for an ID, conversations.list for a
name): it must exist, not be archived, and have the bot as a member (or be public with the token's
`chat:write.public` scope).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reporting.slack import BOT_TOKEN, NO_DESTINATION, WEBHOOK, routing_from_env, web_client
from warehouse.errors import CouldNotRun
from warehouse.settings import AlertSettings

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,}")  # a conversation ID rather than a #name
POST_TO_PUBLIC_SCOPE = "chat:write.public"


def check_destination(env: Mapping[str, str], settings: AlertSettings) -> str:
    """The doctor line's detail; CouldNotRun when alerts would go nowhere, the token is refused or a
    channel cannot be posted to. Webhooks cannot be tested without posting: they are only reported."""
    routing = routing_from_env(env, settings)
    if routing is None:
        raise CouldNotRun(NO_DESTINATION)
    routes = f"critical -> {routing.critical.describe()}, warning -> {routing.warning.describe()}"
    if routing.critical.kind == WEBHOOK:
        return f"{routes} (a webhook cannot be tested without posting)"
    web = web_client(env, settings, max(1, int(settings.connect_timeout_seconds)))
    try:
        identity = web.auth_test()
    except Exception as error:
        raise CouldNotRun(f"{BOT_TOKEN} refused by auth.test: {_reason(error)}") from error
    bot = f"team {identity.get('team')}, user {identity.get('user')}"
    scopes = _scopes(identity.headers)
    channels = list(dict.fromkeys([settings.channel_error, settings.channel_warning, settings.channel]))
    problems = [problem for channel in channels if (problem := _cannot_post(web, channel, scopes))]
    if problems:
        raise CouldNotRun(f"bot token valid ({bot}) but " + "; ".join(problems))
    return f"{routes}; bot token valid ({bot}); can post to {', '.join(channels)}"


def _cannot_post(web: Any, channel: str, scopes: set[str]) -> str | None:
    """Why the bot cannot post to `channel`, or None when it can."""
    try:
        found = _find_channel(web, channel)
    except Exception as error:
        return f"{channel} cannot be looked up ({_reason(error)}; the token needs channels:read and groups:read)"
    if found is None:
        return f"{channel} does not exist or the bot cannot see it"
    if found.get("is_archived"):
        return f"{channel} is archived"
    if found.get("is_member") or (not found.get("is_private") and POST_TO_PUBLIC_SCOPE in scopes):
        return None
    return f"the bot is not a member of {channel} (invite it, or grant {POST_TO_PUBLIC_SCOPE} for a public channel)"


def _find_channel(web: Any, channel: str) -> Mapping[str, Any] | None:
    name = channel.removeprefix("#")
    if CHANNEL_ID.fullmatch(name):
        return dict(web.conversations_info(channel=name)["channel"])
    cursor = None
    while True:
        page = web.conversations_list(types="public_channel,private_channel", limit=1000, cursor=cursor)
        for found in page.get("channels") or []:
            if found.get("name") == name:
                return dict(found)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def _scopes(headers: Mapping[str, Any] | None) -> set[str]:
    for key, value in (headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else str(value)
            return {scope.strip() for scope in text.split(",") if scope.strip()}
    return set()


def _reason(error: Exception) -> str:
    """Slack's error code (SlackApiError carries it), else the exception's type (the network)."""
    response = getattr(error, "response", None)
    return str(response.get("error")) if response is not None and response.get("error") else type(error).__name__
