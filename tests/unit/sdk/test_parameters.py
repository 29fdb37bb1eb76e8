"""Parameter declarations are checked at start; launch values are converted or refused clearly."""

import re

import pytest

from ainimal_zookeeper.errors import ConfigError, InvalidInput
from ainimal_zookeeper.sdk import AInimal
from ainimal_zookeeper.sdk.parameters import Parameter, parse_parameters, validate_values

WHERE = "models[0].create_params"
OWNER = "model 'M'"


def params(*declarations):
    return parse_parameters(list(declarations), WHERE)


BATCH = {"name": "batch_size", "type": "int", "default": 32, "range": [1, 512]}
LR = {"name": "lr", "type": "float", "default": 0.01, "range": [1e-5, 1.0]}
OPT = {"name": "optimizer", "type": "choice", "choices": ["adam", "sgd"], "default": "adam"}


# --- declarations -----------------------------------------------------------------------------


def test_declarations_parse_into_parameters_in_order():
    declared = {**BATCH, "description": "per step", "display": "Batch size"}
    assert params(declared, OPT) == [
        Parameter("batch_size", "int", 32, "per step", "Batch size", (1.0, 512.0)),
        Parameter("optimizer", "choice", "adam", choices=("adam", "sgd")),
    ]


def test_a_declaration_without_a_default_key_is_required():
    optional = {"name": "tag", "type": "str", "default": None}
    (required, optional) = params({"name": "seed", "type": "int"}, optional)
    assert (required.required, required.default) == (True, None)
    assert (optional.required, optional.default) == (False, None)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("integer", "int"),
        ("number", "float"),
        ("string", "str"),
        ("boolean", "bool"),
        ("Int", "int"),
        (float, "float"),
    ],
)
def test_type_aliases_are_normalised(alias, canonical):
    assert params({"name": "p", "type": alias}, {"name": "q", "type": canonical}) == [
        Parameter("p", canonical, required=True),
        Parameter("q", canonical, required=True),
    ]


def test_to_api_gives_the_api_keys_with_range_as_floats():
    (batch, opt) = params(BATCH, OPT)
    assert batch.to_api() == {
        "name": "batch_size",
        "type": "int",
        "default": 32,
        "description": None,
        "range": [1.0, 512.0],
        "choices": None,
    }
    assert opt.to_api()["choices"] == ["adam", "sgd"]
    assert type(batch.to_api()["range"][0]) is float


def test_yaml_style_numeric_strings_are_accepted_for_range_and_default():
    # PyYAML reads `1e-5` (no dot) as the string "1e-5".
    (lr,) = params({"name": "lr", "type": "float", "default": "1e-3", "range": ["1e-5", 1]})
    assert (lr.default, lr.range) == (0.001, (1e-05, 1.0))


def test_an_int_default_for_a_float_parameter_becomes_a_float():
    (lr,) = params({"name": "lr", "type": "float", "default": 1})
    assert lr.default == 1.0 and type(lr.default) is float


