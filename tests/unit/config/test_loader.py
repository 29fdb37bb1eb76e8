"""load_config / config_from_dict: YAML and JSON files, validation and its messages."""

import json
from pathlib import Path

import pytest
import yaml

from ainimal_zookeeper.config import ZookeeperConfig, config_from_dict, load_config
from ainimal_zookeeper.errors import ConfigError

#: The keys of the project's original example; it runs open on every address, which now takes
#: `open_to_network: true` on purpose (see the test of the open server's refusal below).
SEED = """
server: {host: 0.0.0.0, port: 8100, https: false, data_dir: null, open_to_network: true}
max_envs: 4
max_models: -1
workers: {torch_threads: 2}
envs:
  - name: CartPole
    type: gym.Env
    env_name: CartPole-v1
    max_instances: -1
    max_connected: 1
  - name: Corridor
    type: python_class
    path: ./envs/corridor.py
    class_name: Corridor
    step_function: advance
    create_params:
      - {name: length, type: int, default: 5, description: cells, range: [1, 50]}
    init_params: {length: "${params.length}"}
models:
  - name: Reinforce
    type: ainimal
    path: ./cartpole_reinforce.py
    class_name: ReinforceAgent
    max_instances: 3
    description: policy gradient
  - name: Plain
    type: python_class
    path: ./plain.py
    class_name: Plain
    act_func: decide
model_hubs:
  - type: local_filesystem
    root: ./models
no_auth: true
authentication_providers: [{type: password, users: [ada]}]
authorization_provider: null
launch_etc: [{cmd: "python3 -m http.server 8082"}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_yaml_text(tmp_path: Path, text: str) -> ZookeeperConfig:
    return load_config(write(tmp_path, "zoo.yaml", text))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_yaml_text(tmp_path, text)
    return str(info.value)


def test_a_yaml_file_and_the_same_json_file_load_to_equal_configs(tmp_path):
    from_yaml = load_config(write(tmp_path, "zoo.yaml", SEED))
    from_json = load_config(write(tmp_path, "zoo.json", json.dumps(yaml.safe_load(SEED))))
    assert from_yaml == from_json
    assert from_yaml.models[1].act_func == "decide"


def test_the_seed_keys_load_into_the_documented_fields(tmp_path):
    config = load_yaml_text(tmp_path, SEED)
    assert (config.server.host, config.server.port, config.workers.torch_threads) == (
        "0.0.0.0",
        8100,
        2,
    )
    assert (config.max_envs, config.max_models) == (4, None)
    assert config.envs[0].type == "gymnasium"
    assert config.envs[1].step_function == "advance"
    assert config.envs[1].create_params[0]["range"] == [1, 50]
    assert config.envs[1].init_params == {"length": "${params.length}"}
    assert config.authentication_providers == [{"type": "password", "users": ["ada"]}]
    assert config.launch_etc[0].cmd == "python3 -m http.server 8082"


def test_an_empty_mapping_gives_the_documented_defaults():
    config = config_from_dict({})
    assert (config.server.host, config.server.port, config.server.data_dir) == (
        "127.0.0.1",
        8000,
        None,
    )
    assert (config.max_envs, config.max_models, config.workers.torch_threads) == (None, None, 1)
    assert (config.envs, config.models, config.model_hubs, config.no_auth) == ([], [], [], False)
    assert config.server.open_to_network is False


@pytest.mark.parametrize(
    ("keys", "refused_for"),
    [
        ({"no_auth": True, "server": {"host": "0.0.0.0"}}, "listens only on loopback, not on '0.0.0.0'"),
        ({"no_auth": True, "server": {"host": "192.168.1.20"}}, "not on '192.168.1.20'"),
        ({"no_auth": True, "server": {"host": "zoo.example.org"}}, "not on 'zoo.example.org'"),
        ({"no_auth": True, "backends": {"bus": "pubsub"}, "gcp": {"project": "p"}}, "cannot use the cloud backends"),
    ],
)
def test_an_open_server_is_refused_off_loopback_and_in_the_cloud_unless_it_says_so(keys, refused_for):
    with pytest.raises(ConfigError, match="open_to_network") as refused:
        config_from_dict(keys, source="inline")
    assert refused_for in str(refused.value)
    server = {**keys.get("server", {}), "open_to_network": True}
    assert config_from_dict({**keys, "server": server}, source="inline").server.open_to_network


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_an_open_server_may_listen_on_any_loopback_address(host):
    assert config_from_dict({"no_auth": True, "server": {"host": host}}, source="inline").no_auth


def test_relative_paths_are_taken_against_the_config_files_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(write(tmp_path / "conf", "zoo.yaml", SEED))
    assert config.models[0].path == str(tmp_path / "conf" / "cartpole_reinforce.py")
    assert config.envs[1].path == str(tmp_path / "conf" / "envs" / "corridor.py")
    assert config.model_hubs[0].root == str(tmp_path / "conf" / "models")


def test_absolute_paths_are_kept_as_given(tmp_path):
    target = tmp_path / "elsewhere" / "agent.py"
    models = f"models: [{{name: A, path: {target}, class_name: A}}]"
    assert load_yaml_text(tmp_path, models).models[0].path == str(target)


@pytest.mark.parametrize("limit", ["-1", "null"])
def test_minus_one_and_null_both_mean_no_limit(tmp_path, limit):
    config = load_yaml_text(
        tmp_path,
        f"max_envs: {limit}\nmodels: [{{name: A, path: a.py, class_name: A, max_instances: {limit}}}]",
    )
    assert config.max_envs is None
    assert config.models[0].max_instances is None


def test_a_limit_below_minus_one_is_an_error_that_explains_no_limit(tmp_path):
    message = error_of(tmp_path, "max_models: -3")
    assert "zoo.yaml: max_models: expected an integer >= 0, or -1 / null for no limit; got -3" in message


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("gym", "gymnasium"),
        ("gym.Env", "gymnasium"),
        ("gymnasium.Env", "gymnasium"),
        ("dm_env.Env", "dm_env"),
        ("dm_env", "dm_env"),
    ],
)
def test_env_type_aliases_are_normalised(tmp_path, spelling, canonical):
    text = f"envs: [{{name: E, type: {spelling}, path: e.py, class_name: E}}]"
    assert load_yaml_text(tmp_path, text).envs[0].type == canonical


def test_an_unknown_env_type_names_the_key_and_the_accepted_types(tmp_path):
    message = error_of(tmp_path, "envs: [{name: E, type: gymnsium, env_name: X-v0}]")
    assert "zoo.yaml: envs[0].type: unknown env type 'gymnsium'" in message
    assert "gymnasium, python_class" in message


def test_a_misspelt_key_is_an_error_that_names_it_and_suggests_the_right_one(tmp_path):
    message = error_of(tmp_path, "envs: [{name: E, env_name: X-v0, max_instance: 2}]")
    assert "zoo.yaml: envs[0].max_instance: unknown key (did you mean max_instances?)" in message
    assert "expected one of: name, type, path" in message


def test_a_misspelt_top_level_key_is_an_error(tmp_path):
    assert "zoo.yaml: max_model: unknown key (did you mean max_models?)" in error_of(tmp_path, "max_model: 3")


def test_a_wrong_type_names_the_key_path_the_expected_type_and_the_value_found(tmp_path):
    message = error_of(tmp_path, "envs: [{name: E, env_name: X-v0, max_instances: lots}]")
    assert "zoo.yaml: envs[0].max_instances: expected a valid integer" in message
    assert "got 'lots' (a string)" in message


def test_a_boolean_is_not_accepted_where_a_number_belongs(tmp_path):
    message = error_of(tmp_path, "server: {port: true}")
    assert "zoo.yaml: server.port: expected an integer; got True (a boolean)" in message


def test_each_problem_is_reported_on_its_own_line(tmp_path):
    message = error_of(tmp_path, "server: {port: x, hots: a}\nworkers: {torch_threads: 0}")
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(str(tmp_path / "zoo.yaml")) for line in lines)
    assert "workers.torch_threads: expected an integer >= 1; got 0" in lines[2]


def test_a_model_without_path_is_an_error_naming_the_missing_key(tmp_path):
    message = error_of(tmp_path, "models: [{name: M, class_name: M}]")
    assert "zoo.yaml: models[0].path: required key is missing" in message


def test_a_gymnasium_env_needs_env_name_or_path_and_class_name(tmp_path):
    message = error_of(tmp_path, "envs: [{name: E}, {name: F, path: f.py}]")
    assert "envs[0]: a gymnasium env needs env_name, or path and class_name" in message
    assert "envs[1]: type gymnasium needs path and class_name; missing class_name" in message


@pytest.mark.parametrize("kind", ["python_class", "ainimal", "dm_env"])
def test_a_non_gymnasium_env_needs_path_and_class_name(tmp_path, kind):
    message = error_of(tmp_path, f"envs: [{{name: E, type: {kind}, class_name: E}}]")
    assert f"envs[0]: type {kind} needs path and class_name; missing path" in message


def test_a_method_name_on_a_model_that_is_not_a_plain_class_is_an_error(tmp_path):
    message = error_of(tmp_path, "models: [{name: M, type: ainimal, path: m.py, class_name: M, act_func: go}]")
    assert "models[0]: act_func applies only to type python_class, not ainimal" in message


def test_a_step_function_on_a_gymnasium_env_is_an_error(tmp_path):
    message = error_of(tmp_path, "envs: [{name: E, env_name: X-v0, step_function: go}]")
    assert "envs[0]: step_function applies only to type python_class, not gymnasium" in message


def test_duplicate_env_names_are_an_error_naming_both_places(tmp_path):
    message = error_of(
        tmp_path,
        "envs: [{name: E, env_name: A-v0}, {name: F, env_name: B-v0}, {name: E, env_name: C-v0}]",
    )
    assert "zoo.yaml: envs: duplicate name 'E' in envs[0] and envs[2]" in message


def test_duplicate_model_names_are_an_error(tmp_path):
    message = error_of(
        tmp_path,
        "models: [{name: M, path: a.py, class_name: A}, {name: M, path: b.py, class_name: B}]",
    )
    assert "zoo.yaml: models: duplicate name 'M' in models[0] and models[1]" in message


def test_an_env_and_a_model_may_share_a_name(tmp_path):
    config = load_yaml_text(
        tmp_path,
        "envs: [{name: X, env_name: A-v0}]\nmodels: [{name: X, path: a.py, class_name: A}]",
    )
    assert (config.envs[0].name, config.models[0].name) == ("X", "X")


def test_an_unsupported_hub_type_is_an_error_naming_its_index_and_the_supported_types(tmp_path):
    message = error_of(
        tmp_path,
        "model_hubs: [{type: local_filesystem, root: m}, {type: tfhub, handle: x/y}]",
    )
    assert message == (
        f"{tmp_path / 'zoo.yaml'}: model_hubs[1].type 'tfhub' is not supported yet; "
        "supported: local_filesystem, git, github, gcloud_bucket, aws_s3, huggingface, pytorch_hub"
    )


def test_unsupported_hubs_still_parse_into_the_config_model():
    config = ZookeeperConfig.model_validate({"model_hubs": [{"type": "tfhub", "handle": "b"}]})
    assert [(i, hub.type) for i, hub in config.unsupported_model_hubs()] == [(0, "tfhub")]


def test_a_supported_hub_with_a_wrong_key_names_the_key(tmp_path):
    message = error_of(tmp_path, "model_hubs: [{type: huggingface, repo: org/zoo}]")
    assert "model_hubs[0]: huggingface hub: repo: unknown key" in message


def test_a_local_hub_with_an_unknown_key_is_an_error(tmp_path):
    message = error_of(tmp_path, "model_hubs: [{type: local_filesystem, root: m, rot: n}]")
    assert "model_hubs[0]: unknown key 'rot' for a local_filesystem hub" in message


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path):
    message = error_of(tmp_path, "server:\n  port: 8000\n  host: [unclosed\n")
    assert message.startswith(f"{tmp_path / 'zoo.yaml'}: line ")
    assert "YAML syntax error" in message


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path):
    message = error_of(tmp_path, "max_models: 1\nmax_models: 2\n")
    assert "zoo.yaml: line 2, column 1: YAML syntax error: duplicate key 'max_models'" in message


def test_a_json_syntax_error_names_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError, match=r"zoo\.json: line 2, column \d+: invalid JSON"):
        load_config(write(tmp_path, "zoo.json", '{"max_models": 1,\n}'))


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "got a list"), ("just text\n", "got 'just text'")])
def test_a_top_level_that_is_not_a_mapping_is_an_error(tmp_path, text, found):
    message = error_of(tmp_path, text)
    assert "zoo.yaml: the top level must be a mapping" in message
    assert found in message


def test_an_empty_file_is_an_error_naming_it(tmp_path):
    assert "zoo.yaml: the file is empty" in error_of(tmp_path, "")


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"nothere\.yaml: cannot read the config file: No such file"):
        load_config(tmp_path / "nothere.yaml")


def test_a_file_with_another_suffix_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"zoo\.toml: expected a \.yaml, \.yml or \.json file"):
        load_config(write(tmp_path, "zoo.toml", "max_models = 1"))


def test_config_from_dict_reports_problems_under_its_source_name():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"workers": {"torch_threads": "two"}}, source="inline")
    assert str(info.value).startswith("inline: workers.torch_threads: expected a valid integer")


def test_init_params_stay_none_when_not_given_so_launch_values_pass_straight_through(tmp_path):
    config = load_yaml_text(tmp_path, "models: [{name: M, path: a.py, class_name: A}]")
    assert config.models[0].init_params is None
    assert config.models[0].model_dump()["create_params"] == []


def test_a_loaded_config_round_trips_through_its_own_dump(tmp_path):
    config = load_yaml_text(tmp_path, SEED)
    assert ZookeeperConfig.model_validate(config.model_dump()) == config


def test_the_hygiene_knobs_have_safe_defaults_and_refuse_nonsense(tmp_path):
    workers = config_from_dict({}, source="inline").workers
    assert (workers.stop_grace_seconds, workers.train_slice_steps, workers.recording_retry) == (5.0, 2048, 15.0)
    short = config_from_dict({"workers": {"heartbeat_timeout": 4}}, source="inline").workers
    assert short.recording_retry == 2.0  # a short heartbeat timeout shortens the default retry
    message = error_of(tmp_path, "workers: {stop_grace_seconds: -1, train_slice_steps: 0, recording_retry_seconds: -2}")
    assert "workers.stop_grace_seconds: expected greater than or equal to 0; got -1" in message
    assert "workers.train_slice_steps: expected an integer >= 1; got 0" in message
    assert "workers.recording_retry_seconds: expected greater than or equal to 0; got -2" in message


def test_a_recording_retry_longer_than_half_the_heartbeat_timeout_is_refused(tmp_path):
    message = error_of(tmp_path, "workers: {heartbeat_timeout: 10, recording_retry_seconds: 6}")
    assert "workers: recording_retry_seconds (6) must be at most half of heartbeat_timeout (10)" in message
