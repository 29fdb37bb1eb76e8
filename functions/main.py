"""Cloud Function entry: serves the zookeeper's GraphQL API through functions-framework.

Deploy: see docs/deploy.md. The app is built once per instance, lazily on the first request
(no work at import time), from the config file named by ZK_CONFIG.
"""

from __future__ import annotations

import functools
import os

from functions_framework import aio
from starlette.requests import Request
from starlette.responses import Response


@functools.cache
def _endpoint():  # GraphQLEndpoint, imported lazily
    from pathlib import Path

    from ainimal_zookeeper.bootstrap import build_embedded
    from ainimal_zookeeper.config import load_config

    config_path = os.environ.get("ZK_CONFIG")
    if not config_path:
        raise RuntimeError("ZK_CONFIG is not set: point it at the zookeeper's YAML config file")
    data_dir = Path(os.environ.get("ZK_DATA_DIR", "/tmp/zookeeper-data"))
    return build_embedded(load_config(config_path), data_dir).endpoint


@aio.http
async def graphql(request: Request) -> Response:
    """POST /graphql with a JSON GraphQL request (GET for queries)."""
    return await _endpoint().handle(request)