@pytest.mark.parametrize(
    ("declarations", "message"),
    [
        ([{"type": "int"}], "[0]: expected 'name' to be a non-empty string, got no name"),
        ([{"name": "", "type": "int"}], "[0]: expected 'name' to be a non-empty string, got ''"),
        (
            [{"name": "a", "type": "decimal"}],
            "[0]: unknown type 'decimal'; expected one of int, float, str, bool, choice",
        ),
        ([{"name": "a"}], "[0]: unknown type null; expected one of int, float"),
        (
            [{"name": "a", "type": "choice"}],
            "[0]: expected 'choices' of 'a' to be a non-empty list, got null",
        ),
        (
            [{"name": "a", "type": "choice", "choices": []}],
            "[0]: expected 'choices' of 'a' to be a non-empty list, got []",
        ),
        (
            [{**BATCH, "default": 600}],
            "[0]: expected default of 'batch_size' to be int in [1, 512], got 600",
        ),
        (
            [{**BATCH, "default": "abc"}],
            "[0]: expected default of 'batch_size' to be int in [1, 512], got 'abc'",
        ),
        (
            [{**BATCH, "default": True}],
            "[0]: expected default of 'batch_size' to be int in [1, 512], got true",
        ),
        (
            [{**OPT, "default": "rmsprop"}],
            "[0]: expected default of 'optimizer' to be one of 'adam', 'sgd', got 'rmsprop'",
        ),
        (
            [BATCH, LR, BATCH],
            (
                "[2]: duplicate parameter name 'batch_size'; expected unique names, "
                "it is already declared at models[0].create_params[0]"
            ),
        ),
        ([{"name": "a", "type": "str", "range": [1, 2]}], "[0]: expected no 'range' for str 'a'"),
        (
            [{**BATCH, "range": [512, 1]}],
            "[0]: expected 'range' of 'batch_size' as [low, high], low <= high, got [512, 1]",
        ),
        (
            [{**BATCH, "range": "1-512"}],
            "[0]: expected 'range' of 'batch_size' as [low, high], low <= high, got '1-512'",
        ),
        (
            [{**BATCH, "defualt": 3}],
            "[0]: unknown key(s) defualt; expected some of: name, type, default",
        ),
        (
            [{"name": "n", "type": "int", "choices": [1, "x"]}],
            "[0]: expected 'choices' of 'n' to be a list of int, got [1, \"x\"]",
        ),
        (
            [{**BATCH, "required": True}],
            "[0]: expected 'batch_size' to be required or to have a default, got both",
        ),
        (["batch_size"], "[0]: expected a mapping with name and type, got 'batch_size'"),
    ],
)
def test_bad_declarations_raise_config_error_saying_where_and_what_is_wrong(declarations, message):
    with pytest.raises(ConfigError, match="^" + re.escape(WHERE + message)):
        parse_parameters(declarations, WHERE)


def test_declarations_that_are_not_a_list_raise_config_error():
    with pytest.raises(
        ConfigError,
        match=re.escape(f"{WHERE}: expected a list of parameter declarations, got 'lr'"),
    ):
        parse_parameters("lr", WHERE)  # type: ignore[arg-type]


def test_ainimal_parameters_declared_on_the_class_parse():
    class Learner(AInimal):
        AINIMAL_PARAMETERS = ({**LR, "name": "learning_rate"},)

    (parameter,) = parse_parameters(Learner.AINIMAL_PARAMETERS, "models[Learner].parameters")
    assert parameter == Parameter("learning_rate", "float", 0.01, range=(1e-5, 1.0))


# --- values -----------------------------------------------------------------------------------


def test_missing_optional_values_are_filled_with_defaults():
    declared = params(BATCH, LR, OPT, {"name": "tag", "type": "str", "default": None})
    assert validate_values(declared, {"lr": 0.5}, OWNER) == {
        "batch_size": 32,
        "lr": 0.5,
        "optimizer": "adam",
        "tag": None,
    }
    assert validate_values(declared, None, OWNER) == {
        "batch_size": 32,
        "lr": 0.01,
        "optimizer": "adam",
        "tag": None,
    }


@pytest.mark.parametrize(
    ("declared", "raw", "expected"),
    [
        ({"name": "p", "type": "int"}, "3", 3),
        ({"name": "p", "type": "int"}, " 1e3 ", 1000),
        ({"name": "p", "type": "int"}, 4.0, 4),
        ({"name": "p", "type": "float"}, "0.5", 0.5),
        ({"name": "p", "type": "float"}, 2, 2.0),
        ({"name": "p", "type": "bool"}, "true", True),
        ({"name": "p", "type": "bool"}, "on", True),
        ({"name": "p", "type": "bool"}, "False", False),
        ({"name": "p", "type": "str"}, "", ""),
        ({"name": "p", "type": "int", "choices": [1, 2, 4]}, "4", 4),
        ({"name": "p", "type": "choice", "choices": [0.5, True, "x"]}, "0.5", 0.5),
        ({"name": "p", "type": "choice", "choices": [0.5, True, "x"]}, "true", True),
    ],
)
def test_form_strings_and_numbers_are_converted_to_the_declared_type(declared, raw, expected):
    value = validate_values(params(declared), {"p": raw}, OWNER)["p"]
    assert value == expected and type(value) is type(expected)


