"""The framework agents' snippet of docs/configuration.md validates, names every framework type,
and its Stable-Baselines3 and Lightning entries run with the bundled examples."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.factory import build_agent
from ainimal_zookeeper.config import config_from_dict

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "configuration.md"


def framework_snippet() -> dict:
    text = DOC.read_text()
    section = text[text.index("### Framework agents") : text.index("### Secrets")]
    return yaml.safe_load(re.findall(r"```yaml\n(.*?)```", section, re.S)[0])


def test_the_snippet_validates_and_shows_each_framework_type(tmp_path):
    config = config_from_dict(framework_snippet(), base_dir=tmp_path)
    assert [m.type for m in config.models] == ["sb3", "lightning", "tf_agents", "acme"]


@pytest.mark.parametrize("alias", ["ptl.Module", "tfagents.Agent", "acme.Agent", "stable_baselines3", "sb3"])
def test_the_type_names_of_the_original_idea_are_accepted(alias, tmp_path):
    entry = {"name": "m", "type": alias, "path": "x.py", "class_name": "C"}
    config_from_dict({"models": [entry]}, base_dir=tmp_path)


def test_a_framework_type_without_class_name_says_it_needs_one(tmp_path):
    from ainimal_zookeeper.errors import ConfigError

    with pytest.raises(ConfigError, match="needs path and class_name"):
        config_from_dict({"models": [{"name": "m", "type": "sb3", "path": "a.zip"}]}, base_dir=tmp_path)


def test_the_snippets_sb3_and_lightning_entries_run_with_the_bundled_examples(tmp_path):
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("lightning")
    spec = importlib.util.spec_from_file_location("make_sb3_policy", ROOT / "examples" / "make_sb3_policy.py")
    assert spec is not None and spec.loader is not None
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    maker.build(tmp_path / "ppo_cartpole.zip")
    shutil.copy(ROOT / "examples" / "lightning_cartpole.py", tmp_path / "lightning_cartpole.py")
    config = config_from_dict(framework_snippet(), base_dir=tmp_path)
    entries = [m.model_dump() for m in config.models[:2]]
    catalog = Catalog(entries, [], [])
    for entry in entries:
        assert catalog.model(entry["name"]).spec["error"] is None
        agent = build_agent(entry, dict(entry["init_params"] or {}))
        agent.discrete_actions = True
        assert agent.forward({"observation": np.zeros(4, np.float32)})["action"] in (0, 1)
