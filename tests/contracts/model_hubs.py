"""The ModelHub contract: what every model hub adapter does, over a backend holding one model.

Run against the git, github, huggingface, S3 and GCS hubs (over stand-ins) and the in-memory hub.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ainimal_zookeeper.adapters.hubs.cache import FetchBound
from ainimal_zookeeper.catalog.hub_entries import read_model_folder
from ainimal_zookeeper.errors import NotFound, Unavailable
from ainimal_zookeeper.ports.model_hubs import ModelHub

#: A model as a hub holds it: an AInimal's source and the ainimal.yaml naming it.
AGENT_SOURCE = '''"""A hub model that always pushes right."""
from ainimal_zookeeper import AInimal


class HubPusher(AInimal):
    """Always pushes the cart right."""

    def forward(self, inputs):
        return {"action": 1}
'''
MANIFEST = "type: ainimal\npath: pusher.py\nclass_name: HubPusher\ndescription: pushes right, from a hub\n"
MODEL_FILES = {"pusher.py": AGENT_SOURCE, "ainimal.yaml": MANIFEST}


class ModelHubContract:
    """What every ModelHub adapter must do; a subclass makes the hub over its backend.

    The backend holds one model called `model_name` with MODEL_FILES. `network_calls()` counts the
    backend's requests, so a cache hit can be seen doing none.
    """

    model_name = "pusher"

    def make_hub(self, tmp_path: Path, bound: FetchBound | None = None) -> ModelHub:
        """The hub over its backend, its cache bounded by `bound` (the default bound when None)."""
        raise NotImplementedError

    def make_unreachable_hub(self, tmp_path: Path) -> ModelHub:
        raise NotImplementedError

    network_calls: Callable[[], int]

    @pytest.fixture
    def hub(self, tmp_path: Path) -> ModelHub:
        return self.make_hub(tmp_path)

    def test_the_hub_lists_its_model_with_a_revision(self, hub: ModelHub) -> None:
        listed = {m.name: m for m in hub.list_models()}
        assert self.model_name in listed and listed[self.model_name].revision

    def test_a_fetched_model_folder_holds_the_models_files_and_reads_as_a_catalog_entry(self, hub: ModelHub) -> None:
        model = next(m for m in hub.list_models() if m.name == self.model_name)
        folder = hub.fetch(model.name, model.revision)
        assert (folder / "pusher.py").read_text() == AGENT_SOURCE
        models, _ = read_model_folder(folder, model.name, None)
        assert [(m["name"], m["class_name"]) for m in models] == [(self.model_name, "HubPusher")]
        assert Path(models[0]["path"]) == (folder / "pusher.py").resolve()

    def test_a_second_fetch_of_the_same_revision_uses_the_cache_without_network_work(self, hub: ModelHub) -> None:
        model = next(m for m in hub.list_models() if m.name == self.model_name)
        first = hub.fetch(model.name, model.revision)
        before = self.network_calls()
        assert hub.fetch(model.name, model.revision) == first
        assert self.network_calls() == before

    def test_an_unknown_model_is_not_found(self, hub: ModelHub) -> None:
        with pytest.raises(NotFound):
            hub.fetch("no-such-model", None)

    def test_an_unreachable_hub_says_which_hub_and_why(self, tmp_path: Path) -> None:
        hub = self.make_unreachable_hub(tmp_path)
        with pytest.raises(Unavailable, match="model hub") as caught:
            hub.list_models()
        assert hub.label in str(caught.value)

    def test_a_model_larger_than_the_hubs_bound_is_refused_and_nothing_of_it_is_kept(self, tmp_path: Path) -> None:
        """The model's source alone is larger than 100 bytes; a bound on files refuses it too."""
        for bound, said in ((FetchBound(max_bytes=100), "100 bytes"), (FetchBound(max_files=1), "1 files")):
            hub = self.make_hub(tmp_path / said.replace(" ", "-"), bound)
            model = next(m for m in hub.list_models() if m.name == self.model_name)
            with pytest.raises(Unavailable, match="larger than this hub allows") as caught:
                hub.fetch(model.name, model.revision)
            assert said in str(caught.value) and hub.label in str(caught.value)
            with pytest.raises(Unavailable, match="larger than this hub allows"):  # not kept in the cache...
                hub.fetch(model.name, model.revision)
            assert not list(tmp_path.rglob(".fetch-*"))  # ...nor left half-fetched
