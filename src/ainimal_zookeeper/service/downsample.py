"""Thin a time series to a number of points, keeping its shape (min/max buckets).

The series is cut into equal-count buckets; each bucket keeps its lowest and its highest point
(so spikes and dips survive, unlike with averaging or striding), and the first and last points
are always kept. A bucket of only missing values (NaN: a gap) keeps one, so a gap stays a gap;
a bucket with some values drops its missing ones.

Why not a package: `tsdownsample` (maintained, Rust; MinMax and MinMaxLTTB) would be one
more compiled dependency of the control plane and its Cloud Function image for what a few
lines of numpy do here, and LTTB (the `lttb` package) keeps one point per bucket, chosen by
triangle area, so a spike in a loss curve can vanish; min/max buckets keep every extreme.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def min_max_indices(values: Sequence[float | None] | npt.NDArray[np.float64], max_points: int) -> npt.NDArray[np.intp]:
    """Indices (ascending) of at most `max_points` points of `values` that keep its shape.

    Args:
        values: the series' values in order; None or NaN for a missing value.
        max_points: at least 1.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    v = np.asarray(values, dtype=np.float64)  # None becomes NaN
    n = len(v)
    if n <= max_points:
        return np.arange(n, dtype=np.intp)
    if max_points < 4:  # no room for buckets: evenly spaced, ends included
        return np.unique(np.linspace(0, n - 1, max_points).round().astype(np.intp))
    buckets = (max_points - 2) // 2
    inner = v[1:-1]
    # Equal-count buckets over the inner points (n - 2 > 2 * buckets, so none is empty).
    bucket_of = np.arange(n - 2) * buckets // (n - 2)
    missing = np.isnan(inner)
    lows = np.where(missing, np.inf, inner)
    highs = np.where(missing, np.inf, -inner)
    # Sorted by bucket, then value; ties (and an all-missing bucket) keep their order, so the
    # first of each bucket's run is its min (or its first point) and likewise for the max.
    starts = np.searchsorted(bucket_of, np.arange(buckets))
    lowest = np.lexsort((lows, bucket_of))[starts]
    highest = np.lexsort((highs, bucket_of))[starts]
    picked = np.concatenate(([0], lowest + 1, highest + 1, [n - 1]))
    return np.unique(picked).astype(np.intp)


def thin(
    steps: list[int], times: list[float], values: list[float | None], max_points: int
) -> tuple[list[int], list[float], list[float | None]]:
    """The columns of a series thinned to at most `max_points` points by `min_max_indices`."""
    if len(values) <= max_points:
        return steps, times, values
    keep = min_max_indices(values, max_points).tolist()
    return [steps[i] for i in keep], [times[i] for i in keep], [values[i] for i in keep]
