"""functions/main.py serves the same GraphQL app through functions-framework.

This runs the real functions-framework server locally (what `gcloud functions deploy` runs);
only the GCP control plane around it is absent, and the state behind it is the local one
until the cloud adapters land.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from support import REPO, free_port


def test_the_function_entry_answers_queries_and_launches(tmp_path):
    port = free_port()
    env = {**os.environ, "ZK_CONFIG": str(REPO / "tests" / "e2e" / "zoo.yaml"), "ZK_DATA_DIR": str(tmp_path / "data")}
    binary = Path(sys.executable).parent / "functions-framework"
    args = [str(binary), "--target=graphql", f"--source={REPO / 'functions' / 'main.py'}", f"--port={port}"]
    log = open(tmp_path / "function.log", "wb")  # closed in finally
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        body = None
        deadline = time.monotonic() + 30
        while body is None and time.monotonic() < deadline:
            try:
                body = httpx.post(url, json={"query": "{ me { username } models { name } }"}, timeout=30).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert body is not None, "functions-framework did not answer"
        assert body["data"]["me"] == {"username": "local"}
        assert "Counter" in [m["name"] for m in body["data"]["models"]]
        launched = httpx.post(
            url,
            json={"query": 'mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id status } }'},
            timeout=30,
        ).json()["data"]["launch"]
        assert launched["status"] == "RUNNING"
        refused = httpx.post(url, content=b"query=1", headers={"content-type": "text/plain"}, timeout=30)
        assert refused.status_code == 415
    finally:
        process.terminate()
        process.wait(30)
        log.close()
