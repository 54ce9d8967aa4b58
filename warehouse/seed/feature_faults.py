"""Phase 4 faults: each breaks one date's feature-store rows."""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd

from warehouse.catalog import FEATURE_STORE
from warehouse.seed.faults import FEATURE_GAP_SHARE, ZEROED_FEATURE, Fault

_F = FEATURE_STORE.c


def break_features(fault: Fault | None, features: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    """One date's feature-store rows with a Phase 4 fault applied (unchanged for any other fault)."""
    handler = _HANDLERS.get(fault.name) if fault is not None else None
    return features if handler is None else handler(features.reset_index(drop=True), rng)


def _all_zeros(features: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    return features.assign(**{ZEROED_FEATURE: 0.0})


def _store_gap(features: pd.DataFrame, rng: random.Random) -> pd.DataFrame:
    # Every production-ready context player has a row on a clean date, so coverage falls to 1 - the share.
    ready = sorted(set(features.loc[features[_F.is_production_ready], _F.player_lookup]))
    dropped = rng.sample(ready, round(FEATURE_GAP_SHARE * len(ready)))
    return features[~features[_F.player_lookup].isin(dropped)].reset_index(drop=True)


_HANDLERS: dict[str, Callable[[pd.DataFrame, random.Random], pd.DataFrame]] = {
    "feature_all_zeros": _all_zeros,
    "feature_store_gap": _store_gap,
}

HANDLED: frozenset[str] = frozenset(_HANDLERS)
