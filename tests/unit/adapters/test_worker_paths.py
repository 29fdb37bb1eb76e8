"""WorkerPaths: catalog paths on the control plane become paths in the worker image, or a clear error."""

from __future__ import annotations

import pytest

from ainimal_zookeeper.adapters.worker_paths import WorkerPaths
from ainimal_zookeeper.errors import ConfigError
from ainimal_zookeeper.ports.compute import WorkerSpec


def spec(model_path=None, env_path=None, environment=True):
    return WorkerSpec(
        instance_id="i1",
        model={"name": "Walker", "type": "ainimal", "path": model_path, "class_name": "Walker"},
        environment=(
            {"name": "Maze", "type": "ainimal", "path": env_path, "class_name": "Maze"} if environment else None
        ),
        init_params={"hidden": 8},
        env_init_params={},
        mode="TRAIN",
        connection={"bus": {"type": "pubsub"}},
        seed=3,
    )


def test_paths_under_the_catalog_root_keep_their_place_under_the_worker_root(tmp_path):
    paths = WorkerPaths(tmp_path / "catalog", "/app/catalog")
    original = spec(str(tmp_path / "catalog/agents/walker.py"), str(tmp_path / "catalog/envs/maze.py"))
    mapped = paths.for_worker(original)
    assert mapped.model["path"] == "/app/catalog/agents/walker.py"
    assert mapped.environment["path"] == "/app/catalog/envs/maze.py"
    assert mapped.model["class_name"] == "Walker" and mapped.init_params == {"hidden": 8}
    assert original.model["path"] == str(tmp_path / "catalog/agents/walker.py")  # the spec is not changed


def test_entries_without_a_path_and_specs_without_an_environment_pass_unchanged(tmp_path):
    paths = WorkerPaths(tmp_path, "/app/catalog")
    gym = spec(str(tmp_path / "a.py"))
    gym.environment.update(path=None, type="gymnasium", env_name="CartPole-v1")
    assert paths.for_worker(gym).environment == gym.environment
    assert paths.for_worker(spec(str(tmp_path / "a.py"), environment=False)).environment is None


def test_relative_paths_are_taken_against_the_catalog_root(tmp_path):
    paths = WorkerPaths(tmp_path, "/app/catalog")
    assert paths.path("agents/./walker.py") == "/app/catalog/agents/walker.py"


@pytest.mark.parametrize("stray", ["/srv/other/agent.py", "../outside.py", "catalog/../../escape.py"])
def test_a_path_outside_the_catalog_root_is_a_config_error_naming_the_entry_and_the_fix(tmp_path, stray):
    paths = WorkerPaths(tmp_path / "catalog", "/app/catalog")
    with pytest.raises(ConfigError) as raised:
        paths.for_worker(spec(stray))
    message = str(raised.value)
    assert "model 'Walker' path" in message and "outside the catalog root" in message
    assert "/app/catalog" in message and "gcp.catalog_root" in message


def test_the_worker_root_must_be_absolute(tmp_path):
    with pytest.raises(ConfigError, match="absolute"):
        WorkerPaths(tmp_path, "app/catalog")
