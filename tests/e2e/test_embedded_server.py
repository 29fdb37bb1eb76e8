"""End to end: the real server over HTTP, with real worker processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support import ServerProcess, pid_alive, wait_for

HERE = Path(__file__).parent
INSTANCE_FIELDS = (
    "id status mode step episode metrics error modes worker parameters model { name } environment { name }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(HERE / "zoo.yaml", tmp_path_factory.mktemp("zk") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def launch(server, model="Counter", mode="INFER", parameters=None, checkpoint=None, environment="CartPole"):
    data = server.gql(
        f"mutation($input: LaunchInput!) {{ launch(input: $input) {{ {INSTANCE_FIELDS} }} }}",
        {
            "input": {
                "model": model,
                "environment": environment,
                "mode": mode,
                "parameters": parameters,
                "checkpoint": checkpoint,
                "seed": 7,
            }
        },
    )
    return data["launch"]


def get(server, instance_id):
    return server.gql(
        f"query($id: ID!) {{ instance(id: $id) {{ {INSTANCE_FIELDS} checkpoints {{ id tag step parent {{ id }} }} parentCheckpoint {{ id }} }} }}",
        {"id": instance_id},
    )["instance"]


def control(server, verb, instance_id, **extra):
    args = "".join(f", {k}: {v}" for k, v in extra.items())
    return server.gql(f'mutation {{ {verb}(id: "{instance_id}"{args}) {{ {INSTANCE_FIELDS} }} }}')[verb]


def terminate(server, instance_id):
    return control(server, "terminate", instance_id)


def step_of(server, instance_id):
    return get(server, instance_id)["step"]


def test_catalog_lists_models_with_parameters_modes_and_env_modalities(server):
    data = server.gql(
        "{ models { name kind trainable modes checkpointable error parameters { name type default range choices } } environments { name kind observationModalities actionModalities } }"
    )
    models = {m["name"]: m for m in data["models"]}
    assert models["Counter"]["parameters"] == [
        {"name": "start", "type": "int", "default": 0, "range": [0.0, 10.0], "choices": None},
        {"name": "label", "type": "choice", "default": "a", "range": None, "choices": ["a", "b"]},
    ]
    assert models["Counter"]["modes"] == ["INFER", "TRAIN", "BOTH", "NONE"] and models["Counter"]["checkpointable"]
    assert models["Balancer"]["kind"] == "python_class"
    assert models["Balancer"]["modes"] == ["INFER", "NONE"] and not models["Balancer"]["trainable"]
    cartpole = {e["name"]: e for e in data["environments"]}["CartPole"]
    assert cartpole["actionModalities"]["action"]["kind"] == "discrete"
    assert cartpole["actionModalities"]["action"]["n"] == 2
    assert cartpole["observationModalities"]["observation"]["shape"] == [4]


def test_launched_agent_runs_and_its_step_and_episode_counters_climb(server):
    instance = launch(server, "Balancer")
    assert instance["status"] == "RUNNING", instance
    assert instance["worker"]["pid"] > 0
    first = get(server, instance["id"])
    later = wait_for(
        lambda: (d := get(server, instance["id"]))["step"] > first["step"] + 1000 and d, what="steps advancing"
    )
    assert later["metrics"]["steps_per_second"] > 0
    terminate(server, instance["id"])


def test_training_agent_episode_return_climbs(server):
    instance = launch(server, "Reinforce", mode="INFER", parameters={"seed": 3})

    def metrics():
        return get(server, instance["id"])["metrics"] or {}

    # The untrained policy's level, over at least 20 episodes, before any learning.
    wait_for(lambda: metrics().get("episodes", 0) >= 20, what="20 untrained episodes")
    untrained = metrics()["mean_return"]
    control(server, "setMode", instance["id"], mode="TRAIN")
    target = max(untrained + 100, 300)
    learned = wait_for(
        lambda: (metrics().get("mean_return") or 0) >= target, timeout=60, interval=0.25, what=f"mean return {target}"
    )
    assert learned
    assert metrics()["loss"] is not None
    terminate(server, instance["id"])


def test_pause_stops_the_step_counter_and_resume_restarts_it(server):
    instance = launch(server, "Counter")
    wait_for(lambda: step_of(server, instance["id"]) > 100, what="steps")
    paused = control(server, "pause", instance["id"])
    assert paused["status"] == "PAUSED"
    frozen = step_of(server, instance["id"])
    wait_for(lambda: get(server, instance["id"])["step"] == frozen, timeout=2, what="step settles")
    import time

    time.sleep(0.6)  # longer than the progress interval: a running worker would have moved on
    assert step_of(server, instance["id"]) == frozen
    assert control(server, "pause", instance["id"])["status"] == "PAUSED"  # idempotent
    resumed = control(server, "resume", instance["id"])
    assert resumed["status"] == "RUNNING"
    wait_for(lambda: step_of(server, instance["id"]) > frozen + 100, what="steps after resume")
    terminate(server, instance["id"])


def test_set_mode_switches_live_and_refuses_modes_the_model_lacks(server):
    instance = launch(server, "Counter", mode="INFER")
    assert control(server, "setMode", instance["id"], mode="TRAIN")["mode"] == "TRAIN"
    wait_for(lambda: "loss" in (get(server, instance["id"])["metrics"] or {}), what="a loss once training")
    assert control(server, "setMode", instance["id"], mode="NONE")["mode"] == "NONE"
    idle = wait_for(lambda: (d := get(server, instance["id"]))["mode"] == "NONE" and d, what="mode NONE")
    import time

    time.sleep(0.6)
    assert step_of(server, instance["id"]) == idle["step"]
    terminate(server, instance["id"])
    balancer = launch(server, "Balancer")
    errors = server.errors(f'mutation {{ setMode(id: "{balancer["id"]}", mode: TRAIN) {{ mode }} }}')
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cannot run in mode TRAIN" in errors[0]["message"] and "INFER, NONE" in errors[0]["message"]
    terminate(server, balancer["id"])


def test_checkpoint_restores_into_a_new_instance_that_continues_its_lineage(server):
    source = launch(server, "Counter", mode="TRAIN")
    wait_for(lambda: step_of(server, source["id"]) > 500, what="steps")
    control(server, "pause", source["id"])
    saved = server.gql(
        f'mutation {{ saveCheckpoint(id: "{source["id"]}", tag: "first") {{ id tag step episode sizeBytes parent {{ id }} }} }}'
    )["saveCheckpoint"]
    assert saved["tag"] == "first" and saved["parent"] is None and saved["sizeBytes"] > 0
    assert saved["step"] == step_of(server, source["id"])
    branch = launch(server, "Counter", mode="INFER", checkpoint=saved["id"])
    assert branch["status"] == "RUNNING"
    assert branch["step"] >= saved["step"]
    child = server.gql(f'mutation {{ saveCheckpoint(id: "{branch["id"]}") {{ id tag step parent {{ id tag }} }} }}')[
        "saveCheckpoint"
    ]
    assert child["parent"] == {"id": saved["id"], "tag": "first"}
    assert child["step"] >= saved["step"]
    assert get(server, branch["id"])["parentCheckpoint"] == {"id": saved["id"]}
    terminate(server, source["id"])
    terminate(server, branch["id"])


def test_restore_checkpoint_rewinds_a_running_instance(server):
    instance = launch(server, "Counter")
    wait_for(lambda: step_of(server, instance["id"]) > 200, what="steps")
    control(server, "pause", instance["id"])
    saved = server.gql(f'mutation {{ saveCheckpoint(id: "{instance["id"]}") {{ id step }} }}')["saveCheckpoint"]
    control(server, "resume", instance["id"])
    wait_for(lambda: step_of(server, instance["id"]) > saved["step"] + 2000, what="steps past the checkpoint")
    control(server, "pause", instance["id"])
    restored = server.gql(
        f'mutation {{ restoreCheckpoint(id: "{instance["id"]}", checkpoint: "{saved["id"]}") {{ id step }} }}'
    )["restoreCheckpoint"]
    assert restored["step"] == saved["step"]
    terminate(server, instance["id"])


def test_terminate_ends_the_worker_process_and_later_commands_conflict(server):
    instance = launch(server, "Counter")
    pid = instance["worker"]["pid"]
    ended = terminate(server, instance["id"])
    assert ended["status"] == "TERMINATED"
    wait_for(lambda: not pid_alive(pid), what="worker process gone")
    errors = server.errors(f'mutation {{ pause(id: "{instance["id"]}") {{ status }} }}')
    assert errors[0]["extensions"]["code"] == "CONFLICT" and "TERMINATED" in errors[0]["message"]
    assert terminate(server, instance["id"])["status"] == "TERMINATED"  # idempotent


def test_a_model_that_raises_fails_its_instance_while_the_server_keeps_serving(server):
    healthy = launch(server, "Counter")
    crashing = launch(server, "Crasher", parameters={"crash_after": 20})
    failed = wait_for(lambda: (d := get(server, crashing["id"]))["status"] == "FAILED" and d, what="FAILED")
    assert "forward raised RuntimeError: boom after 20 steps" in failed["error"]
    broken = launch(server, "BrokenConstructor")
    broken = wait_for(lambda: (d := get(server, broken["id"]))["status"] == "FAILED" and d, what="FAILED")
    assert "cannot build this one" in broken["error"]
    before = step_of(server, healthy["id"])
    wait_for(lambda: step_of(server, healthy["id"]) > before + 100, what="healthy instance still stepping")
    terminate(server, healthy["id"])


def test_a_killed_worker_leaves_a_failed_instance_whose_checkpoint_can_be_relaunched(server):
    instance = launch(server, "Counter")
    saved = server.gql(f'mutation {{ saveCheckpoint(id: "{instance["id"]}") {{ id }} }}')["saveCheckpoint"]
    os.kill(instance["worker"]["pid"], signal.SIGKILL)
    failed = wait_for(lambda: (d := get(server, instance["id"]))["status"] == "FAILED" and d, what="FAILED")
    assert "killed by signal 9" in failed["error"]
    relaunched = launch(server, "Counter", checkpoint=saved["id"])
    assert relaunched["status"] == "RUNNING"
    terminate(server, relaunched["id"])


def test_bad_parameters_are_refused_before_any_worker_starts(server):
    count = len(server.gql("{ instances { id } }")["instances"])
    errors = server.errors(
        'mutation { launch(input: {model: "Counter", environment: "CartPole", parameters: {start: 99, label: "z", nope: 1}}) { id } }'
    )
    message = errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "start" in message and "label" in message and "nope" in message
    assert len(server.gql("{ instances { id } }")["instances"]) == count


def test_max_instances_per_model_is_enforced_with_a_clear_error(server):
    first, second = launch(server, "Counter"), launch(server, "Counter")
    errors = server.errors('mutation { launch(input: {model: "Counter", environment: "CartPole"}) { id } }')
    assert errors[0]["extensions"]["code"] == "LIMIT_REACHED"
    assert "at most 2" in errors[0]["message"] and "max_instances" in errors[0]["message"]
    terminate(server, first["id"])
    third = launch(server, "Counter")
    terminate(server, second["id"])
    terminate(server, third["id"])


def test_unknown_ids_and_names_get_not_found_or_null(server):
    assert server.gql('{ instance(id: "nope") { id } }')["instance"] is None
    for mutation in ('pause(id: "nope") { id }', 'launch(input: {model: "Nope"}) { id }'):
        errors = server.errors(f"mutation {{ {mutation} }}")
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    errors = server.errors('mutation { launch(input: {model: "Counter", environment: "Atlantis"}) { id } }')
    assert "unknown environment 'Atlantis'" in errors[0]["message"] and "CartPole" in errors[0]["message"]


def test_malformed_requests_get_clear_errors_and_the_server_keeps_serving(server):
    response = server.post("{ instances { id ")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    response = server.post("{ instances { nonsense } }")
    assert response.status_code == 400 and "nonsense" in response.json()["errors"][0]["message"]
    response = server.http.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["errors"][0]["message"]
    response = server.http.post(
        "/graphql", content=b"query={me{username}}", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    response = server.http.post(
        "/graphql", content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    response = server.http.get("/graphql", params={"query": 'mutation { pause(id: "x") { id } }'})
    assert response.status_code == 405
    assert server.gql("{ me { username permissions } }")["me"]["permissions"]["launch"] is True


def test_a_second_server_on_a_busy_port_says_so(server, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ainimal_zookeeper.server", "--port", str(server.port), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"port {server.port}" in result.stderr and "already in use" in result.stderr
