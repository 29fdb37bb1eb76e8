"""An embedded zoo (real service, local adapters) served in-process through its ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ainimal_zookeeper.bootstrap import ControlPlane, build_embedded
from ainimal_zookeeper.config import config_from_dict

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: What a client following GraphQL over HTTP sends.
MODERN = "application/graphql-response+json, application/json;q=0.9"


@contextmanager
def embedded_zoo(data_dir: Path) -> Iterator[ControlPlane]:
    """An open zoo with CartPole and a plain-class model; closed (workers stopped) on exit."""
    config = config_from_dict(
        {
            "no_auth": True,
            "envs": [{"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}],
            "models": [
                {
                    "name": "Balancer",
                    "type": "python_class",
                    "path": str(EXAMPLES / "plain_agent.py"),
                    "class_name": "BalancingController",
                }
            ],
        }
    )
    plane = build_embedded(config, data_dir)
    try:
        yield plane
    finally:
        plane.close()
