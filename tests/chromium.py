"""Debian's Chromium as the browser tests and docs/screenshots.py drive it (headless, nothing remote)."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"  # installed by `make test` (Debian's package)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
