"""Every model hub snippet of docs/configuration.md is a config this build accepts."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ainimal_zookeeper.config import config_from_dict
from ainimal_zookeeper.config.model import SUPPORTED_HUB_TYPES

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def hub_snippets() -> list[dict]:
    text = DOC.read_text()
    section = text[text.index("### Model hubs") : text.index("## The Python form")]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    return [b for b in blocks if "model_hubs" in b]


def test_each_hub_type_has_a_documented_snippet_that_validates(tmp_path):
    seen = set()
    for snippet in hub_snippets():
        config = config_from_dict(snippet, base_dir=tmp_path)
        seen |= {hub.type for hub in config.model_hubs}
    assert seen == set(SUPPORTED_HUB_TYPES)
