"""A recording of real CartPole episodes exported as a Minari dataset that Minari loads back."""

from __future__ import annotations

import io
import logging
import os
import zipfile

import minari
import numpy as np
import pytest

from ainimal_zookeeper.errors import Conflict, InvalidInput, NotFound
from ainimal_zookeeper.recordings import ChunkBuffer, export_minari, read_recording, zip_dataset
from ainimal_zookeeper.recordings.chunk_layout import chunk_key

DATASET_ID = "zoo/cartpole-random-v0"
TAKEN_OVER = (2, 3)  # rows driven by a person


def recorded(blobs, rollout):
    """The rollout as the worker stores it: chunks of 25 rows in the BlobStore, read back."""
    buffer = ChunkBuffer("rec-42", rollout.modalities)
    keys = []
    for i, row in enumerate(rollout.rows):
        buffer.append({**row, "overridden": i in TAKEN_OVER})
        if len(buffer) == 25 or i == len(rollout.rows) - 1:
            keys.append(chunk_key("rec-42", len(keys)))
            blobs.put(keys[-1], buffer.to_ipc(len(keys) - 1))
    return read_recording(blobs, keys)


def metadata(rollout) -> dict:
    return {
        "observationModality": rollout.modalities["inputs/observation"],
        "actionModality": rollout.modalities["outputs/action"],
        "envId": "CartPole-v1",
        "author": "Ada",
        "description": None,
        "recordingId": "rec-42",
        "seeds": {str(k): v for k, v in rollout.seeds.items()},  # as they arrive from JSON
    }


@pytest.fixture
def rollout(rollout_factory):
    """Three whole CartPole episodes, and a fourth the recording stopped after 7 steps."""
    return rollout_factory(episodes=4, cut_last_after=7, seed=5)


def test_an_exported_recording_loads_with_minari_equal_to_the_rollout(blobs, rollout, tmp_path, monkeypatch):
    before = os.environ.get("MINARI_DATASETS_PATH")
    directory = export_minari(recorded(blobs, rollout), metadata(rollout), DATASET_ID, tmp_path / "datasets")
    assert os.environ.get("MINARI_DATASETS_PATH") == before
    assert directory == tmp_path / "datasets" / DATASET_ID

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    dataset = minari.load_dataset(DATASET_ID)
    assert dataset.total_episodes == 4
    assert dataset.total_steps == len(rollout.rows)
    assert dataset.spec.env_spec.id == "CartPole-v1"
    episodes = list(dataset.iterate_episodes())
    assert [len(e) for e in episodes] == [len(a) for a in rollout.actions]
    for episode, observations, actions, rewards, terms, truncs in zip(
        episodes,
        rollout.observations,
        rollout.actions,
        rollout.rewards,
        rollout.terminations,
        rollout.truncations,
        strict=True,
    ):
        assert episode.observations.dtype == np.float32
        np.testing.assert_array_equal(episode.observations, np.stack(observations))
        np.testing.assert_array_equal(episode.actions, actions)
        np.testing.assert_array_equal(episode.rewards, rewards)
        np.testing.assert_array_equal(episode.terminations, terms)
        if episode.id < 3:
            np.testing.assert_array_equal(episode.truncations, truncs)
    last = episodes[-1]
    assert len(last) == 7 and not last.terminations.any()
    assert last.truncations.tolist() == [False] * 6 + [True]  # the recording stopped mid-episode


def test_without_seeds_given_each_episode_that_began_seeded_in_the_recording_carries_its_seed(
    blobs, rollout, tmp_path, monkeypatch
):
    # Episode 0 began before the recording as far as the rows tell; episode 2 continued the
    # env's generator (a recording seeds an episode only every so many steps).
    seeds = {0: 105, 1: 106, 2: None, 3: 108}
    rollout.rows = [{**row, "episode_seed": seeds[row["episode"]]} for row in rollout.rows]
    given = {key: value for key, value in metadata(rollout).items() if key != "seeds"}
    export_minari(recorded(blobs, rollout), given, DATASET_ID, tmp_path / "datasets")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    dataset = minari.load_dataset(DATASET_ID)
    assert [m.get("seed") for m in dataset.storage.get_episode_metadata(range(4))] == [None, 106, None, 108]


