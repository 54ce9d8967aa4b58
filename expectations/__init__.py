"""Expectation suites, one module per phase. Suites only declare expectations."""

from expectations.lazy_scipy import defer_scipy_stats

defer_scipy_stats()  # before any GX import: GX imports scipy.stats for checks nba-dq never declares
