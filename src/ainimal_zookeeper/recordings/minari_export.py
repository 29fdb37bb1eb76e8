"""Recordings exported as Minari datasets (Farama's offline-RL format), and zipped for download.

Minari is an optional dependency (the `minari` extra): it is imported when an export runs, not
with this module. Datasets use Minari's pyarrow-based "arrow" format, so neither h5py nor the
network is needed, and are written with explicit paths below `datasets_root` rather than
through the process-wide MINARI_DATASETS_PATH, which other requests may be using.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import gymnasium as gym
import numpy as np
import pyarrow as pa
from gymnasium import spaces

from ainimal_zookeeper.errors import ConfigError, Conflict, InvalidInput, NotFound
from ainimal_zookeeper.recordings.chunk_reading import column_values
from ainimal_zookeeper.recordings.spaces import space_from_modality
from ainimal_zookeeper.sdk.modalities import coerce_value

__all__ = ["DATA_FORMAT", "export_minari", "zip_dataset"]

log = logging.getLogger(__name__)

#: Minari's pyarrow storage: works with what the zookeeper installs anyway (hdf5 needs h5py).
DATA_FORMAT = "arrow"

_OBSERVATION = "inputs/observation"
_FINAL_OBSERVATION = "final/observation"
_ACTION = "outputs/action"


@dataclass
class _Episode:
    """One episode of a recording, in the layout Minari's EpisodeBuffer takes."""

    number: Any  # the recording's `episode` value
    observations: list[Any]  # one more than actions: the final observation closes the episode
    actions: list[Any]
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    overridden: np.ndarray | None  # per step; None when the recording has no `overridden` column


