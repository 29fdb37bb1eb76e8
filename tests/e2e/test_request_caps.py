"""One client cannot hold every request thread: over real HTTP, its requests past its cap are refused.

Each pause sent to a worker stuck in user code waits the command timeout (5 s) on one of the
server's request threads. A client may have `server.max_requests_per_address` (3 here) of them
running; its next request is refused at once with HTTP 429, and its slots come back as its
requests end.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from support import ServerProcess, launch_running, terminate, wait_for

AGENTS = Path(__file__).resolve().parent.parent / "fixtures" / "agents.py"
PAUSE = 'mutation { pause(id: "%s") { id status } }'


def test_a_client_at_its_cap_of_running_requests_is_refused_at_once_and_its_slots_come_back(tmp_path: Path) -> None:
    config = tmp_path / "zoo.yaml"
    config.write_text(
        "no_auth: true\nserver: {max_requests_per_address: 3}\nworkers: {stop_grace_seconds: 1}\n"
        "envs:\n  - {name: CartPole, type: gymnasium, env_name: CartPole-v1}\n"
        f"models:\n  - {{name: Hanging, type: ainimal, path: '{AGENTS}', class_name: HangingAgent}}\n"
    )
    server = ServerProcess(config, tmp_path / "data")
    try:
        parameters = {"hang_after": 0}  # its first forward never returns: no command is ever confirmed
        instance = launch_running(server, {"model": "Hanging", "environment": "CartPole", "parameters": parameters})
        with ThreadPoolExecutor(max_workers=3) as pool:
            pauses = [pool.submit(server.post, PAUSE % instance["id"]) for _ in range(3)]
            refused = wait_for(
                lambda: (answer := server.post("{ __typename }")).status_code == 429 and answer,
                timeout=4,
                interval=0.02,
                what="a refusal while three pauses wait",
            )
            assert not all(pause.done() for pause in pauses)  # refused while they still wait
            answers = [pause.result(timeout=30) for pause in pauses]
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["errors"] == [
            {
                "message": "your address already has 3 requests running, the most allowed: "
                "wait for one to finish, then send more",
                "extensions": {"code": "LIMIT_REACHED"},
            }
        ]
        # Each waiting pause ended with the worker's silence, not with the cap.
        assert [a.json()["errors"][0]["extensions"]["code"] for a in answers] == ["UNAVAILABLE"] * 3
        assert server.post("{ __typename }").json() == {"data": {"__typename": "Query"}}  # the slots came back
        terminate(server, instance["id"])
    finally:
        assert server.stop() == 0
