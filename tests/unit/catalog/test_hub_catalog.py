"""The catalog lists the models of every model hub, shows their source, and survives hubs that fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.hub_entries import read_manifest
from ainimal_zookeeper.errors import ConfigError, InvalidInput, Unavailable
from ainimal_zookeeper.ports.model_hubs import HubModel
from hub_support import MODEL_FILES, write_files


class FolderHub:
    """An in-memory hub over folders, counting fetches and failing on demand."""

    git_backed = False

    def __init__(self, label: str, folders: dict[str, Path], fail_list: bool = False) -> None:
        self.label, self.folders, self.fail_list = label, folders, fail_list
        self.fetches = 0
        self.fail_fetch = False

    def list_models(self) -> list[HubModel]:
        if self.fail_list:
            raise Unavailable(f"model hub {self.label}: connection refused")
        return [HubModel(name, "r1", f"{name} from {self.label}") for name in self.folders]

    def fetch(self, model: str, revision: str | None = None) -> Path:
        self.fetches += 1
        if self.fail_fetch:
            raise Unavailable(f"model hub {self.label}: timed out")
        return self.folders[model]


@pytest.fixture
def pusher(tmp_path: Path) -> Path:
    write_files(tmp_path / "pusher", MODEL_FILES)
    return tmp_path / "pusher"


def test_hub_models_are_listed_with_their_source_beside_the_configs_own(pusher, caplog):
    good = FolderHub("test:good", {"pusher": pusher})
    down = FolderHub("test:down", {"other": pusher}, fail_list=True)
    catalog = Catalog([], [], [], model_hubs=[down, good])
    specs = {e.name: e.spec for e in catalog.models()}
    assert specs["pusher"]["source"] == "test:good#pusher@r1" and specs["pusher"]["error"] is None
    assert specs["pusher"]["description"] == "pushes right, from a hub"
    assert catalog.hub_problems == {"test:down": "model hub test:down: connection refused"}
    assert "test:down is unavailable" in caplog.text


def test_a_model_that_cannot_be_fetched_is_listed_as_unavailable_saying_which_hub_and_why(pusher):
    hub = FolderHub("test:flaky", {"pusher": pusher})
    hub.fail_fetch = True
    catalog = Catalog([], [], [], model_hubs=[hub])
    spec = catalog.model("pusher").spec
    assert spec["error"] == "model hub test:flaky cannot fetch it: timed out"
    with pytest.raises(InvalidInput, match="'pusher' cannot be launched"):
        catalog.plan_launch("pusher", None, None, None)


def test_a_launch_of_a_hub_model_fetches_it_again_through_the_hub(pusher):
    hub = FolderHub("test:good", {"pusher": pusher})
    catalog = Catalog([], [], [], model_hubs=[hub])
    plan = catalog.plan_launch("pusher", None, None, None)
    assert plan.model.config["class_name"] == "HubPusher" and hub.fetches == 2
    hub.fail_fetch = True  # the hub went away after the listing: the launch says so
    with pytest.raises(InvalidInput, match="cannot be launched: model hub test:good: timed out"):
        catalog.plan_launch("pusher", None, None, None)


def test_a_manifest_may_not_point_outside_its_folder(tmp_path):
    write_files(tmp_path / "m", {"ainimal.yaml": "type: ainimal\npath: ../evil.py\nclass_name: X\n"})
    (tmp_path / "evil.py").write_text("")
    with pytest.raises(ConfigError, match="leaves the model's folder"):
        read_manifest(tmp_path / "m" / "ainimal.yaml", "m", None)


def test_a_manifest_with_a_typo_or_the_wrong_shape_says_what_is_wrong(tmp_path):
    write_files(tmp_path / "m", {"ainimal.yaml": "type: ainimal\npath: a.py\nclas_name: X\n"})
    with pytest.raises(ConfigError, match="ainimal.yaml: .*clas_name"):
        read_manifest(tmp_path / "m" / "ainimal.yaml", "m", None)
    (tmp_path / "m" / "ainimal.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        read_manifest(tmp_path / "m" / "ainimal.yaml", "m", None)
    (tmp_path / "m" / "ainimal.yaml").write_text("x: " + "y" * 70_000)
    with pytest.raises(ConfigError, match="larger than"):
        read_manifest(tmp_path / "m" / "ainimal.yaml", "m", None)
