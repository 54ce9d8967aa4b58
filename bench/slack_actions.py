"""What a Slack click costs on `nba-dq serve` (POST /slack/actions), against Slack's 3 s: the answer's
wall and CPU time (signature check, the control stored by compare-and-set, the message updated through a
local response_url server), on local files and on a fake GCS server (127.0.0.1: round trips to a local
process, not to Google); the state-store calls per click; and the answer when the response_url hangs
(the update's timeout bounds it).

Prints medians of wall and CPU time (this process). Run: `make bench` or `python -m bench.slack_actions
[--repeats N]`. Skips the GCS lines, saying why, when the fake server cannot run here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import on_fake_gcs, private_workspace
from reporting.incident_controls import ACKNOWLEDGE
from runners.events import PushContext
from runners.service import create_app
from runners.slack_actions import ACTIONS_PATH
from state.store import StateStore
from tests.pubsub_push import CLOCK
from tests.slack_clicks import BUTTONS, MESSAGE, SIGNING, click, signed
from tests.slack_server import HANGS, SlackServer, slack_server
from warehouse.settings import PROJECT_ROOT, load_settings


class Counted:
    """A store that counts the calls made on it (what a click costs in GCS operations)."""

    def __init__(self, store: StateStore) -> None:
        self.store, self.calls = store, Counter[str]()
        self.location = store.location

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self.store, name)


def numbered_click(slack: SlackServer, number: int) -> tuple[bytes, dict[str, str]]:
    """A click on a new incident each time (every click writes), as the tests sign it."""
    incident = f"phase5|check_{number}"
    buttons = {**BUTTONS, "elements": [{**button, "value": incident} for button in BUTTONS["elements"]]}
    message = {**MESSAGE, "blocks": [*MESSAGE["blocks"][:-1], buttons]}
    body = click(slack, ACKNOWLEDGE, incident, slack.url(f"/actions/T0/{number}/x"), message=message)
    return body, signed(body)


@contextmanager
def app_on(store: StateStore | None, slack: SlackServer) -> Iterator[tuple[Any, StateStore]]:
    with private_workspace() as workspace:
        config = workspace.root / "bench.toml"
        text = (PROJECT_ROOT / "dq.toml").read_text()
        config.write_text(text.replace('"https://hooks.slack.com/"', f'"{slack.url("/actions/")}"'))
        env = {"NBA_DQ_CONFIG": str(config), "NBA_DQ_GX_ROOT": str(workspace.root / "gx"),
               "NBA_DQ_PUSH_AUTH": "off", **SIGNING}  # fmt: skip
        settings = load_settings(env)
        context = PushContext.open(settings, lambda: CLOCK)
        if store is not None:
            context = PushContext(store, context.owner, context.clock)
        yield create_app(settings, env, context=context).test_client(), context.store


def median_ms(action: Callable[[int], int], repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for number in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        status = action(number)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert status == 200, status
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def measure(label: str, store: StateStore | None, repeats: int) -> None:
    with slack_server() as slack, app_on(store, slack) as (client, opened):
        requests = [numbered_click(slack, number) for number in range(repeats)]

        def post(number: int) -> int:
            body, headers = requests[number]
            return client.post(ACTIONS_PATH, data=body, headers=headers).status_code

        wall, cpu = median_ms(post, repeats)
        print(f"slack action {label:5} click answered (stored + message updated)  {wall:7.2f} ms wall {cpu:6.2f} ms CPU"
              f" (median of {repeats})")  # fmt: skip
        wall, cpu = median_ms(post, repeats)  # the same requests again: nothing to write
        print(f"slack action {label:5} the same click again (no write)           {wall:7.2f} ms wall {cpu:6.2f} ms CPU")
        counted = Counted(opened)
        with app_on(counted, slack) as (counting, _):
            body, headers = numbered_click(slack, repeats)
            counting.post(ACTIONS_PATH, data=body, headers=headers)
        calls = ", ".join(f"{count} {name}" for name, count in sorted(counted.calls.items()) if name != "location")
        print(f"slack action {label:5} state-store calls per click: {calls}")
        slack.default = HANGS
        started = time.perf_counter()
        body, headers = numbered_click(slack, repeats + 1)
        assert client.post(ACTIONS_PATH, data=body, headers=headers).status_code == 200
        hung = (time.perf_counter() - started) * 1000
        print(f"slack action {label:5} response_url hangs: answered after       {hung:7.2f} ms wall (Slack: 3000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    repeats = parser.parse_args().repeats
    measure("local", None, repeats)
    on_fake_gcs("slack action", lambda store: measure("gcs", store, repeats))


if __name__ == "__main__":
    main()
