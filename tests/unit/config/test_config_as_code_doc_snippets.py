"""Every Python snippet of docs/configuration.md's "The Python form" builds a config this build accepts."""

from __future__ import annotations

import re
from pathlib import Path

from ainimal_zookeeper.config import ZookeeperConfig

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def python_snippets() -> list[str]:
    text = DOC.read_text()
    section = text[text.index("## The Python form") :]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_each_python_form_snippet_builds_a_valid_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZK_JWT_SECRET", "j" * 40)
    monkeypatch.setenv("ZK_GOOGLE_CLIENT_ID", "client.apps.googleusercontent.com")
    snippets = python_snippets()
    assert len(snippets) >= 2
    for snippet in snippets:
        # Building is what is checked here; serving is tests/e2e/test_config_as_code_over_http.py's.
        built: dict = {}
        exec(snippet.replace(").run()", ").config"), built)  # the project's own docs
        servers = [value for value in built.values() if type(value).__name__ == "Server"]
        for server in servers:
            assert isinstance(server.config, ZookeeperConfig)
    assert "GkeComputeProvider" in snippets[-1]