def test_taken_over_steps_are_kept_and_marked_in_the_infos(blobs, rollout, tmp_path, monkeypatch):
    export_minari(recorded(blobs, rollout), metadata(rollout), DATASET_ID, tmp_path / "datasets")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    dataset = minari.load_dataset(DATASET_ID)
    first = next(dataset.iterate_episodes([0]))
    flags = first.infos["overridden"]
    assert len(flags) == len(first) + 1  # index 0 stands for the reset
    assert np.flatnonzero(flags[1:]).tolist() == list(TAKEN_OVER)
    raw = dataset.storage.metadata
    assert "2 of" in raw["description"] and "infos['overridden']" in raw["description"]
    assert raw["ainimal_zookeeper"]["overridden_steps"] == 2
    assert raw["author"] == {"Ada"}
    assert [m["seed"] for m in dataset.storage.get_episode_metadata(range(4))] == [105, 106, 107, 108]


def test_an_episode_without_its_final_observation_is_left_out_and_logged(blobs, rollout, tmp_path, monkeypatch, caplog):
    end_of_second = len(rollout.actions[0]) + len(rollout.actions[1]) - 1
    rollout.rows[end_of_second]["final/observation"] = None
    with caplog.at_level(logging.WARNING, logger="ainimal_zookeeper.recordings"):
        export_minari(recorded(blobs, rollout), metadata(rollout), DATASET_ID, tmp_path / "datasets")
    assert "episode 1 is left out" in caplog.text
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    dataset = minari.load_dataset(DATASET_ID)
    assert dataset.total_episodes == 3
    lengths = [len(e) for e in dataset.iterate_episodes()]
    assert lengths == [len(rollout.actions[i]) for i in (0, 2, 3)]
    assert dataset.storage.metadata["ainimal_zookeeper"]["dropped_episodes"] == [1]
    episode_metadata = list(dataset.storage.get_episode_metadata(range(3)))
    assert [m["recording_episode"] for m in episode_metadata] == [0, 2, 3]


@pytest.mark.parametrize(
    "dataset_id",
    ["cartpole", "zoo/cartpole", "../escape-v0", "zoo/name.v0", "a b-v0", "/abs-v0", "", "zoo/-v0"],
)
def test_a_malformed_dataset_id_is_invalid_input(blobs, rollout, tmp_path, dataset_id):
    with pytest.raises(InvalidInput, match=r"dataset id expects Minari's form '\(namespace/\)name-v<version>'"):
        export_minari(recorded(blobs, rollout), metadata(rollout), dataset_id, tmp_path / "datasets")
    assert not (tmp_path / "datasets").exists() or not any((tmp_path / "datasets").iterdir())


def test_exporting_to_an_existing_dataset_id_is_a_conflict(blobs, rollout, tmp_path):
    table = recorded(blobs, rollout)
    export_minari(table, metadata(rollout), DATASET_ID, tmp_path / "datasets")
    with pytest.raises(Conflict, match="exists already"):
        export_minari(table, metadata(rollout), DATASET_ID, tmp_path / "datasets")


def test_a_recording_without_actions_or_modalities_is_invalid_input(blobs, rollout, tmp_path):
    table = recorded(blobs, rollout)
    with pytest.raises(InvalidInput, match="needs the recording columns outputs/action"):
        export_minari(table.drop_columns(["outputs/action"]), metadata(rollout), DATASET_ID, tmp_path / "d")
    with pytest.raises(InvalidInput, match=r"metadata\['actionModality'\]"):
        export_minari(table, {**metadata(rollout), "actionModality": None}, DATASET_ID, tmp_path / "d")
    with pytest.raises(InvalidInput, match="no complete episode"):
        export_minari(table.drop_columns(["final/observation"]), metadata(rollout), DATASET_ID, tmp_path / "d")
    assert not (tmp_path / "d" / DATASET_ID).exists()


def test_a_zipped_dataset_unzipped_elsewhere_loads(blobs, rollout, tmp_path, monkeypatch):
    directory = export_minari(recorded(blobs, rollout), metadata(rollout), DATASET_ID, tmp_path / "datasets")
    out = io.BytesIO()
    zip_dataset(directory, out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert all(name.startswith(DATASET_ID + "/") for name in archive.namelist())
        archive.extractall(tmp_path / "elsewhere")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "elsewhere"))
    assert minari.load_dataset(DATASET_ID).total_episodes == 4


def test_zipping_a_folder_without_a_dataset_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="no Minari dataset"):
        zip_dataset(tmp_path, io.BytesIO())
