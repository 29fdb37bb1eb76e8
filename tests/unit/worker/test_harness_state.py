"""Checkpoints keep RNGs and the env's position, so a restored run continues identically."""

from __future__ import annotations

import json
import random

import gymnasium
import numpy as np

from ainimal_zookeeper.adapters.local.file_blobs import LocalBlobStore
from ainimal_zookeeper.sdk.checkpoint_files import fetch_checkpoint, store_checkpoint
from ainimal_zookeeper.worker import harness_state


def test_restored_random_generators_repeat_the_same_draws():
    random.seed(1)
    np.random.seed(1)
    captured = json.loads(json.dumps(harness_state.capture_rng()))  # must survive JSON
    first = (random.random(), np.random.rand())
    harness_state.restore_rng(captured)
    assert (random.random(), np.random.rand()) == first


def test_a_restored_cartpole_continues_the_same_trajectory():
    env = gymnasium.make("CartPole-v1")
    env.reset(seed=3)
    for _ in range(5):
        env.step(1)
    captured = json.loads(json.dumps(harness_state.capture_env(env)))
    expected = [env.step(a)[0] for a in (0, 0, 1)]
    other = gymnasium.make("CartPole-v1")
    other.reset(seed=99)
    assert harness_state.restore_env(other, captured) is True
    replayed = [other.step(a)[0] for a in (0, 0, 1)]
    np.testing.assert_allclose(replayed, expected)
    assert harness_state._time_limit(other)._elapsed_steps == 8  # the episode clock came along


class OpaqueEnv(gymnasium.Env):
    observation_space = gymnasium.spaces.Discrete(3)
    action_space = gymnasium.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, 0.0, False, False, {}


def test_an_env_without_state_restores_its_generator_and_says_its_state_was_not_restored():
    env = OpaqueEnv()
    env.reset(seed=4)
    captured = harness_state.capture_env(env)
    expected = env.np_random.random()
    assert "state" not in captured
    assert harness_state.restore_env(env, captured) is False
    assert env.np_random.random() == expected


def test_a_checkpoint_is_stored_under_its_content_hash_and_unpacks_equal(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")

    def content():
        folder = tmp_path / "content"
        (folder / "model").mkdir(parents=True)
        (folder / "model" / "weights.bin").write_bytes(b"\x01" * 1000)
        return folder

    key, size = store_checkpoint(blobs, content(), {"step": 5})
    assert key.startswith("checkpoints/sha256/")
    assert size == blobs.size(key) + sum(blobs.size(k) for k in blobs.list("checkpoints/files/"))
    assert not (tmp_path / "content").exists()  # consumed
    again, _ = store_checkpoint(blobs, content(), {"step": 5})
    assert again == key  # same content, same name
    different, _ = store_checkpoint(blobs, content(), {"step": 6})
    assert different != key
    out = tmp_path / "out"
    out.mkdir()
    harness = fetch_checkpoint(blobs, key, out)
    assert harness["step"] == 5 and (out / "model" / "weights.bin").read_bytes() == b"\x01" * 1000


def test_a_blob_that_is_not_a_checkpoint_is_refused_clearly(tmp_path):
    import pytest

    from ainimal_zookeeper.errors import InvalidInput

    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.put("checkpoints/sha256/bad.json", b"definitely not a manifest")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput, match="not a readable checkpoint"):
        fetch_checkpoint(blobs, "checkpoints/sha256/bad.json", out)


def test_a_checkpoint_whose_manifest_points_outside_its_folder_is_refused(tmp_path):
    import json

    import pytest

    from ainimal_zookeeper.errors import InvalidInput

    blobs = LocalBlobStore(tmp_path / "blobs")
    blobs.put("checkpoints/files/sha256/abc", b"hi")
    manifest = {"format": 2, "files": [{"path": "../escaped.txt", "sha256": "abc", "size": 2}]}
    blobs.put("checkpoints/sha256/evil.json", json.dumps(manifest).encode())
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidInput, match="leaves the checkpoint folder"):
        fetch_checkpoint(blobs, "checkpoints/sha256/evil.json", out)
    assert not (tmp_path / "escaped.txt").exists()


def test_unchanged_files_are_stored_once_across_checkpoints(tmp_path):
    blobs = LocalBlobStore(tmp_path / "blobs")
    for step in (1, 2):
        folder = tmp_path / "content"
        (folder / "model").mkdir(parents=True)
        (folder / "model" / "weights.bin").write_bytes(b"\x02" * 4096)
        store_checkpoint(blobs, folder, {"step": step})
    stored = blobs.list("checkpoints/files/")
    assert len(stored) == 3  # the weights once, and one harness file per checkpoint