def test_an_empty_form_field_means_the_default_for_a_non_str_parameter():
    assert validate_values(params(BATCH), {"batch_size": ""}, OWNER) == {"batch_size": 32}


def test_a_bool_is_not_accepted_as_an_int():
    with pytest.raises(
        InvalidInput,
        match=re.escape("parameter 'batch_size' of model 'M' expects int in [1, 512], got true"),
    ):
        validate_values(params(BATCH), {"batch_size": True}, OWNER)


@pytest.mark.parametrize(
    ("raw", "got"),
    [("abc", "'abc'"), (0, "0"), (513, "513"), (3.5, "3.5"), ([3], "[3]")],
)
def test_a_wrong_value_names_parameter_owner_expectation_and_value(raw, got):
    message = f"parameter 'batch_size' of model 'M' expects int in [1, 512], got {got}"
    with pytest.raises(InvalidInput, match="^" + re.escape(message) + "$"):
        validate_values(params(BATCH), {"batch_size": raw}, OWNER)


def test_a_value_outside_the_choices_names_them():
    message = "parameter 'optimizer' of model 'M' expects one of 'adam', 'sgd', got 'rmsprop'"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        validate_values(params(OPT), {"optimizer": "rmsprop"}, OWNER)


def test_an_unknown_parameter_names_the_known_ones():
    message = "unknown parameter 'x' for model 'M'; expected one of: batch_size, lr"
    with pytest.raises(InvalidInput, match="^" + re.escape(message) + "$"):
        validate_values(params(BATCH, LR), {"x": 1}, OWNER)


def test_any_parameter_is_unknown_for_an_owner_without_parameters():
    message = "unknown parameter 'x' for model 'M'; it takes no parameters"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        validate_values([], {"x": 1}, OWNER)


def test_a_missing_or_null_required_parameter_is_named_with_its_expectation():
    declared = params({"name": "seed", "type": "int", "range": [0, 9]})
    message = "missing required parameter 'seed' of model 'M' (int in [0, 9])"
    for values in ({}, {"seed": None}):
        with pytest.raises(InvalidInput, match=re.escape(message)):
            validate_values(declared, values, OWNER)


def test_all_problems_are_reported_in_one_message_joined_by_semicolons():
    declared = params(BATCH, LR, OPT, {"name": "seed", "type": "int"})
    with pytest.raises(InvalidInput) as raised:
        validate_values(declared, {"x": 1, "batch_size": "abc", "lr": 5, "optimizer": "sgd"}, OWNER)
    problems = [
        "unknown parameter 'x' for model 'M'; expected one of: batch_size, lr, optimizer, seed",
        "parameter 'batch_size' of model 'M' expects int in [1, 512], got 'abc'",
        "parameter 'lr' of model 'M' expects float in [1e-05, 1.0], got 5",
        "missing required parameter 'seed' of model 'M' (int)",
    ]
    assert str(raised.value) == "; ".join(problems)


def test_values_that_are_not_an_object_are_refused():
    with pytest.raises(
        InvalidInput,
        match=re.escape("parameters for model 'M' must be an object of name -> value, got [1, 2]"),
    ):
        validate_values(params(BATCH), [1, 2], OWNER)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["nan", "inf", float("-inf")])
def test_a_float_parameter_refuses_nan_and_infinity(raw):
    message = "parameter 'p' of model 'M' expects float, got"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        validate_values(params({"name": "p", "type": "float"}), {"p": raw}, OWNER)
