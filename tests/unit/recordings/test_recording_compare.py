"""A replay compared with its recording, step by step: exact equality, and how far apart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ainimal_zookeeper.errors import InvalidInput
from ainimal_zookeeper.recordings import ChunkBuffer, chunk_key, compare_recordings, read_recording, table_from_ipc

ROWS = 120


def recording(rows):
    buffer = ChunkBuffer("rec")
    for row in rows:
        buffer.append(row)
    return table_from_ipc(buffer.to_ipc(0))


@pytest.fixture
def rows(rollout_factory):
    """120 rows of a real CartPole rollout, with a float32[64] activation per row."""
    rows = rollout_factory(episodes=20, seed=1).rows[:ROWS]
    rng = np.random.default_rng(3)
    for row in rows:
        row["activations/policy.0"] = rng.standard_normal(64).astype(np.float32)
    return rows


def copy_rows(rows):
    return [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in row.items()} for row in rows]


def test_a_replay_equal_to_its_recording_is_identical(rows):
    result = compare_recordings(recording(rows), recording(copy_rows(rows)))
    assert result["identical"] is True
    assert result["firstDifference"] is None
    assert (result["recordedSteps"], result["replayedSteps"], result["comparedSteps"]) == (ROWS, ROWS, ROWS)
    assert result["streams"] == {
        "outputs/action": {"equalSteps": ROWS, "maxAbsDiff": 0.0, "meanAbsDiff": 0.0},
        "activations/policy.0": {"equalSteps": ROWS, "maxAbsDiff": 0.0, "meanAbsDiff": 0.0},
    }
    json.dumps(result, allow_nan=False)


def test_a_different_action_at_row_17_is_the_first_difference(rows):
    replay = copy_rows(rows)
    replay[17]["outputs/action"] = 1 - rows[17]["outputs/action"]
    result = compare_recordings(recording(rows), recording(replay), offset=10, limit=10)
    assert result["identical"] is False
    assert result["firstDifference"] == 17
    assert result["streams"]["outputs/action"] == {"equalSteps": ROWS - 1, "maxAbsDiff": 1.0, "meanAbsDiff": 1 / ROWS}
    assert result["streams"]["activations/policy.0"]["equalSteps"] == ROWS
    assert [entry["index"] for entry in result["perStep"]] == list(range(10, 20))
    entry = result["perStep"][7]
    assert entry["step"] == rows[17]["step"]
    assert entry["differences"]["outputs/action"] == {
        "equal": False,
        "maxAbsDiff": 1.0,
        "recorded": rows[17]["outputs/action"],
        "replayed": replay[17]["outputs/action"],
    }
    assert entry["differences"]["activations/policy.0"]["recorded"] is None  # 64 elements: not shown
    assert result["perStep"][0]["differences"]["outputs/action"]["equal"] is True


def test_an_activation_perturbation_is_measured_exactly(rows):
    replay = copy_rows(rows)
    replay[40]["activations/policy.0"][5] = np.float32(3.5)
    replay[41]["activations/policy.0"][0] += np.float32(0.25)
    big = abs(3.5 - float(rows[40]["activations/policy.0"][5]))
    small = abs(float(replay[41]["activations/policy.0"][0]) - float(rows[41]["activations/policy.0"][0]))
    result = compare_recordings(recording(rows), recording(replay), limit=None)
    stream = result["streams"]["activations/policy.0"]
    assert stream["equalSteps"] == ROWS - 2
    assert stream["maxAbsDiff"] == big
    assert stream["meanAbsDiff"] == pytest.approx((big + small) / (ROWS * 64), rel=1e-12)
    assert result["firstDifference"] == 40
    assert len(result["perStep"]) == ROWS
    assert result["perStep"][41]["differences"]["activations/policy.0"]["maxAbsDiff"] == small


def test_a_shorter_replay_compares_its_rows_and_differs_where_it_stops(rows):
    result = compare_recordings(recording(rows), recording(copy_rows(rows[:50])))
    assert (result["recordedSteps"], result["replayedSteps"], result["comparedSteps"]) == (ROWS, 50, 50)
    assert result["streams"]["outputs/action"]["equalSteps"] == 50
    assert result["identical"] is False
    assert result["firstDifference"] == 50


def test_a_stream_missing_from_one_side_is_an_error_entry_not_a_crash(rows):
    replay = [{k: v for k, v in row.items() if not k.startswith("activations/")} for row in rows]
    result = compare_recordings(recording(rows), recording(replay), streams=["outputs/action", "activations/policy.0"])
    assert result["streams"]["activations/policy.0"] == {
        "error": "stream 'activations/policy.0' is missing from the replay"
    }
    assert result["streams"]["outputs/action"]["equalSteps"] == ROWS
    assert result["identical"] is False
    assert "activations/policy.0" not in result["perStep"][0]["differences"]


def test_by_default_only_outputs_and_activations_are_compared(rows):
    replay = copy_rows(rows)
    replay[3]["inputs/observation"] = replay[3]["inputs/observation"] + 1
    result = compare_recordings(recording(rows), recording(replay))
    assert set(result["streams"]) == {"outputs/action", "activations/policy.0"}
    assert result["identical"] is True
    named = compare_recordings(recording(rows), recording(replay), streams=["inputs/observation"])
    assert named["firstDifference"] == 3
    expected = np.abs(replay[3]["inputs/observation"].astype(np.float64) - rows[3]["inputs/observation"]).max()
    assert named["perStep"][3]["differences"]["inputs/observation"]["maxAbsDiff"] == expected  # float32 rounding kept


def test_nan_reproduced_is_equal_and_nan_against_a_number_has_no_magnitude():
    ours = [{"outputs/q": np.array([np.nan, 1.0], np.float32)}, {"outputs/q": np.array([np.nan, 1.0], np.float32)}]
    theirs = [{"outputs/q": np.array([np.nan, 1.0], np.float32)}, {"outputs/q": np.array([2.0, 1.0], np.float32)}]
    result = compare_recordings(recording(ours), recording(theirs))
    assert result["streams"]["outputs/q"] == {"equalSteps": 1, "maxAbsDiff": 0.0, "meanAbsDiff": 0.0}
    assert result["perStep"][1]["differences"]["outputs/q"] == {
        "equal": False,
        "maxAbsDiff": None,
        "recorded": [None, 1.0],
        "replayed": [2.0, 1.0],
    }
    json.dumps(result, allow_nan=False)


def test_non_numeric_streams_compare_by_value():
    ours = [{"outputs/text": "left"}, {"outputs/text": "right"}, {"outputs/text": None}]
    theirs = [{"outputs/text": "left"}, {"outputs/text": "up"}, {"outputs/text": None}]
    result = compare_recordings(recording(ours), recording(theirs))
    assert result["streams"]["outputs/text"] == {"equalSteps": 2, "maxAbsDiff": None, "meanAbsDiff": None}
    assert result["firstDifference"] == 1
    assert result["perStep"][1]["differences"]["outputs/text"]["replayed"] == "up"


def test_a_negative_offset_is_invalid_input(rows):
    rows = rows[:3]
    with pytest.raises(InvalidInput, match="offset=-1"):
        compare_recordings(recording(rows), recording(rows), offset=-1)


def test_a_recording_read_from_chunks_compares_with_a_replay_in_one_piece(rows, blobs):
    keys = []
    buffer = ChunkBuffer("rec")
    for start in range(0, ROWS, 40):
        for row in rows[start : start + 40]:
            buffer.append(row)
        keys.append(chunk_key("rec", len(keys)))
        blobs.put(keys[-1], buffer.to_ipc(len(keys) - 1))
    replay = copy_rows(rows)
    replay[55]["inputs/observation"] = np.array([9, 9, 9, 9], np.float32)
    result = compare_recordings(
        read_recording(blobs, keys), recording(replay), ["inputs/observation"], offset=50, limit=10
    )
    assert result["firstDifference"] == 55
    entry = result["perStep"][5]
    assert (entry["index"], entry["step"]) == (55, rows[55]["step"])
    assert entry["differences"]["inputs/observation"]["recorded"] == rows[55]["inputs/observation"].tolist()
    assert entry["differences"]["inputs/observation"]["replayed"] == [9.0, 9.0, 9.0, 9.0]
    assert (
        result["perStep"][6]["differences"]["inputs/observation"]["recorded"] == rows[56]["inputs/observation"].tolist()
    )