def export_minari(table: pa.Table, metadata: Mapping[str, Any], dataset_id: str, datasets_root: Path) -> Path:
    """Write a recording as a Minari dataset below `datasets_root` (a MINARI_DATASETS_PATH).

    Episodes are runs of rows with the same `episode` value; an episode's observations are its
    `inputs/observation` values plus the `final/observation` of its last row. An episode whose
    last row neither terminated nor truncated (the recording stopped mid-episode) is exported
    as truncated there; one without a final observation is left out, logged and listed in the
    dataset metadata. Steps driven by a person keep their place and are marked in the episode
    infos: `infos["overridden"][t + 1]` is step t's flag (index 0 stands for the reset, as in
    Minari's own DataCollector).

    Args:
        table: the recording, as from `read_recording`.
        metadata: "observationModality" and "actionModality" (modality dicts), optional
            "envId" (a registered gymnasium id), "author", "description", "recordingId" and
            "seeds" (episode value -> reset seed; by default the recorded `episode_seed` of each
            episode that began inside the recording, where it has one).
        dataset_id: Minari's "(namespace/)name-v<version>", e.g. "zoo/cartpole-run-v0".
        datasets_root: the directory Minari reads as MINARI_DATASETS_PATH.

    Returns:
        The dataset's directory (`datasets_root / dataset_id`).

    Raises:
        InvalidInput: a malformed dataset id or modality, a missing column, or no complete episode.
        Conflict: a dataset with this id exists already.
        ConfigError: Minari is not installed.
    """
    minari = _import_minari()
    namespace = _checked_namespace(dataset_id, minari.dataset_id_re)
    observation_modality = _required(metadata, "observationModality")
    action_modality = _required(metadata, "actionModality")
    observation_space = space_from_modality(observation_modality)
    action_space = space_from_modality(action_modality)
    episodes, dropped = _episodes(table, observation_space, observation_modality, action_space, action_modality)
    if not episodes:
        raise InvalidInput(
            f"the recording has no complete episode to export as {dataset_id!r}: no episode has a final observation"
        )
    if not metadata.get("seeds"):
        metadata = {**metadata, "seeds": _recorded_seeds(table)}
    root = Path(datasets_root)
    target = root / dataset_id
    if target.exists():
        raise Conflict(f"a Minari dataset {dataset_id!r} exists already in {root}: choose another name or version")
    _ensure_namespaces(root, namespace, minari.namespace.NAMESPACE_METADATA_FILENAME)
    # Built beside the target under a dot-name (Minari's listings skip those), then renamed into
    # place in one step, so a failed export leaves nothing behind and no reader sees half of one.
    staging = root / f".tmp-{uuid.uuid4().hex}"
    try:
        staging.mkdir(parents=True)
        _write_dataset(
            minari, staging / "data", (observation_space, action_space), metadata, dataset_id, episodes, dropped
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            staging.rename(target)
        except OSError as exc:  # another export took the id meanwhile
            raise Conflict(
                f"a Minari dataset {dataset_id!r} exists already in {root}: choose another name or version"
            ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def zip_dataset(dataset_dir: Path, out: BinaryIO) -> None:
    """Zip a dataset written by `export_minari` into `out` (which need not be seekable).

    Entries are named `<dataset_id>/...`, so unzipping into a MINARI_DATASETS_PATH makes the
    dataset loadable with `minari.load_dataset(dataset_id)`.

    Raises:
        NotFound: `dataset_dir` holds no Minari dataset.
    """
    dataset_dir = Path(dataset_dir)
    metadata_file = dataset_dir / "data" / "metadata.json"
    if not metadata_file.is_file():
        raise NotFound(f"{dataset_dir} holds no Minari dataset: data/metadata.json is missing")
    dataset_id = json.loads(metadata_file.read_text())["dataset_id"]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in dataset_dir.rglob("*") if p.is_file()):
            archive.write(path, f"{dataset_id}/{path.relative_to(dataset_dir).as_posix()}")


def _write_dataset(
    minari: _Minari,
    data_path: Path,
    space_pair: tuple[spaces.Space, spaces.Space],
    metadata: Mapping[str, Any],
    dataset_id: str,
    episodes: list[_Episode],
    dropped: list[Any],
) -> None:
    """What `minari.create_dataset_from_buffers` does, but into `data_path` rather than below
    MINARI_DATASETS_PATH, and without its warnings about metadata a recording does not have."""
    observation_space, action_space = space_pair
    storage = minari.storage.new(
        data_path,
        observation_space=observation_space,
        action_space=action_space,
        env_spec=_env_spec(metadata.get("envId")),
        data_format=DATA_FORMAT,
        jpeg_encoding=False,  # images stay lossless: recordings are exact
    )
    storage.update_metadata(_dataset_metadata(metadata, dataset_id, minari.version, episodes, dropped))
    seeds = metadata.get("seeds") or {}
    # Minari re-measures the whole dataset folder after every episode it writes (quadratic: a
    # thousand short CartPole episodes took 80 s); measure once, at the end, instead.
    storage.get_size = lambda: 0.0
    try:
        storage.update_episodes(
            _buffer(minari.episode_buffer, i, e, observation_space, action_space, seeds) for i, e in enumerate(episodes)
        )
        storage.update_episode_metadata([{"recording_episode": e.number} for e in episodes], range(len(episodes)))
    finally:
        del storage.get_size
    storage.update_metadata({"dataset_size": storage.get_size()})


# --- checks ---------------------------------------------------------------------------------


class _Minari:
    """The parts of Minari an export uses, imported together when the first export runs."""

    def __init__(self) -> None:
        import minari
        import minari.namespace
        from minari.data_collector.episode_buffer import EpisodeBuffer
        from minari.dataset.minari_dataset import DATASET_ID_RE
        from minari.dataset.minari_storage import MinariStorage

        self.version: str = minari.__version__
        self.namespace = minari.namespace
        self.episode_buffer = EpisodeBuffer
        self.storage = MinariStorage
        self.dataset_id_re: re.Pattern[str] = DATASET_ID_RE


def _import_minari() -> _Minari:
    try:
        return _Minari()
    except ImportError as exc:
        raise ConfigError(
            "exporting Minari datasets needs Minari: install the extra with pip install 'ainimal-zookeeper[minari]'"
        ) from exc


def _checked_namespace(dataset_id: str, dataset_id_re: re.Pattern[str]) -> str | None:
    """The namespace of a valid Minari dataset id (None if it has none).

    Minari's own pattern allows no '.', so an id cannot climb out of the datasets root.
    """
    match = dataset_id_re.fullmatch(dataset_id) if isinstance(dataset_id, str) else None
    if match is None or match.group("version") is None:
        raise InvalidInput(
            f"dataset id expects Minari's form '(namespace/)name-v<version>' with letters, digits, '-' and '_' "
            f"(e.g. 'zoo/cartpole-run-v0'), got {dataset_id!r}"
        )
    return match.group("namespace") or None


def _required(metadata: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = metadata.get(key)
    if not isinstance(value, Mapping):
        raise InvalidInput(f"a Minari export needs metadata[{key!r}], a modality dict, got {value!r}")
    return value


def _ensure_namespaces(root: Path, namespace: str | None, metadata_filename: str) -> None:
    """Mark each level of `namespace` as a Minari namespace, as `minari.create_namespace` does."""
    if namespace is None:
        return
    parts = namespace.split("/")
    for depth in range(1, len(parts) + 1):
        directory = root.joinpath(*parts[:depth])
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / metadata_filename
        if not marker.exists():
            marker.write_text("{}")


def _env_spec(env_id: Any) -> gym.envs.registration.EnvSpec | None:
    """The env's spec, so the dataset can recover its environment; None when not registered here."""
    if not env_id:
        return None
    try:
        return gym.spec(str(env_id))
    except gym.error.Error as exc:
        log.warning("minari export: env %r is not registered here, the dataset will not name it: %s", env_id, exc)
        return None


# --- episodes -------------------------------------------------------------------------------


def _recorded_seeds(table: pa.Table) -> dict[Any, int]:
    """Episode value -> its reset's seed, for the episodes that began inside the
    recording with a seeded reset (the first row may be the middle of an episode, and an
    episode without a seed continued the env's generator)."""
    if "episode_seed" not in table.column_names or "episode" not in table.column_names:
        return {}
    numbers, seeds = column_values(table, "episode"), column_values(table, "episode_seed")
    return {numbers[start]: int(seeds[start]) for start, _ in _runs(numbers) if start > 0 and seeds[start] is not None}


def _episodes(
    table: pa.Table,
    observation_space: spaces.Space,
    observation_modality: Mapping[str, Any],
    action_space: spaces.Space,
    action_modality: Mapping[str, Any],
) -> tuple[list[_Episode], list[Any]]:
    """The recording's complete episodes, and the episode values of those left out."""
    missing = [c for c in ("episode", _OBSERVATION, _ACTION) if c not in table.column_names]
    if missing:
        raise InvalidInput(
            f"a Minari export needs the recording columns {', '.join(missing)}; it has {', '.join(table.column_names)}"
        )
    numbers = column_values(table, "episode")
    observations = column_values(table, _OBSERVATION)
    actions = column_values(table, _ACTION)
    finals = _optional(table, _FINAL_OBSERVATION)
    rewards = [0.0 if r is None else r for r in _optional(table, "reward")]
    terminated = [bool(t) for t in _optional(table, "terminated")]
    truncated = [bool(t) for t in _optional(table, "truncated")]
    overridden = [bool(o) for o in _optional(table, "overridden")] if "overridden" in table.column_names else None
    episodes, dropped = [], []
    for start, stop in _runs(numbers):
        if finals[stop - 1] is None:
            log.warning("minari export: episode %r is left out: its last row has no final observation", numbers[start])
            dropped.append(numbers[start])
            continue
        obs = [
            _typed(observation_space, observation_modality, v, i) for i, v in enumerate(observations[start:stop], start)
        ]
        obs.append(_typed(observation_space, observation_modality, finals[stop - 1], stop - 1))
        acts = [_typed(action_space, action_modality, v, i) for i, v in enumerate(actions[start:stop], start)]
        ends = np.asarray(truncated[start:stop], dtype=bool)
        ends[-1] |= not terminated[stop - 1]  # a recording stopped mid-episode: cut, not ended
        episodes.append(
            _Episode(
                number=numbers[start],
                observations=obs,
                actions=acts,
                rewards=np.asarray(rewards[start:stop], dtype=np.float64),
                terminations=np.asarray(terminated[start:stop], dtype=bool),
                truncations=ends,
                overridden=None if overridden is None else np.asarray(overridden[start:stop], dtype=bool),
            )
        )
    return episodes, dropped


def _optional(table: pa.Table, name: str) -> list[Any]:
    return column_values(table, name) if name in table.column_names else [None] * table.num_rows


def _runs(numbers: list[Any]) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal consecutive values."""
    starts = [i for i in range(len(numbers)) if i == 0 or numbers[i] != numbers[i - 1]]
    return list(zip(starts, [*starts[1:], len(numbers)], strict=True))


def _typed(space: spaces.Space, modality: Mapping[str, Any], value: Any, row: int) -> Any:
    """A stored value as the space holds it (dict observations come back from JSON)."""
    if value is None:
        raise InvalidInput(f"recording row {row} has no value for a {modality.get('kind')} stream that Minari needs")
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        array = np.asarray(value, dtype=space.dtype)
        if array.shape != space.shape:
            raise InvalidInput(
                f"recording row {row} holds shape {list(array.shape)}, the modality says {list(space.shape)}"
            )
        return array
    return coerce_value(modality, value)


def _columnar(space: spaces.Space, values: list[Any]) -> Any:
    """Minari's layout: a dict (tuple) space's values as a dict (tuple) of per-key lists."""
    if isinstance(space, spaces.Dict):
        return {key: _columnar(sub, [v[key] for v in values]) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_columnar(sub, [v[i] for v in values]) for i, sub in enumerate(space.spaces))
    return values


def _buffer(
    buffer_class: Any,
    index: int,
    episode: _Episode,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    seeds: Mapping[Any, Any],
) -> Any:
    """Minari's EpisodeBuffer of one episode; ids run 0..n-1, as Minari's readers expect."""
    seed = seeds.get(episode.number, seeds.get(str(episode.number)))
    infos = None
    if episode.overridden is not None:
        # A list, not an ndarray: Minari 0.5.4's arrow storage writes a 1-d ndarray info with an
        # empty shape tag that its own reader then fails to parse.
        infos = {"overridden": [False, *(bool(flag) for flag in episode.overridden)]}
    return buffer_class(
        id=index,
        seed=None if seed is None else int(seed),
        observations=_columnar(observation_space, episode.observations),
        actions=_columnar(action_space, episode.actions),
        rewards=episode.rewards,
        terminations=episode.terminations,
        truncations=episode.truncations,
        infos=infos,
    )


def _dataset_metadata(
    metadata: Mapping[str, Any], dataset_id: str, minari_version: str, episodes: list[_Episode], dropped: list[Any]
) -> dict[str, Any]:
    steps = sum(len(e.actions) for e in episodes)
    overridden = sum(int(e.overridden.sum()) for e in episodes if e.overridden is not None)
    recording_id = metadata.get("recordingId")
    named = f"Recording {recording_id}" if recording_id else "A recording"
    description = str(metadata.get("description") or f"{named} exported by AInimal Zookeeper.")
    if overridden:
        description += (
            f" {overridden} of {steps} steps were driven by a person (takeover); infos['overridden'] marks them."
        )
    if dropped:
        description += f" {len(dropped)} episode(s) were left out for lack of a final observation."
    result: dict[str, Any] = {
        "dataset_id": dataset_id,
        "minari_version": minari_version,
        "description": description,
        "ainimal_zookeeper": {
            "recording_id": recording_id,
            "dropped_episodes": dropped,
            "overridden_steps": overridden,
        },
    }
    if metadata.get("author"):
        result["author"] = {str(metadata["author"])}
    return result
