"""State survives a restart of the server; instances whose workers are gone are FAILED."""

from __future__ import annotations

import signal
from pathlib import Path

from support import ServerProcess, pid_alive, wait_for

HERE = Path(__file__).parent


def test_restart_keeps_instances_and_checkpoints_and_marks_lost_workers_failed(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(HERE / "zoo.yaml", data)
    launched = first.gql('mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id worker } }')[
        "launch"
    ]
    checkpoint = first.gql(f'mutation {{ saveCheckpoint(id: "{launched["id"]}", tag: "keep") {{ id }} }}')[
        "saveCheckpoint"
    ]
    ended = first.gql('mutation { launch(input: {model: "Balancer", environment: "CartPole"}) { id } }')["launch"]
    first.gql(f'mutation {{ terminate(id: "{ended["id"]}") {{ status }} }}')
    # A crash of the control plane: no chance to stop its workers.
    first.stop(signal.SIGKILL)
    wait_for(lambda: not pid_alive(launched["worker"]["pid"]), timeout=10, what="orphaned worker stopping")

    second = ServerProcess(HERE / "zoo.yaml", data)
    try:
        instances = {
            i["id"]: i for i in second.gql("{ instances { id status error checkpoints { id tag } } }")["instances"]
        }
        assert instances[ended["id"]]["status"] == "TERMINATED"
        lost = instances[launched["id"]]
        assert lost["status"] == "FAILED" and "worker lost" in lost["error"]
        assert lost["checkpoints"] == [{"id": checkpoint["id"], "tag": "keep"}]
        relaunched = second.gql(
            f'mutation {{ launch(input: {{model: "Counter", environment: "CartPole", checkpoint: "{checkpoint["id"]}"}}) {{ id status }} }}'
        )["launch"]
        assert relaunched["status"] == "RUNNING"
    finally:
        assert second.stop() == 0


def test_a_terminated_server_stops_its_workers_and_records_why(tmp_path):
    data = tmp_path / "data"
    first = ServerProcess(HERE / "zoo.yaml", data)
    launched = first.gql('mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id worker } }')[
        "launch"
    ]
    assert first.stop(signal.SIGTERM) == 0, first.log()
    assert not pid_alive(launched["worker"]["pid"])
    second = ServerProcess(HERE / "zoo.yaml", data)
    try:
        stopped = second.gql(f'{{ instance(id: "{launched["id"]}") {{ status error }} }}')["instance"]
        assert stopped == {"status": "TERMINATED", "error": "stopped when the server shut down"}
    finally:
        assert second.stop() == 0
