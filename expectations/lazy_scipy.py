"""scipy.stats loaded on first use rather than when GX is imported.

GX 1.24 imports `from scipy import stats` at the top of three modules it loads with the package (the
KL-divergence expectation and two KS-test metrics) and uses it only inside those checks, which nba-dq
never declares. Loading scipy.stats pulls in scipy.linalg, optimize, spatial, special and more: about
a fifth of a CLI process's import time. `defer_scipy_stats` puts a stand-in module in its place before
GX is imported; the first attribute read on it (`stats.entropy`, a submodule import) imports the real
module, so a check that does use it still works (tests/test_startup_imports.py).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

DEFERRED = "scipy.stats"


class _LoadedOnFirstUse(types.ModuleType):
    """Stands in for a module until an attribute is read from it; then that module is imported for real."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def defer_scipy_stats() -> None:
    """Register the stand-in, unless scipy.stats is imported already (then there is nothing to save)."""
    if DEFERRED not in sys.modules:
        sys.modules[DEFERRED] = _LoadedOnFirstUse(DEFERRED)
