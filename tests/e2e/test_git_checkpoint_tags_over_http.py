"""Checkpoints of a model from a `git` hub with push: true become tags in its repository, over HTTP.

The remote is a bare repository made here; another clone plays someone pushing a tag from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from hub_support import git, make_git_repo

from support import ServerProcess, launch_running, terminate, wait_for

COUNTER_SOURCE = '''"""A hub model that counts its steps and saves the count."""
import json
from pathlib import Path

from ainimal_zookeeper import AInimal


class HubCounter(AInimal):
    """Pushes right; its state is how many steps it took (saved and loaded as count.json)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, inputs):
        self.calls += 1
        return {"action": 1}

    def save(self, path):
        Path(path, "count.json").write_text(json.dumps({"calls": self.calls}))

    def load(self, path):
        self.calls = json.loads(Path(path, "count.json").read_text())["calls"]

    @property
    def state(self):
        return {"calls": self.calls}
'''
FILES = {
    "counter.py": COUNTER_SOURCE,
    "ainimal.yaml": "type: ainimal\npath: counter.py\nclass_name: HubCounter\ndescription: counts, from a hub\n",
}
SAVE = "mutation($id: ID!, $tag: String) { saveCheckpoint(id: $id, tag: $tag) { id tag step parent { id } gitTag gitCommit gitPushed gitLfs } }"


def test_two_checkpoints_of_a_git_hub_model_are_pushed_tags_in_a_chain_and_a_tag_from_elsewhere_launches(tmp_path):
    url, base = make_git_repo(tmp_path / "remote", "counter", FILES)
    bare = Path(url.removeprefix("file://"))
    config = tmp_path / "zoo.yaml"
    config.write_text(
        "no_auth: true\n"
        "envs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        f"model_hubs:\n  - {{type: git, url: '{url}', push: true}}\n"
    )
    server = ServerProcess(config, tmp_path / "data")
    try:
        instance = launch_running(server, {"model": "counter", "environment": "CartPole", "mode": "INFER"})
        first = server.gql(SAVE, {"id": instance["id"], "tag": "run/first"})["saveCheckpoint"]
        second = server.gql(SAVE, {"id": instance["id"], "tag": "run/second"})["saveCheckpoint"]
        terminate(server, instance["id"])
        assert first["gitTag"] == "run/first" and first["gitPushed"] is True and first["gitLfs"] is False
        assert second["parent"] == {"id": first["id"]}
        # The remote holds both tags, chained: the second's commit sits on the first's, the first's on main.
        assert git("tag", "--list", cwd=bare).split() == ["run/first", "run/second"]
        assert git("rev-parse", "run/second^{commit}^1", cwd=bare) == first["gitCommit"]
        assert git("rev-parse", "run/first^{commit}^1", cwd=bare) == base
        assert git("rev-parse", "main", cwd=bare) == base  # no branch moved
        saved_count = git("show", "run/second:zookeeper-checkpoint/model/count.json", cwd=bare)
        assert '"calls"' in saved_count
        harness = git("show", "run/second:zookeeper-checkpoint/zookeeper.json", cwd=bare)
        assert f'"step": {second["step"]}' in harness
        # A bad tag and a tag that exists: clear errors, nothing lost.
        again = launch_running(server, {"model": "counter", "environment": "CartPole"})
        bad = server.errors(SAVE, {"id": again["id"], "tag": "two words"})
        assert bad[0]["extensions"]["code"] == "BAD_USER_INPUT" and "'two words'" in bad[0]["message"]
        taken = server.errors(SAVE, {"id": again["id"], "tag": "run/first"})
        assert "tag 'run/first' already exists in git:" in taken[0]["message"]
        terminate(server, again["id"])

        # Someone else commits on the second tag and pushes a tag of their own.
        elsewhere = tmp_path / "elsewhere"
        git("clone", "--quiet", url, str(elsewhere), cwd=tmp_path)
        git("checkout", "--quiet", "run/second", cwd=elsewhere)
        (elsewhere / "zookeeper-checkpoint" / "model" / "count.json").write_text('{"calls": 50000}')
        git("commit", "--quiet", "-am", "a count from elsewhere", cwd=elsewhere)
        git("tag", "from-elsewhere", cwd=elsewhere)
        git("push", "--quiet", "origin", "from-elsewhere", cwd=elsewhere)

        fields = "id status step headCheckpoint { id tag gitCommit parent { id } }"
        launched = launch_running(
            server, {"model": "counter", "environment": "CartPole", "revision": "from-elsewhere"}, fields
        )
        head = launched["headCheckpoint"]
        assert head["tag"] == "from-elsewhere" and head["parent"] == {"id": second["id"]}
        assert head["gitCommit"] == git("rev-parse", "from-elsewhere^{commit}", cwd=bare)
        assert launched["step"] >= second["step"]
        state = wait_for(
            lambda: (s := server.gql(f'{{ instance(id: "{launched["id"]}") {{ state }} }}')["instance"]["state"]) and s,
            what="the instance's state",
        )
        assert state["calls"] >= 50000  # loaded from the tagged tree's checkpoint
        terminate(server, launched["id"])
    finally:
        assert server.stop() == 0
