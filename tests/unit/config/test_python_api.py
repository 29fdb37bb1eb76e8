"""The Python form: Server(...).config equals what the equivalent YAML file loads to."""

from pathlib import Path

import pytest

from ainimal_zookeeper.config import (
    GymEnvironment,
    LocalModelHub,
    Model,
    ModelConfig,
    PythonEnvironment,
    Server,
    config_from_dict,
    load_config,
)
from ainimal_zookeeper.errors import ConfigError

YAML = """
server: {host: 0.0.0.0, port: 8100, data_dir: ./data}
max_envs: 2
max_models: -1
workers: {torch_threads: 3}
envs:
  - {name: CartPole, type: gymnasium, env_name: CartPole-v1, max_instances: 4}
  - name: Corridor
    type: python_class
    path: ./envs/corridor.py
    class_name: Corridor
    step_function: advance
    init_params: {length: "${params.length}"}
models:
  - {name: Reinforce, type: ainimal, path: ./cartpole_reinforce.py, class_name: ReinforceAgent}
  - {name: Plain, type: python_class, path: ./plain.py, class_name: Plain, act_func: decide}
model_hubs:
  - {type: local_filesystem, root: ./models}
no_auth: false
authentication_providers: [{type: password}]
launch_etc: [{cmd: "python3 -m http.server 8082"}]
"""


def python_form() -> Server:
    return Server(
        port=8100,
        host="0.0.0.0",
        data_dir="./data",
        models=[
            Model("Reinforce", "./cartpole_reinforce.py", "ReinforceAgent"),
            Model("Plain", Path("plain.py"), "Plain", type="python_class", act_func="decide"),
        ],
        environments=[
            GymEnvironment("CartPole", "CartPole-v1", max_instances=4),
            PythonEnvironment(
                "Corridor",
                "./envs/corridor.py",
                "Corridor",
                step_function="advance",
                init_params={"length": "${params.length}"},
            ),
        ],
        model_hubs=[LocalModelHub("./models")],
        max_models=-1,
        max_envs=2,
        torch_threads=3,
        no_auth=False,
        authentication_providers=[{"type": "password"}],
        launch_etc=["python3 -m http.server 8082"],
    )


def test_the_python_form_equals_the_yaml_form(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Python-form relative paths are taken against the cwd
    (tmp_path / "zoo.yaml").write_text(YAML)
    from_yaml = load_config(tmp_path / "zoo.yaml")
    from_python = python_form().config
    assert from_python == from_yaml
    assert from_python.models[0].path == str(tmp_path / "cartpole_reinforce.py")


def test_a_default_server_equals_an_empty_config():
    assert Server().config == config_from_dict({})


def test_base_dir_sets_the_folder_relative_paths_are_taken_against(tmp_path):
    server = Server(models=[Model("M", "agents/m.py", "M")], base_dir=tmp_path)
    assert server.config.models[0].path == str(tmp_path / "agents" / "m.py")


def test_helpers_spell_entries_as_the_yaml_form_does():
    assert Model("M", "m.py", "M").to_dict() == {
        "name": "M",
        "type": "ainimal",
        "path": "m.py",
        "class_name": "M",
    }
    assert GymEnvironment("C", "CartPole-v1").to_dict() == {
        "name": "C",
        "type": "gymnasium",
        "env_name": "CartPole-v1",
    }
    assert LocalModelHub(Path("/m")).to_dict() == {"type": "local_filesystem", "root": "/m"}
    assert PythonEnvironment("E", "e.py", "E").to_dict() == {
        "name": "E",
        "type": "python_class",
        "path": "e.py",
        "class_name": "E",
    }


def test_a_python_environment_of_another_type_keeps_the_default_step_function(tmp_path):
    server = Server(environments=[PythonEnvironment("E", "e.py", "E", type="ainimal")], base_dir=tmp_path)
    assert (server.config.envs[0].type, server.config.envs[0].step_function) == ("ainimal", "step")


def test_a_bad_value_is_a_config_error_under_the_python_source_with_the_key_path():
    with pytest.raises(ConfigError) as info:
        Server(port="eighty", models=[Model("M", "m.py", "M", max_instances=-4)])
    lines = str(info.value).splitlines()
    assert lines[0].startswith("<python>: server.port: expected a valid integer")
    assert (
        lines[1]
        == "<python>: models[0].max_instances: expected an integer >= 0, or -1 / null for no limit; got -4 (an integer)"
    )


def test_a_misspelt_keyword_on_a_helper_is_reported_as_an_unknown_key():
    with pytest.raises(
        ConfigError,
        match=r"<python>: models\[0\]\.max_instance: unknown key \(did you mean max_instances\?\)",
    ):
        Server(models=[Model("M", "m.py", "M", max_instance=2)])


def test_duplicate_names_are_refused_in_the_python_form_too():
    with pytest.raises(ConfigError, match=r"<python>: models: duplicate name 'M' in models\[0\] and models\[1\]"):
        Server(models=[Model("M", "a.py", "A"), Model("M", "b.py", "B")])


def test_an_unsupported_hub_is_refused_in_the_python_form_too():
    with pytest.raises(ConfigError) as info:
        Server(model_hubs=[LocalModelHub("m"), {"type": "tfhub", "handle": "org/zoo"}])
    assert str(info.value) == (
        "<python>: model_hubs[1].type 'tfhub' is not supported yet; supported: local_filesystem, git, github, gcloud_bucket, aws_s3, huggingface, pytorch_hub"
    )


def test_an_entry_in_the_wrong_list_is_an_error_naming_where_and_what_fits():
    with pytest.raises(ConfigError) as info:
        Server(environments=[Model("M", "m.py", "M")])
    assert (
        str(info.value)
        == "<python>: envs[0]: got Model; expected PythonEnvironment, GymEnvironment, EnvConfig or a dict"
    )


def test_plain_dicts_and_config_models_are_accepted_as_entries(tmp_path):
    built = ModelConfig(name="A", path=str(tmp_path / "a.py"), class_name="A")
    server = Server(models=[built, {"name": "B", "path": str(tmp_path / "b.py"), "class_name": "B"}])
    assert [m.name for m in server.config.models] == ["A", "B"]
    assert server.config.models[0] == built


def test_env_references_are_filled_in_the_python_form(monkeypatch):
    monkeypatch.setenv("ZK_TEST_KEY", "s3cret")
    server = Server(models=[Model("M", "m.py", "M", init_params={"key": "${env.ZK_TEST_KEY}"})])
    assert server.config.models[0].init_params == {"key": "s3cret"}
