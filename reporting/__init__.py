"""Reporting a verdict: the history, Slack alerts, Data Docs pages and the site's index, health charts."""

from expectations.lazy_scipy import defer_scipy_stats

defer_scipy_stats()  # before any GX import (expectations/lazy_scipy.py says why)
