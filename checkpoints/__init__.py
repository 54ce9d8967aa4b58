"""GX wiring: the context, one checkpoint per phase, result summaries."""

from expectations.lazy_scipy import defer_scipy_stats

defer_scipy_stats()  # before any GX import (expectations/lazy_scipy.py says why)
