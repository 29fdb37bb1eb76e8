"""The in-memory model hub passes the ModelHub contract."""

from __future__ import annotations

from ainimal_zookeeper.adapters.memory import InMemoryModelHub

from contracts.model_hubs import MODEL_FILES, ModelHubContract


class TestInMemoryModelHub(ModelHubContract):
    def make_hub(self, tmp_path, bound=None):
        hub = InMemoryModelHub(tmp_path / "cache", {self.model_name: MODEL_FILES}, bound=bound)
        self.network_calls = lambda: hub.calls
        return hub

    def make_unreachable_hub(self, tmp_path):
        hub = InMemoryModelHub(tmp_path / "cache", {self.model_name: MODEL_FILES})
        hub.reachable = False
        return hub

    def test_a_new_revision_is_listed_and_fetched_beside_the_old_one(self, hub):
        old = hub.fetch(self.model_name)
        revision = hub.publish(self.model_name, {**MODEL_FILES, "notes.txt": "v2"})
        assert hub.list_models()[0].revision == revision
        new = hub.fetch(self.model_name, revision)
        assert new != old and (new / "notes.txt").read_text() == "v2" and not (old / "notes.txt").exists()
