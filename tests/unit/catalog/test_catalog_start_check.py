"""The config's own catalog entries are checked at start: each problem names its key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ainimal_zookeeper.catalog.catalog import Catalog
from ainimal_zookeeper.catalog.validation import check_catalog
from ainimal_zookeeper.errors import ConfigError, InvalidInput

TESTS = Path(__file__).resolve().parents[2]
OTHER = str(TESTS / "fixtures" / "other_kinds.py")
PLAIN = str(TESTS / "fixtures" / "plain_envs.py")
CARTPOLE = {"name": "CartPole", "type": "gymnasium", "env_name": "CartPole-v1"}


def model(class_name, path=OTHER, type_="python_class", name=None, **more):
    return {"name": name or class_name, "type": type_, "path": path, "class_name": class_name, **more}


def refusal(models, envs) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        check_catalog(Catalog(models, envs, []), "conf/zoo.yaml", lenient=False)
    return str(refused.value).splitlines()


def test_a_good_catalog_passes_with_no_problems():
    assert check_catalog(Catalog([model("InferenceOnly")], [CARTPOLE], []), "zoo.yaml", lenient=False) == []


def test_a_wrong_path_is_refused_at_its_key_suggesting_the_file_that_is_there():
    lines = refusal([model("InferenceOnly", path=str(TESTS / "fixtures" / "other_kind.py"))], [])
    assert lines[0].startswith("conf/zoo.yaml: models[0].path ('InferenceOnly'): no such file ")
    assert f"fix: did you mean {TESTS / 'fixtures' / 'other_kinds.py'}?" in lines[0]
    assert "set catalog.lenient: true" in lines[-1]


def test_a_class_name_typo_is_refused_suggesting_the_class_that_is_there():
    lines = refusal([model("InferenceOnly"), model("PlainLernr")], [])
    assert lines[0] == (
        "conf/zoo.yaml: models[1].class_name ('PlainLernr'): other_kinds.py has no class 'PlainLernr'; "
        "fix: did you mean class_name: PlainLearner?"
    )


def test_an_unknown_gymnasium_id_is_refused_suggesting_a_registered_one():
    lines = refusal([], [CARTPOLE, {"name": "Pole", "type": "gymnasium", "env_name": "CartPol-v1"}])
    assert lines[0].startswith("conf/zoo.yaml: envs[1].env_name ('Pole'): gymnasium has no registered environment")
    assert "fix: did you mean CartPole-v1" in lines[0]


def test_a_renamed_method_that_is_not_there_is_refused_at_its_key():
    lines = refusal([model("PlainLearner", act_func="polcy")], [])
    assert lines[0] == (
        "conf/zoo.yaml: models[0].act_func ('PlainLearner'): PlainLearner has no method 'polcy'; "
        "fix: did you mean act_func: policy?"
    )


def test_a_class_declared_ainimal_that_is_not_one_is_refused_at_its_type():
    (line, _) = refusal([model("InferenceOnly", type_="ainimal")], [])
    assert line.startswith("conf/zoo.yaml: models[0].type ('InferenceOnly'): InferenceOnly does not subclass")
    assert "fix: declare type: python_class" in line


def test_a_plain_env_without_actions_is_refused_naming_the_env_and_what_to_add():
    (line, _) = refusal([], [{"name": "Quiet", "type": "python_class", "path": PLAIN, "class_name": "Unlabelled"}])
    assert line.startswith("conf/zoo.yaml: envs[0] ('Quiet'): Unlabelled declares no action space")
    assert "fix: on the class, add an `action_space` attribute" in line


def test_every_problem_is_reported_at_once():
    lines = refusal(
        [model("InferenceOnly", path="/nowhere/agent.py"), model("Nope")],
        [{"name": "Pole", "type": "gymnasium", "env_name": "NoSuchEnv-v0"}],
    )
    keys = [line.split(" ")[1] for line in lines[:-1]]
    assert keys == ["models[0].path", "models[1].class_name", "envs[0].env_name"]
    assert "point it at an existing file" in lines[0]


def test_a_lenient_catalog_starts_and_marks_each_bad_entry_which_then_cannot_be_launched():
    catalog = Catalog([model("InferenceOnly"), model("PlainLernr")], [CARTPOLE], [])
    problems = check_catalog(catalog, "zoo.yaml", lenient=True)
    assert [p.key for p in problems] == ["models[1].class_name"]
    error = catalog.model("PlainLernr").spec["error"]
    assert (
        error
        == "models[1].class_name: other_kinds.py has no class 'PlainLernr'; fix: did you mean class_name: PlainLearner?"
    )
    assert catalog.model("InferenceOnly").spec["error"] is None
    with pytest.raises(InvalidInput, match="'PlainLernr' cannot be launched: models\\[1\\].class_name"):
        catalog.plan_launch("PlainLernr", "CartPole", None, None)
    catalog.plan_launch("InferenceOnly", "CartPole", None, None)


def test_the_start_check_inspects_each_entry_once_and_the_catalog_reuses_it():
    catalog = Catalog([model("InferenceOnly")], [CARTPOLE], [])
    models, envs = catalog.config_entries()
    assert catalog.models()[0] is models[0] and catalog.environments()[0] is envs[0]
