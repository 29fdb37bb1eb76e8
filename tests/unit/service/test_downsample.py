"""Min/max bucket downsampling keeps a series' shape within a number of points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ainimal_zookeeper.service.downsample import min_max_indices, thin


def test_a_series_within_the_limit_is_returned_whole():
    assert min_max_indices([1.0, 2.0, 3.0], 3).tolist() == [0, 1, 2]
    assert thin([1, 2], [0.1, 0.2], [5.0, None], 10) == ([1, 2], [0.1, 0.2], [5.0, None])


@pytest.mark.parametrize("max_points", [1, 2, 3, 4, 5, 10, 999, 1000])
def test_the_result_never_exceeds_max_points_and_is_in_order(max_points):
    values = np.random.default_rng(1).normal(size=5000)
    picked = min_max_indices(values, max_points)
    assert 1 <= len(picked) <= max_points
    assert np.all(np.diff(picked) > 0)


def test_the_first_and_last_points_and_every_spike_survive():
    values = np.zeros(10_000)
    spikes = [137, 4242, 8001]
    values[spikes[0]], values[spikes[1]], values[spikes[2]] = 50.0, -70.0, 30.0
    picked = min_max_indices(values, 100).tolist()
    assert picked[0] == 0 and picked[-1] == 9999
    assert set(spikes) <= set(picked)


def test_a_run_of_missing_values_stays_a_gap():
    values: list[float | None] = [float(i) for i in range(1000)]
    values[400:600] = [None] * 200
    steps = list(range(1000))
    _, _, thinned = thin(steps, [float(s) for s in steps], values, 50)
    assert None in thinned
    gap = [i for i, v in enumerate(thinned) if v is None]
    assert all(v is not None and not math.isnan(v) for v in thinned[: gap[0]])


def test_a_bucket_with_values_drops_its_missing_ones():
    values = [1.0, None, 3.0, None, 5.0, 6.0, None, 8.0, 9.0, 10.0, 11.0]
    _, _, thinned = thin(list(range(11)), [float(i) for i in range(11)], values, 4)
    assert None not in thinned


def test_thin_keeps_steps_times_and_values_aligned():
    steps = list(range(0, 30_000, 3))
    times = [1000.0 + s / 10 for s in steps]
    values = [math.sin(s / 500) for s in steps]
    s2, t2, v2 = thin(steps, times, values, 200)
    assert len(s2) == len(t2) == len(v2) <= 200
    for step, moment, value in zip(s2, t2, v2, strict=True):
        assert moment == 1000.0 + step / 10 and value == math.sin(step / 500)


def test_max_points_below_one_is_refused():
    with pytest.raises(ValueError, match="max_points must be at least 1"):
        min_max_indices([1.0, 2.0], 0)
