"""${env.NAME} filled when the config loads; ${params.NAME} filled at launch."""

from pathlib import Path

import pytest

from ainimal_zookeeper.config import load_config, resolve_params
from ainimal_zookeeper.errors import ConfigError, InvalidInput

MODEL = "models:\n  - {{name: M, path: m.py, class_name: M, init_params: {init}}}\n"


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    """Write conf/zoo.yaml with the given init_params and load it from an unrelated cwd."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("ZK_TEST_KEY", raising=False)
    folder = tmp_path / "conf"
    folder.mkdir()

    def load(init: str) -> dict:
        path = folder / "zoo.yaml"
        path.write_text(MODEL.format(init=init))
        return load_config(path).models[0].init_params

    return load


def test_an_env_reference_is_filled_from_the_environment(zoo, monkeypatch):
    monkeypatch.setenv("ZK_TEST_KEY", "s3cret")
    assert zoo('{api_key: "${env.ZK_TEST_KEY}"}') == {"api_key": "s3cret"}


def test_the_process_env_spelling_is_an_alias_of_env(zoo, monkeypatch):
    monkeypatch.setenv("ZK_TEST_KEY", "s3cret")
    assert zoo('{api_key: "${process.ENV.ZK_TEST_KEY}"}') == {"api_key": "s3cret"}


def test_an_env_reference_inside_a_longer_string_is_formatted_in(zoo, monkeypatch):
    monkeypatch.setenv("ZK_TEST_KEY", "eu")
    assert zoo('{url: "https://${env.ZK_TEST_KEY}.example/api"}') == {"url": "https://eu.example/api"}


def test_env_references_are_filled_inside_nested_lists_and_mappings(zoo, monkeypatch):
    monkeypatch.setenv("ZK_TEST_KEY", "v")
    assert zoo('{a: [1, {b: "${env.ZK_TEST_KEY}"}]}') == {"a": [1, {"b": "v"}]}


def test_env_local_next_to_the_config_file_supplies_missing_variables(zoo, tmp_path):
    (tmp_path / "conf" / ".env.local").write_text("ZK_TEST_KEY=from-file\n")
    assert zoo('{api_key: "${env.ZK_TEST_KEY}"}') == {"api_key": "from-file"}


def test_env_local_in_the_current_directory_supplies_missing_variables(zoo, tmp_path):
    (tmp_path / "cwd" / ".env.local").write_text("ZK_TEST_KEY=from-cwd\n")
    assert zoo('{api_key: "${env.ZK_TEST_KEY}"}') == {"api_key": "from-cwd"}


def test_the_env_local_next_to_the_config_wins_over_the_one_in_the_current_directory(zoo, tmp_path):
    (tmp_path / "cwd" / ".env.local").write_text("ZK_TEST_KEY=from-cwd\n")
    (tmp_path / "conf" / ".env.local").write_text("ZK_TEST_KEY=from-config-folder\n")
    assert zoo('{api_key: "${env.ZK_TEST_KEY}"}') == {"api_key": "from-config-folder"}


def test_the_real_environment_wins_over_env_local(zoo, tmp_path, monkeypatch):
    (tmp_path / "conf" / ".env.local").write_text("ZK_TEST_KEY=from-file\n")
    monkeypatch.setenv("ZK_TEST_KEY", "from-environ")
    assert zoo('{api_key: "${env.ZK_TEST_KEY}"}') == {"api_key": "from-environ"}


def test_a_missing_variable_is_an_error_naming_file_key_path_and_fix(zoo, tmp_path):
    with pytest.raises(ConfigError) as info:
        zoo('{api_key: "${env.ZK_TEST_KEY}"}')
    expected = (
        f"{tmp_path / 'conf' / 'zoo.yaml'}: models[0].init_params.api_key: "
        "environment variable ZK_TEST_KEY is not set; set it or add it to .env.local"
    )
    assert str(info.value) == expected


def test_a_param_reference_is_left_in_place_when_the_config_loads(zoo):
    assert zoo('{lr: "${params.lr}", tag: "run-${params.seed}"}') == {
        "lr": "${params.lr}",
        "tag": "run-${params.seed}",
    }


def test_a_param_reference_outside_init_params_is_an_error(tmp_path):
    path = tmp_path / "zoo.yaml"
    path.write_text('models: [{name: M, path: "${params.where}", class_name: M}]')
    with pytest.raises(
        ConfigError,
        match=r"models\[0\]\.path: \$\{params\.where\} is only filled in inside init_params",
    ):
        load_config(path)


def test_an_exact_param_reference_becomes_the_typed_value():
    resolved = resolve_params(
        {"lr": "${params.lr}", "layers": "${params.layers}"}, {"lr": 0.01, "layers": [64, 64]}, "M"
    )
    assert resolved == {"lr": 0.01, "layers": [64, 64]}
    assert isinstance(resolved["lr"], float)


def test_a_param_reference_inside_a_longer_string_is_formatted_in():
    assert resolve_params({"tag": "run-${params.seed}-${params.mode}"}, {"seed": 7, "mode": "fast"}, "M") == {
        "tag": "run-7-fast"
    }


def test_param_references_are_filled_inside_nested_lists_and_mappings():
    init = {"net": {"sizes": ["${params.width}", 8]}, "name": "n"}
    assert resolve_params(init, {"width": 32}, "M") == {"net": {"sizes": [32, 8]}, "name": "n"}


def test_resolving_params_does_not_change_the_loaded_init_params():
    init = {"lr": "${params.lr}"}
    resolve_params(init, {"lr": 0.5}, "M")
    assert init == {"lr": "${params.lr}"}


def test_an_unknown_param_name_is_invalid_input_naming_owner_key_and_known_names():
    with pytest.raises(InvalidInput) as info:
        resolve_params({"net": {"width": "${params.widht}"}}, {"width": 3, "lr": 0.1}, "Reinforce")
    message = str(info.value)
    assert message.startswith("Reinforce: init_params.net.width refers to ${params.widht}")
    assert "parameters: lr, width" in message


def test_resolve_params_leaves_other_text_untouched():
    init = {"plain": "no refs", "n": 3, "dollar": "${other.thing}"}
    assert resolve_params(init, {}, "M") == init


def test_a_dotenv_line_without_a_value_does_not_hide_a_missing_variable(zoo, tmp_path):
    (tmp_path / "conf" / ".env.local").write_text("ZK_TEST_KEY\n")
    with pytest.raises(ConfigError, match="environment variable ZK_TEST_KEY is not set"):
        zoo('{api_key: "${env.ZK_TEST_KEY}"}')


def test_every_missing_variable_gets_its_own_line(zoo, monkeypatch):
    monkeypatch.delenv("ZK_TEST_OTHER", raising=False)
    with pytest.raises(ConfigError) as info:
        zoo('{a: "${env.ZK_TEST_KEY}", b: ["${env.ZK_TEST_OTHER}"]}')
    lines = str(info.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "models[0].init_params.a",
        "models[0].init_params.b[0]",
    ]


def test_an_interpolated_number_is_validated_like_a_written_one(tmp_path, monkeypatch):
    monkeypatch.setenv("ZK_TEST_PORT", "8123")
    path = tmp_path / "zoo.yaml"
    path.write_text('server: {port: "${env.ZK_TEST_PORT}"}')
    assert load_config(Path(path)).server.port == 8123
