"""Override rules live in the domain: the control plane checks overrides without the worker or torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ainimal_zookeeper.domain.override_rules import TAKEOVERS, parse_target, validate_override
from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.worker import interventions, overrides

SRC = Path(__file__).resolve().parents[3] / "src"
BOX = {"kind": "box", "shape": [2], "dtype": "float32", "low": -1.0, "high": 1.0}


def test_the_service_checks_overrides_without_importing_the_worker_or_torch():
    script = (
        "import sys; sys.modules['torch'] = None\n"  # makes `import torch` fail
        "import ainimal_zookeeper.service.overrides\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('ainimal_zookeeper.worker'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


def test_the_worker_uses_the_same_rules_as_the_service():
    assert overrides.validate_override is validate_override
    assert overrides.parse_target is parse_target
    assert interventions.TAKEOVERS is TAKEOVERS


def test_an_override_outside_the_box_is_refused_naming_the_bounds():
    with pytest.raises(InvalidInput, match=r"expects values in \[-1, 1\]"):
        validate_override("inputs/observation", "set", [0.5, 3.0], input_modalities={"observation": BOX})
    checked = validate_override("inputs/observation", "set", [0.5, -1.0], input_modalities={"observation": BOX})
    assert checked.value == [0.5, -1.0]


def test_a_target_outside_the_three_streams_is_refused_with_examples():
    with pytest.raises(InvalidInput, match="outputs/action or activations/policy.0"):
        parse_target("weights/policy.0")
