"""A short soak of the embedded server (bench/soak.py with short leases): everything that broke
within a minute of ordinary use — frozen streams, abandoned takeovers, leaking launches,
recordings and clients coming and going — shows here as a slow stream or steady growth."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("torch")


def load_soak():
    if str(REPO / "bench") not in sys.path:
        sys.path.insert(0, str(REPO / "bench"))  # soak.py imports its siblings, as when run as a script
    spec = importlib.util.spec_from_file_location("soak", REPO / "bench" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_short_soak_keeps_every_stream_at_its_rate_and_grows_nothing(tmp_path):
    soak = load_soak()
    settings = soak.SoakSettings(
        minutes=1.25,
        sample_every=3.0,
        window=10.0,  # ten lease periods a window
        warm_up=20.0,
        paced=2,
        unpaced=1,
        churn_every=1.5,
        flap_every=1.0,
        takeover_every=3.0,
        recording_every=4.0,
        worker_settings=SHORT_TIMINGS,
        data_dir=tmp_path / "data",
    )
    report = soak.run_soak(settings)
    assert report.passed, "\n".join(report.failures)
    # It did what it says: churn, flapping clients, abandoned takeovers and recordings.
    assert report.activity.get("churn", 0) >= 15, report.activity
    assert min(report.activity.get(name, 0) for name in ("sse_flaps", "takeovers", "recordings")) >= 5
    assert all(len(shares) >= 4 for shares in report.stream_windows.values()), report.stream_windows


#: Leases, holds and grace periods short enough that the soak runs past each many times.
SHORT_TIMINGS = {
    "telemetry_lease_seconds": 1.0,
    "stop_grace_seconds": 1.0,
    "takeover_hold_seconds": 1.0,
    "takeover_timeout_seconds": 1.0,
}
