"""torch is an optional extra: the core imports and serves without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_core_imports_and_builds_the_server_without_torch(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any "import torch" now raises ImportError
        import ainimal_zookeeper
        from ainimal_zookeeper.bootstrap import build_embedded
        from ainimal_zookeeper.config import config_from_dict
        import ainimal_zookeeper.worker.runtime
        config = config_from_dict({{"no_auth": True, "envs": [{{"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}}]}})
        app = build_embedded(config, __import__("pathlib").Path({str(tmp_path)!r}))
        specs = [e.spec for e in app.zookeeper.catalog.environments()]
        app.close()
        assert specs[0]["error"] is None, specs
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
