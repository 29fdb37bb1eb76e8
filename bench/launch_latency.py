"""Launch to RUNNING through the GraphQL API of the embedded server: one instance, then
twenty launched at once (each `launch` returns once its worker reports RUNNING).

Run: .venv/bin/python bench/launch_latency.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
PORT = 18083
LAUNCH = 'mutation { launch(input: {model: "Balancer", environment: "CartPole"}) { id status } }'


def launch(client: httpx.Client) -> float:
    start = time.perf_counter()
    body = client.post("/graphql", json={"query": LAUNCH}).json()
    status = body["data"]["launch"]["status"]
    if status != "RUNNING":
        raise RuntimeError(f"launch ended {status}: {body}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        (Path(data) / "zoo.yaml").write_text(
            (BENCH.parent / "examples" / "zoo.yaml")
            .read_text()
            .replace("max_models: 8", "max_models: 64")
            .replace("max_envs: 8", "max_envs: 64")
        )
        config = Path(data) / "zoo.yaml"
        text = config.read_text().replace("./", str(BENCH.parent / "examples") + "/")
        config.write_text(text)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ainimal_zookeeper.server",
                f"--port={PORT}",
                f"--data={data}/d",
                f"--config={config}",
                "--log-level=warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60)
            started = time.perf_counter()
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.02)
            first_answer = time.perf_counter() - started
            time.sleep(2)  # let the fork server finish its imports, as it does after a start
            one = launch(client)
            with ThreadPoolExecutor(20) as pool:
                start = time.perf_counter()
                each = list(
                    pool.map(lambda _: launch(httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60)), range(20))
                )
                twenty = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(60)
    print(f"server start to first answer {first_answer:.2f} s (target <= 1.5 s)")
    print(
        f"launch to RUNNING: one instance {one * 1000:.0f} ms (target <= 500 ms); "
        f"twenty at once {twenty:.2f} s, slowest {max(each):.2f} s (target <= 5 s)"
    )


if __name__ == "__main__":
    main()
